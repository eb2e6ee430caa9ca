"""PostgreSQL restarted mid-crawl, on a throwaway cluster this test creates (the shared server is
left alone): the crawl reconnects, retries its idempotent writes and loses nothing."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.stories import duplicate_stories

from crawler.demo.generated import GeneratedSite

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
PAGES = 400


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def throwaway_postgres():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries are not installed")
    # Not under pytest's tmp_path: the postgres user cannot enter root's private directories.
    tmp_path = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
    data = tmp_path / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp_path, "postgres")
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={tmp_path}"
    # A log file of its own: the server must not hold our pipes open (pg_ctl would never return).
    control = [pg_ctl, "-D", str(data), "-o", options, "-w", "-t", "60", "-l", str(tmp_path / "log")]
    subprocess.run(_as_postgres([*control, "start"]), check=True, capture_output=True, timeout=90)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", control
    finally:
        subprocess.run(_as_postgres([*control, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_postgres_restart_mid_crawl_loses_nothing(throwaway_postgres, results):
    database_url, control = throwaway_postgres
    engine = sa.create_engine(database_url)
    with GeneratedSite(pages=PAGES) as site:
        crawl = subprocess.Popen(
            [
                sys.executable, "-m", "scrapy", "crawl", "news",
                "-a", f"start_urls={site.base_url}/",
                "-s", f"NEWSDESK_DATABASE_URL={database_url}",
                "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
                "-s", "AUTOTHROTTLE_ENABLED=false",
                "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
                "-s", "NEWSDESK_STORE_BATCH_SIZE=10",
                "-s", f"NEWSDESK_ARCHIVE_DIR={Path(control[-1]).parent / 'archive'}",
                "-s", "LOG_LEVEL=WARNING",
            ],
            cwd=REPO, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        stored_before = 0
        while time.monotonic() < deadline and crawl.poll() is None:
            try:
                with engine.connect() as conn:
                    stored_before = conn.scalar(sa.text("SELECT count(*) FROM articles"))
            except sa.exc.DBAPIError:
                stored_before = 0
            if stored_before >= 50:
                break
            time.sleep(0.2)
        engine.dispose()
        subprocess.run(_as_postgres([*control, "-m", "fast", "restart"]), check=True, capture_output=True, timeout=90)
        _, stderr = crawl.communicate(timeout=300)

    with engine.connect() as conn:
        rows = conn.scalar(sa.text("SELECT count(*) FROM articles"))
        unfinished = conn.execute(
            sa.text("SELECT url, state, kind FROM frontier WHERE state IN ('pending', 'leased')")
        ).all()
    engine.dispose()
    duplicates = duplicate_stories(database_url)
    ok = crawl.returncode == 0 and rows == PAGES and duplicates == 0 and not unfinished
    results.crawls += 1
    results.crashes += crawl.returncode != 0
    results.articles_lost += PAGES - rows
    results.duplicate_stories += duplicates
    results.add(
        "postgres restart mid-crawl",
        "reconnect, every article stored once",
        f"restarted after {stored_before} stored; {rows}/{PAGES} stored, exit {crawl.returncode}",
        passed=ok,
    )
    assert 0 < stored_before < PAGES, "the restart did not land mid-crawl"
    assert crawl.returncode == 0, stderr[-3000:]
    assert rows == PAGES and duplicates == 0
    assert unfinished == [], "URLs left unfinished"
