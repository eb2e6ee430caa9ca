"""Renditions: each URL of a story says what it is (canonical, amp, print, paginated, mobile, lite,
syndication, other) and which body was last read there, so that two renditions differing is no
longer taken for an edit of the story.

Revision ID: 0009_renditions
Revises: 0008_site_templates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_renditions"
down_revision = "0008_site_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable or defaulted columns are plain ALTER TABLE on SQLite: the table is never rebuilt.
    with op.batch_alter_table("article_urls", recreate="never") as batch:
        batch.add_column(sa.Column("rendition", sa.String(16), server_default="other", nullable=False))
        batch.add_column(sa.Column("content_hash", sa.String(64), nullable=True))
    # URLs stored before: an article's own canonical URL is its canonical rendition; the URL its
    # body was last read at holds that body. The rest stay "other" until fetched again.
    op.execute(
        "UPDATE article_urls SET rendition = 'canonical' "
        "WHERE url IN (SELECT canonical_url FROM articles WHERE articles.id = article_urls.article_id)"
    )
    op.execute(
        "UPDATE article_urls SET content_hash = "
        "(SELECT content_hash FROM articles WHERE articles.id = article_urls.article_id AND articles.url = article_urls.url)"
    )


def downgrade() -> None:
    with op.batch_alter_table("article_urls", recreate="never") as batch:
        batch.drop_column("content_hash")
        batch.drop_column("rendition")
