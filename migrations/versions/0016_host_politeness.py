"""Host politeness shared by every crawl process: one row per host (its pace, its Retry-After pause,
its robots.txt) and one row per request on the wire, so N processes on M machines together keep
a host's delay and concurrency and fetch its robots.txt once per expiry.

Revision ID: 0016_host_politeness
Revises: 0015_article_readings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_host_politeness"
down_revision = "0015_article_readings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("host", sa.String(length=300), nullable=False),
        sa.Column("last_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delay_seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("concurrency", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("crawl_delay", sa.Float(), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("robots_status", sa.Integer(), nullable=True),
        sa.Column("robots_body", sa.LargeBinary(), nullable=True),
        sa.Column("robots_error", sa.Text(), nullable=True),
        sa.Column("robots_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("robots_claimed_by", sa.String(length=300), nullable=True),
        sa.Column("robots_claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("host", name="pk_hosts"),
    )
    op.create_table(
        "host_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["host"], ["hosts.host"], name="fk_host_fetches_host_hosts", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_host_fetches"),
    )
    op.create_index("ix_host_fetches_host", "host_fetches", ["host"])


def downgrade() -> None:
    op.drop_index("ix_host_fetches_host", table_name="host_fetches")
    op.drop_table("host_fetches")
    op.drop_table("hosts")
