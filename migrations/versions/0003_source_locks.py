"""Source locks: one scheduled crawl per source at a time, across machines sharing the database.

Revision ID: 0003_source_locks
Revises: 0002_frontier
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_source_locks"
down_revision = "0002_frontier"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_locks",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_source_locks")),
    )


def downgrade() -> None:
    op.drop_table("source_locks")
