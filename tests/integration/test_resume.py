"""kill -9 mid-crawl, then resume: nothing already fetched is lost, nothing is stored twice."""

from __future__ import annotations

import os
import random
import signal
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


def crawl_command(site: GeneratedSite, database_url: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"start_urls={site.base_url}/", "-a", "source=generated",
        "-s", f"NEWSDESK_DATABASE_URL={database_url}",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "NEWSDESK_STORE_BATCH_SIZE=20",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip


def stored_rows(database_url: str) -> int:
    if not Path(database_url.removeprefix("sqlite:///")).exists():
        return 0
    try:
        return counts(database_url)["rows"]
    except sa.exc.OperationalError:  # the crawl has not created the schema yet
        return 0


def counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                "rows": conn.scalar(sa.text("SELECT count(*) FROM articles")),
                "unfinished": conn.scalar(sa.text("SELECT count(*) FROM frontier WHERE state IN ('pending', 'leased')")),
            }
    finally:
        engine.dispose()


def test_kill_9_at_random_moments_then_resume_stores_every_article_once(sqlite_url):
    rng = random.Random(20261124)
    stored_before_kill = []
    with GeneratedSite(pages=PAGES) as site:
        for _ in range(3):
            process = subprocess.Popen(
                crawl_command(site, sqlite_url), cwd=REPO, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            # Kill at a random point of progress: once 30 to 80 more articles are stored, plus a
            # random fraction of a second so the kill lands anywhere in the pipeline.
            target = (stored_before_kill[-1] if stored_before_kill else 0) + rng.randint(30, 80)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and process.poll() is None and stored_rows(sqlite_url) < target:
                time.sleep(0.05)
            time.sleep(rng.uniform(0, 0.5))
            os.killpg(process.pid, signal.SIGKILL)  # the crawl and its extraction workers
            process.wait()
            stored_before_kill.append(counts(sqlite_url)["rows"])

        finished = subprocess.run(crawl_command(site, sqlite_url), cwd=REPO, capture_output=True, text=True, timeout=300)
        assert finished.returncode == 0, finished.stderr[-3000:]

    # The kills really landed mid-crawl, and each restart made progress.
    assert 0 < stored_before_kill[0] < PAGES
    assert stored_before_kill == sorted(stored_before_kill)
    final = counts(sqlite_url)
    assert final == {"rows": PAGES, "unfinished": 0}
    assert duplicate_stories(sqlite_url) == 0
