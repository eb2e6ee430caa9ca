"""Frontier hubs: a URL once known to list stories (a start URL, a home, section or tag page) is
marked, so a later fetch that reads it as an article can never make it done for good.

Revision ID: 0005_frontier_hubs
Revises: 0004_full_text_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_frontier_hubs"
down_revision = "0004_full_text_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a NOT NULL column with ALTER TABLE in every version.
    with op.batch_alter_table("frontier") as batch:
        batch.add_column(sa.Column("hub", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("frontier") as batch:
        batch.drop_column("hub")
