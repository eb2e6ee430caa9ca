"""``scrapy crawl news -O items.jsonl`` writes the articles the run stored, as plain JSON lines,
and Scrapy's log says what became of each page in one short line, never with its HTML."""

from __future__ import annotations

import json

import sqlalchemy as sa

from crawler.items import EXPORTED_FIELDS

#: Longer than any one-line message about a URL; a page's HTML in the log is far longer.
LONGEST_LOG_LINE = 600


def _stored(database_url: str) -> dict[str, str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT canonical_url, title FROM articles")).all()
    finally:
        engine.dispose()
    return dict(rows)


def test_the_feed_holds_each_stored_article_once_and_no_page_bytes(tmp_path, demo_web, scrapy_crawl):
    database_url = f"sqlite:///{tmp_path / 'feed.db'}"
    feed = tmp_path / "items.jsonl"
    crawl = scrapy_crawl(database_url, "-a", f"start_urls={demo_web.base_url}/", "-O", str(feed))
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    stored = _stored(database_url)
    assert stored, crawl.stderr[-2000:]
    # Exactly the stored stories: no AMP or syndicated copy the store found to be a duplicate.
    assert sorted(item["canonical_url"] for item in items) == sorted(stored)
    assert {item["canonical_url"]: item["title"] for item in items} == stored
    assert all(list(item) == [*EXPORTED_FIELDS, "outcome"] and item["outcome"] == "stored" for item in items)
    long_lines = [line[:200] for line in crawl.stderr.splitlines() if len(line) > LONGEST_LOG_LINE]
    assert not long_lines, long_lines[:3]
    assert "<html" not in crawl.stderr.lower() and "body=b'" not in crawl.stderr
    dropped = [line for line in crawl.stderr.splitlines() if "Dropped:" in line]
    assert dropped and all(line.rstrip().endswith(">") for line in dropped), dropped[:3]
