"""Frontier leases that heal: two crawl processes on one PostgreSQL frontier against a loopback site.

A live worker renews its leases (a heartbeat), so no other worker takes its URLs however long they
wait in its queue; a worker that stops renewing loses them to the others within the lease time,
in the same run, and every story is still stored once.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from support.stories import duplicate_stories

from crawler.demo.generated import GeneratedSite

REPO = Path(__file__).resolve().parents[2]


def crawl_command(site: GeneratedSite, database_url: str, *, lease_seconds: float, delay: float, batch: int) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"start_urls={site.base_url}/", "-a", "source=shared",
        "-s", f"NEWSDESK_DATABASE_URL={database_url}",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "NEWSDESK_EXTRACT_WORKERS=1",
        "-s", f"NEWSDESK_FRONTIER_LEASE_SECONDS={lease_seconds}",
        "-s", f"NEWSDESK_FRONTIER_BATCH={batch}",
        "-s", f"DOWNLOAD_DELAY={delay}",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip


def query(database_url: str, sql: str, **params) -> list[sa.Row]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    except sa.exc.ProgrammingError:  # no schema yet: the first worker is still creating it
        return []
    finally:
        engine.dispose()


def article_fetches(database_url: str) -> collections.Counter[str]:
    """How many times each article URL was fetched, by any worker (hubs are fetched by every run)."""
    rows = query(database_url, "SELECT url FROM fetch_log WHERE url LIKE '%/news/%'")
    return collections.Counter(url for (url,) in rows)


def leased_by(database_url: str, pid: int) -> list[str]:
    rows = query(
        database_url,
        "SELECT url FROM frontier WHERE state = 'leased' AND lease_owner LIKE :owner",
        owner=f"%:{pid}:%",
    )
    return [url for (url,) in rows]


def in_flight(database_url: str, pid: int) -> bool:
    """The worker has a request on the wire: its host slot is taken in the shared host table."""
    return bool(query(database_url, "SELECT 1 FROM host_fetches WHERE owner LIKE :owner", owner=f"%:{pid}:%"))


def finish(worker: subprocess.Popen, timeout: float = 240) -> None:
    try:
        _, stderr = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise
    assert worker.returncode == 0, stderr[-3000:]


def test_a_live_worker_keeps_its_leases_however_long_its_urls_wait(postgres_url):
    """Leases last 6 s; a worker's 30 leased URLs, fetched one every 0.3 s, wait up to 9 s in
    its queue. Only the heartbeat keeps the other worker from taking and fetching them too. (With
    2 s leases a renewal queued behind a slow batch write on a loaded machine came too late.)"""
    pages = 60
    with GeneratedSite(pages=pages) as site:
        command = crawl_command(site, postgres_url, lease_seconds=6, delay=0.3, batch=30)
        workers = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for worker in workers:
            finish(worker)
    fetches = article_fetches(postgres_url)
    assert len(fetches) == pages
    assert {url: n for url, n in fetches.items() if n > 1} == {}
    assert duplicate_stories(postgres_url) == 0


def test_a_killed_workers_urls_go_to_the_other_within_the_lease_time(postgres_url):
    lease_seconds = 4
    pages = 80
    with GeneratedSite(pages=pages) as site:
        command = crawl_command(site, postgres_url, lease_seconds=lease_seconds, delay=0.1, batch=8)
        survivor = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
        victim = subprocess.Popen(command, cwd=REPO, stderr=subprocess.DEVNULL)
        try:
            held: list[str] = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and victim.poll() is None:
                held = leased_by(postgres_url, victim.pid)
                if held and len(article_fetches(postgres_url)) >= 10 and in_flight(postgres_url, victim.pid):
                    break
                time.sleep(0.05)
            assert held, "the second worker never held a lease"
            # Killed mid-request: its host slot, like its URLs, must free itself within a lease.
            # kill -9, and not reaped until the end: its pid still answers, as the process of a
            # lost machine would be out of sight, so only the lease's expiry can free its URLs.
            os.kill(victim.pid, signal.SIGKILL)
            killed_at = datetime.now(UTC)
            held = leased_by(postgres_url, victim.pid)
            assert held, "the killed worker held no lease"
            finish(survivor, timeout=150)
        finally:
            victim.kill()
            victim.wait()

    (survivor_run,) = query(postgres_url, "SELECT max(id) FROM crawl_runs WHERE status != 'running'")[0]
    taken_over = query(
        postgres_url,
        "SELECT url, state, run_id FROM frontier WHERE url = ANY(:urls)",
        urls=list(held),
    )
    assert {(state, run) for _url, state, run in taken_over} == {("done", survivor_run)}
    fetched_at = dict(
        query(
            postgres_url,
            "SELECT url, max(fetched_at) FROM fetch_log WHERE run_id = :run AND url = ANY(:urls) GROUP BY url",
            run=survivor_run,
            urls=list(held),
        )
    )
    assert set(fetched_at) == set(held)
    # The bound is the lease; the margin covers a busy 2-core machine, not a missing heartbeat
    # expiry (without one they would never be fetched at all).
    assert max(fetched_at.values()) - killed_at < timedelta(seconds=lease_seconds + 30)
    assert len(article_fetches(postgres_url)) == pages
    assert query(postgres_url, "SELECT count(*) FROM articles")[0][0] == pages
    assert duplicate_stories(postgres_url) == 0


def test_crawl_with_workers_shares_one_frontier_and_records_each_worker(postgres_url):
    pages = 60
    with GeneratedSite(pages=pages) as site:
        result = subprocess.run(
            [
                sys.executable, "-m", "crawler.cli", "--db", postgres_url, "crawl", "--url", f"{site.base_url}/",
                "--workers", "2", "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "-s", "AUTOTHROTTLE_ENABLED=false",
                "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-s", "NEWSDESK_FRONTIER_BATCH=4", "-s", "DOWNLOAD_DELAY=0.05",
                "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            ],  # fmt: skip
            cwd=REPO, capture_output=True, text=True, timeout=240,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = query(postgres_url, "SELECT id, worker, status FROM crawl_runs ORDER BY id")
    assert len(runs) == 2 and len({worker for _id, worker, _status in runs}) == 2
    assert {status for _id, _worker, status in runs} == {"finished"}
    assert all(worker.split(":")[1] in result.stdout for _id, worker, _status in runs)
    fetches = article_fetches(postgres_url)
    assert len(fetches) == pages and max(fetches.values()) == 1
    assert duplicate_stories(postgres_url) == 0


def test_crawl_with_workers_on_sqlite_is_one_line_error(sqlite_url):
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", sqlite_url, "crawl", "--url", "http://127.0.0.1:9/", "--workers", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Error: --workers needs PostgreSQL (--db postgresql+psycopg://...): SQLite keeps one writer, on one machine"
    ]
