"""The crawl frontier: a crash-safe, shareable URL queue per source.

Revision ID: 0002_frontier
Revises: 80eec2c10a0a
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_frontier"
down_revision = "80eec2c10a0a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frontier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=300), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lastmod", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier")),
        sa.UniqueConstraint("source", "url", name=op.f("uq_frontier_source_url")),
    )
    op.create_index("ix_frontier_source_state_priority", "frontier", ["source", "state", "priority"])


def downgrade() -> None:
    op.drop_index("ix_frontier_source_state_priority", table_name="frontier")
    op.drop_table("frontier")
