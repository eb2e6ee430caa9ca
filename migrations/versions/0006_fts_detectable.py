"""The SQLite full-text table declared so datasette and sqlite-utils find it.

Both tools find the FTS table of ``articles`` by the text of its CREATE statement: they look for
``content="articles"`` (or ``content=[articles]``), and ``content='articles'`` as 0004 wrote it
matches neither, so datasette offered no search box and ``?_search=`` returned every row. The
table is recreated with the double-quoted form and its index rebuilt from ``articles``; the
triggers of 0004 name the table, not its definition, and keep working. PostgreSQL has no such
table: nothing to do there.

Revision ID: 0006_fts_detectable
Revises: 0005_frontier_hubs
"""

from __future__ import annotations

from alembic import op

revision = "0006_fts_detectable"
down_revision = "0005_frontier_hubs"
branch_labels = None
depends_on = None

# Columns and tokenizer as in 0004: only how the content table is quoted changes.
FTS_TABLE = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content={content}, content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')"
)


def _recreate(content: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE articles_fts")
    op.execute(FTS_TABLE.format(content=content))
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def upgrade() -> None:
    _recreate('"articles"')


def downgrade() -> None:
    _recreate("'articles'")
