"""Article Markdown: the body with its sub-headings, lists, block quotes and tables kept, beside the
plain text, read in the same extraction pass. Rows stored before it have none (NULL).

Revision ID: 0013_article_markdown
Revises: 0012_store_locks_workers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_article_markdown"
down_revision = "0012_store_locks_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column is a plain ALTER TABLE on SQLite too: the table and its full-text triggers stay.
    with op.batch_alter_table("articles", recreate="never") as batch:
        batch.add_column(sa.Column("markdown", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles", recreate="never") as batch:
        batch.drop_column("markdown")
