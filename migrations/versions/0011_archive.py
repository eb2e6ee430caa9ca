"""The WARC archive: where each fetch lies (captures) and the files an import leases.

Revision ID: 0011_archive
Revises: 0010_health_signals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_archive"
down_revision = "0010_health_signals"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("refers_to", sa.String(64), nullable=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_captures_article_id_articles", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_captures"),
        sa.UniqueConstraint("record_id", name="uq_captures_record_id"),
    )
    op.create_index("ix_captures_url", "captures", ["url"])
    op.create_index("ix_captures_article_id", "captures", ["article_id"])
    op.create_table(
        "warc_import_files",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lease_owner", sa.String(300), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", JSON, nullable=True),
        sa.PrimaryKeyConstraint("path", name="pk_warc_import_files"),
    )


def downgrade() -> None:
    op.drop_table("warc_import_files")
    op.drop_index("ix_captures_article_id", table_name="captures")
    op.drop_index("ix_captures_url", table_name="captures")
    op.drop_table("captures")
