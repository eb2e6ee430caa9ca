"""Scale-out: two crawl processes sharing one source's frontier store every article once."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from support.stories import duplicate_stories

from crawler.demo.generated import GeneratedSite
from crawler.discovery.scope import CrawlScope
from crawler.extraction import Article
from crawler.reading import ReadRequest, read_page
from crawler.workers import ReadingPool
from storage.db import make_engine

REPO = Path(__file__).resolve().parents[2]
PAGES = 300


def stored_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM articles"))
    except sa.exc.DBAPIError:  # the first worker has not created the schema yet
        return 0
    finally:
        engine.dispose()


def test_two_workers_share_the_frontier_without_duplicates(database_url):
    with GeneratedSite(pages=PAGES) as site:
        command = [
            sys.executable, "-m", "scrapy", "crawl", "news",
            "-a", f"start_urls={site.base_url}/", "-a", "source=shared",
            "-s", f"NEWSDESK_DATABASE_URL={database_url}",
            "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
            "-s", "AUTOTHROTTLE_ENABLED=false",
            "-s", "NEWSDESK_EXTRACT_WORKERS=1",
            "-s", "NEWSDESK_FRONTIER_BATCH=4",
            # Paced (about 20 pages/s a worker), so the crawl is still going when the second joins.
            "-s", "DOWNLOAD_DELAY=0.05",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "-s", "LOG_LEVEL=WARNING",
        ]  # fmt: skip
        workers = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)]
        # The second worker joins a crawl in progress, as one started on another machine would.
        deadline = time.monotonic() + 120
        while stored_count(database_url) < 20 and time.monotonic() < deadline and workers[0].poll() is None:
            time.sleep(0.1)
        workers.append(subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True))
        for worker in workers:
            _, stderr = worker.communicate(timeout=240)
            assert worker.returncode == 0, stderr[-3000:]

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            articles = conn.scalar(sa.text("SELECT count(*) FROM articles"))
            runs = conn.scalars(sa.text("SELECT id FROM crawl_runs")).all()
            stored_by_run = collections.Counter(
                conn.scalars(sa.text("SELECT run_id FROM fetch_log WHERE outcome = 'stored'")).all()
            )
    finally:
        engine.dispose()
    assert articles == PAGES and duplicate_stories(database_url) == 0
    # Both workers did part of the work, and no article was stored by both.
    assert len(runs) == 2 and all(stored_by_run[run] > 0 for run in runs)
    assert sum(stored_by_run.values()) == PAGES


def test_a_page_read_in_a_worker_process_comes_back_as_read_inline():
    """The request goes to a real worker process and the reading comes back pickled: every field
    of both must cross intact (a field dropped or defaulted on the way shows as a difference)."""
    page = REPO / "tests" / "unit" / "fixtures" / "extraction" / "raw_news_page.html"
    html = page.read_bytes().replace(
        b"</head>", b'<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>', 1
    )
    url = "https://courier.example/news/2024/03/14/harbour-bridge-reopens"
    # Every field away from its default, so a field the worker never received changes the result.
    request = ReadRequest(
        url=url, scope=CrawlScope.from_start_urls(["https://courier.example/"]), http_charset="utf-8",
        max_anchors=5, want_feeds=True, may_be_article=True, is_part=False, extract=True, max_text_chars=400,
    )  # fmt: skip
    inline = read_page(html, request)
    pool = ReadingPool(workers=2, timeout=120)
    pool.start()
    try:
        assert pool.pool is not None, "no worker process was started"
        in_worker = asyncio.run(pool.read(html, request))
    finally:
        pool.close()
    assert isinstance(inline.extraction, Article) and inline.fingerprint is not None
    assert inline.feeds == ("https://courier.example/feed.xml",) and inline.text_cut_from > 0
    assert inline.unread_anchors > 0 and len(inline.links) <= 5
    for field in dataclasses.fields(inline):
        assert getattr(in_worker, field.name) == getattr(inline, field.name), field.name
