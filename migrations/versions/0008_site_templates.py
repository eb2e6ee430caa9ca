"""Site templates learned while crawling, and re-extractions.

``site_profiles`` / ``site_profile_blocks``: each source's story-page text blocks with the number of
pages showing them (``storage.site_profiles``). ``reextractions``: a stored story read again, with
the values it changed (``storage.reextraction``): not a new version.

Revision ID: 0008_site_templates
Revises: 0007_removed_stories
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_site_templates"
down_revision = "0007_removed_stories"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "site_profiles",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("matured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_site_profiles_source_id_sources", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source_id", name="pk_site_profiles"),
    )
    op.create_table(
        "site_profile_blocks",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("pages_before", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profiled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_site_profile_blocks_source_id_sources", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source_id", "block_hash", name="pk_site_profile_blocks"),
    )
    op.create_index(
        "ix_site_profile_blocks_source_id_profiled_at", "site_profile_blocks", ["source_id", "profiled_at"]
    )
    op.create_table(
        "reextractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extractor_version", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("previous", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_reextractions_article_id_articles", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reextractions"),
    )
    op.create_index("ix_reextractions_article_id", "reextractions", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_reextractions_article_id", table_name="reextractions")
    op.drop_table("reextractions")
    op.drop_index("ix_site_profile_blocks_source_id_profiled_at", table_name="site_profile_blocks")
    op.drop_table("site_profile_blocks")
    op.drop_table("site_profiles")
