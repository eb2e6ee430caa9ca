"""Full-text search over article titles and bodies.

SQLite: an FTS5 table with external content (``articles_fts``, no copy of the text) kept in step
with ``articles`` by three triggers. PostgreSQL: a stored generated ``tsvector`` column,
``articles.search_vector`` (title weighted A, body B), with a GIN index. Both use no stemming
(FTS5 ``unicode61``, PostgreSQL ``simple``) so a query means the same on either database.

These objects are not described by ``storage.models``; ``storage.models.include_object`` keeps
``alembic check`` from reporting them.

Revision ID: 0004_full_text_search
Revises: 0003_source_locks
"""

from __future__ import annotations

from alembic import op

revision = "0004_full_text_search"
down_revision = "0003_source_locks"
branch_labels = None
depends_on = None

# A tsvector holds at most 1 MB; indexing the first 200,000 characters of a body keeps every
# insert well under it (a longer body is still stored whole, only its tail is not searchable).
PG_SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, left(text, 200000)), 'B')"
)

SQLITE_UPGRADE = (
    (
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    ),
    (
        "CREATE TRIGGER articles_fts_after_insert AFTER INSERT ON articles BEGIN "
        "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END"
    ),
    (
        "CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
        "END"
    ),
    # Only a changed title or body touches the index: a re-fetch that moves last_seen_at does not.
    (
        "CREATE TRIGGER articles_fts_after_update AFTER UPDATE OF title, text ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
        "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END"
    ),
    # Index the articles stored before this revision.
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS articles_fts_after_update",
    "DROP TRIGGER IF EXISTS articles_fts_after_delete",
    "DROP TRIGGER IF EXISTS articles_fts_after_insert",
    "DROP TABLE IF EXISTS articles_fts",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # A generated column fills itself for existing rows as the table is rewritten.
        op.execute(
            f"ALTER TABLE articles ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({PG_SEARCH_VECTOR}) STORED"
        )
        op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
    else:
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    else:
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
