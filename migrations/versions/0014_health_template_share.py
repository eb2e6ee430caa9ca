"""Site template share in the crawl log: each story's body characters as read and the characters of
it stripped as site template, so ``newsdesk health`` can say what share of a source's text was
template on a day. Both NULL where it was not measured (not a story, no site profile yet, older rows).

Revision ID: 0014_health_template_share
Revises: 0013_article_markdown
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_health_template_share"
down_revision = "0013_article_markdown"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns are a plain ALTER TABLE on SQLite too: the crawl log is not copied.
    with op.batch_alter_table("fetch_log", recreate="never") as batch:
        batch.add_column(sa.Column("body_chars", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("template_chars", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fetch_log", recreate="never") as batch:
        batch.drop_column("template_chars")
        batch.drop_column("body_chars")
