"""Removed stories: when a re-fetch found a stored story gone (404, 410, or a redirect to the
site's home page). The story and its versions are kept; the read commands hide it by default.

Revision ID: 0007_removed_stories
Revises: 0006_fts_detectable
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_removed_stories"
down_revision = "0006_fts_detectable"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode, which SQLite needs only for what ALTER TABLE cannot do: a nullable column and an
    # index are plain ALTER / CREATE INDEX there, so the table (and its full-text triggers) stays.
    with op.batch_alter_table("articles", recreate="never") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_articles_removed_at", ["removed_at"])


def downgrade() -> None:
    # Never recreated either: a rebuilt table would lose the full-text triggers (SQLite 3.35+ drops a column).
    with op.batch_alter_table("articles", recreate="never") as batch:
        batch.drop_index("ix_articles_removed_at")
        batch.drop_column("removed_at")
