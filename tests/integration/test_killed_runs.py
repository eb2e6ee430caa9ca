"""A run whose process was killed stops saying "running": its heartbeat stops, and the next run settles it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from test_import_warc import fetch_pages, write_warc

from crawler.demo.generated import GeneratedSite
from crawler.warc_import import ImportFilter, import_worker
from storage import runs
from storage.db import make_engine, open_database, upgrade

REPO = Path(__file__).resolve().parents[2]


def test_a_run_silent_past_the_limit_is_settled_at_its_last_heartbeat(database_url):
    sessions = open_database(database_url)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with sessions.begin() as session:
        killed = runs.start_run(session, "a", started_at=start)
        alive = runs.start_run(session, "b", started_at=start)
        closed = runs.start_run(session, "c", started_at=start)
        runs.finish_run(session, closed, status="finished", counts={"stored": 1}, finished_at=start)
        runs.beat(session, killed, now=start + timedelta(minutes=2))
        runs.beat(session, alive, now=start + timedelta(minutes=25))
    later = start + timedelta(minutes=30)
    with sessions.begin() as session:
        assert runs.is_silent(runs.get_run(session, killed), now=later)
        assert not runs.is_silent(runs.get_run(session, alive), now=later)
        assert runs.settle_abandoned_runs(session, now=later) == [killed]
    with sessions() as session:
        settled = runs.get_run(session, killed)
        assert settled.status == "interrupted" and settled.finished_at == start + timedelta(minutes=2)
        assert "without closing" in settled.error
        assert runs.get_run(session, alive).status == "running"
        assert runs.get_run(session, closed).status == "finished"


def test_a_run_whose_process_on_this_machine_is_gone_is_settled_at_once(database_url):
    """A crawl run again right after kill -9 listed its killed run as "running" for ten minutes."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid names no process now
    sessions = open_database(database_url)
    with sessions.begin() as session:
        killed = runs.start_run(session, "a", worker=f"{socket.gethostname()}:{gone.pid}")
        here = runs.start_run(session, "b", worker=f"{socket.gethostname()}:{os.getpid()}")
        elsewhere = runs.start_run(session, "c", worker=f"another-{socket.gethostname()}:{gone.pid}")
    with sessions.begin() as session:
        assert runs.settle_abandoned_runs(session) == [killed]
    with sessions() as session:
        assert runs.get_run(session, killed).status == "interrupted"
        assert "its process is gone" in runs.get_run(session, killed).error
        assert {runs.get_run(session, run_id).status for run_id in (here, elsewhere)} == {"running"}


def test_a_heartbeat_does_not_revive_a_closed_run(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = runs.start_run(session, "a")
        runs.finish_run(session, run_id, status="finished", counts={})
        runs.beat(session, run_id, now=datetime.now(UTC) + timedelta(hours=1))
    with sessions() as session:
        assert not runs.is_silent(runs.get_run(session, run_id), now=datetime.now(UTC) + timedelta(days=1))


def test_an_import_settles_silent_runs_and_beats_while_it_writes(database_url, tmp_path):
    with GeneratedSite(pages=2) as site:
        path = tmp_path / "a.warc.gz"
        write_warc(path, fetch_pages(site, [1, 2]))
    upgrade(database_url)
    sessions = open_database(database_url)
    with sessions.begin() as session:
        killed = runs.start_run(session, "killed", started_at=datetime.now(UTC) - timedelta(hours=1))
    assert import_worker(database_url, [str(path)], ImportFilter(source="imported"))["stored"] == 2
    with sessions() as session:
        assert runs.get_run(session, killed).status == "interrupted"
        [imported] = [run for run in runs.list_runs(session) if run.source == "imported"]
        assert imported.status == "finished" and imported.seen_at > imported.started_at


def newsdesk(database_url: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "crawler.cli", "--db", database_url, *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def crawl_command(site: GeneratedSite, database_url: str) -> list[str]:
    return [
        sys.executable, "-m", "crawler.cli", "--db", database_url, "crawl", "--url", f"{site.base_url}/",
        "--source", "generated",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "DOWNLOAD_DELAY=0.05",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        # A beat every second, so the test sees one long before the crawl ends.
        "-s", "NEWSDESK_FRONTIER_LEASE_SECONDS=3",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip


def run_rows(database_url: str) -> list[dict]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, status, started_at, seen_at FROM crawl_runs ORDER BY id"))
            return [dict(row._mapping) for row in rows]
    except sa.exc.OperationalError:  # the crawl has not made its tables yet
        return []
    finally:
        engine.dispose()


def test_a_crawl_killed_with_sigkill_is_shown_silent_then_settled_by_the_next(sqlite_url):
    with GeneratedSite(pages=200) as site:
        process = subprocess.Popen(
            crawl_command(site, sqlite_url), cwd=REPO, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            rows = run_rows(sqlite_url)
            if rows and rows[0]["seen_at"] != rows[0]["started_at"]:
                break  # it has beaten at least once
            time.sleep(0.1)
        assert process.poll() is None, "the crawl ended before it was killed"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        [killed] = run_rows(sqlite_url)
        assert killed["status"] == "running" and killed["seen_at"] != killed["started_at"]

        # Still within the limit it is running as far as anyone can tell; past it, it is silent.
        listed = json.loads(newsdesk(sqlite_url, "runs", "--format", "json").stdout)
        assert listed[0]["status"] == "running"
        engine = make_engine(sqlite_url)
        with engine.begin() as conn:  # eleven minutes pass
            conn.execute(sa.text("UPDATE crawl_runs SET started_at = :t, seen_at = :t"),
                         {"t": datetime.now(UTC) - timedelta(minutes=11)})  # fmt: skip
        engine.dispose()
        table = newsdesk(sqlite_url, "runs")
        assert table.returncode == 0 and "silent since" in table.stdout, table.stdout

        again = subprocess.run(crawl_command(site, sqlite_url), cwd=REPO, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-3000:]
    statuses = [row["status"] for row in run_rows(sqlite_url)]
    assert statuses == ["interrupted", "finished"]
    shown = newsdesk(sqlite_url, "runs", "show", str(killed["id"]))
    assert "interrupted" in shown.stdout and "without closing" in shown.stdout
