"""Scrapy's own stats count dropped items by class: a crawl's hubs are not failed fetches."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from crawler.demo.generated import GeneratedSite

REPO = Path(__file__).resolve().parents[2]


def test_hubs_and_robots_are_not_counted_as_failed_fetches_in_scrapy_stats(tmp_path):
    with GeneratedSite(pages=3) as site:
        result = subprocess.run(
            [
                sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={site.base_url}/",
                "-s", f"NEWSDESK_DATABASE_URL=sqlite:///{tmp_path / 'news.db'}",
                "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "-s", "AUTOTHROTTLE_ENABLED=false",
                "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-s", "LOG_LEVEL=INFO",
            ],
            cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    dropped = {name: int(count) for name, count in re.findall(r"'item_dropped_reasons_count/(\w+)': (\d+)", result.stderr)}
    with sqlite3.connect(tmp_path / "news.db") as db:
        logged = dict(db.execute("SELECT outcome, count(*) FROM fetch_log GROUP BY outcome"))
    # The home page, its sections, robots.txt and the sitemap are hubs; the site's dead links, errors.
    assert dropped == {"NotAnArticle": logged["not-an-article"], "FetchFailed": logged["error"]}, (dropped, logged)
