"""Scale-out: two crawl processes sharing one source's frontier store every article once."""

from __future__ import annotations

import collections
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from support.stories import duplicate_stories

from crawler.demo.generated import GeneratedSite
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
