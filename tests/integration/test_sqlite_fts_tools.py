"""The SQLite store opened by sqlite-utils (whose FTS detection datasette shares) searches.

datasette and sqlite-utils recognise a table's FTS index only by the text of its CREATE
statement; a store they cannot read that way shows no search box and ignores ``?_search=``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlite_utils
from sqlalchemy.orm import sessionmaker

from storage.articles import ArticleIn, store_articles
from storage.db import downgrade, make_engine, upgrade
from storage.queries import ArticleFilter, iter_articles

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FILLER = "council meeting budget schools roads parking library evening residents agreed plan " * 6


def _article(slug: str, title: str, text: str) -> ArticleIn:
    url = f"https://alpha.example/{slug}"
    return ArticleIn(
        source="alpha", url=url, canonical_url=url, title=title, text=text, authors=(), published_at=T0,
        modified_at=None, language="en", description=None, section=None, tags=(), image_url=None,
        word_count=len(text.split()), fetched_at=T0,
    )  # fmt: skip


STORIES = [
    _article("harbour", "Harbour bridge reopens", "The bridge opened at dawn. " + FILLER),
    _article("economy", "Economists see slow growth", "Economic outlook darkens. " + FILLER),
]


def _store(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with sessionmaker(engine).begin() as session:
        store_articles(session, STORIES)
    engine.dispose()


def _search_titles(path: str, query: str) -> list[str]:
    table = sqlite_utils.Database(path)["articles"]
    return [row["title"] for row in table.search(query)]


def test_sqlite_utils_finds_the_fts_table_and_searches_it(sqlite_url, tmp_path):
    _store(sqlite_url)
    path = str(tmp_path / "newsdesk.db")
    assert sqlite_utils.Database(path)["articles"].detect_fts() == "articles_fts"
    assert _search_titles(path, "harbour") == ["Harbour bridge reopens"]


def test_articles_stored_before_the_migration_are_searchable_after_it(sqlite_url, tmp_path):
    """The recreated FTS table is rebuilt from articles: nothing stored earlier drops out of search."""
    # Stored by today's code, then taken back to the schema before the FTS table was recreated.
    _store(sqlite_url)
    downgrade(sqlite_url, "0005_frontier_hubs")
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with sessionmaker(engine)() as session:
        found = [row.title for row in iter_articles(session, ArticleFilter(search="economic"))]
    engine.dispose()
    assert found == ["Economists see slow growth"]
    assert _search_titles(str(tmp_path / "newsdesk.db"), "economic") == ["Economists see slow growth"]
