"""Frontier site evidence for page typing: each hub's template (its elements' class paths,
hashed), and whether the site's frame (menu, footer) links the URL from nearly every page. The
crawl and ``newsdesk extract --db`` type pages with them alike: a short page built like the host's
hubs is a hub, an undated, unsigned page the frame links is a service page.

Revision ID: 0017_frontier_site_evidence
Revises: 0016_host_politeness
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_frontier_site_evidence"
down_revision = "0016_host_politeness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a NOT NULL column with ALTER TABLE in every version.
    with op.batch_alter_table("frontier") as batch:
        batch.add_column(sa.Column("template", sa.Text(), nullable=True))
        batch.add_column(sa.Column("chrome", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("frontier") as batch:
        batch.drop_column("chrome")
        batch.drop_column("template")
