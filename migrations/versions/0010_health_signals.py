"""Publishers' signals per article and per site, and acknowledged source health states.

Health itself is no table: ``storage.health`` reads it from the crawl log and the articles
(28 days of a source are a few thousand rows reached through ``fetch_log.run_id``).

Revision ID: 0010_health_signals
Revises: 0009_renditions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_health_signals"
down_revision = "0009_renditions"
branch_labels = None
depends_on = None

# JSON on SQLite, JSONB on PostgreSQL, fixed here as in 0001.
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "article_signals",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tdm_reserved", sa.Boolean(), nullable=True),
        sa.Column("tdm_policy", sa.Text(), nullable=True),
        sa.Column("tdm_origin", sa.String(length=16), nullable=True),
        sa.Column("noindex", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("noarchive", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("nosnippet", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("noai", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("noimageai", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("content_usage", sa.Text(), nullable=True),
        sa.Column("free", sa.Boolean(), nullable=True),
        sa.Column("paywall_selectors", JSON, nullable=False),
        sa.Column("paywall_truncated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_signals_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_signals")),
    )
    op.create_index(op.f("ix_article_signals_tdm_reserved"), "article_signals", ["tdm_reserved"])
    op.create_index(op.f("ix_article_signals_noarchive"), "article_signals", ["noarchive"])
    op.create_table(
        "site_signals",
        sa.Column("site", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tdmrep", JSON, nullable=True),
        sa.Column("tdmrep_error", sa.Text(), nullable=True),
        sa.Column("robots", JSON, nullable=True),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_site_signals")),
    )
    op.create_table(
        "health_acks",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_health_acks")),
    )


def downgrade() -> None:
    op.drop_table("health_acks")
    op.drop_table("site_signals")
    op.drop_index(op.f("ix_article_signals_noarchive"), table_name="article_signals")
    op.drop_index(op.f("ix_article_signals_tdm_reserved"), table_name="article_signals")
    op.drop_table("article_signals")
