"""Frontier hub templates: each hub's template (its elements' class paths, hashed) is kept, so the
crawl and ``newsdesk extract --db`` both know a short page built like the host's hubs is a hub.

Revision ID: 0016_frontier_hub_templates
Revises: 0015_article_readings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_frontier_hub_templates"
down_revision = "0015_article_readings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("frontier") as batch:
        batch.add_column(sa.Column("template", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("frontier") as batch:
        batch.drop_column("template")
