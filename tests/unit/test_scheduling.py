"""Scheduling without real crawls: cron arithmetic on a fixed clock, and the Scheduler driving
quick stand-in commands (write a marker, hang, ignore SIGTERM) on a throwaway SQLite database."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.scheduling import Scheduler, is_due, next_run
from crawler.sources import Source
from storage import locks, runs
from storage.db import open_database

NOW = datetime(2026, 11, 24, 10, 30, 15, tzinfo=UTC)


# -- cron ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("* * * * *", NOW, datetime(2026, 11, 24, 10, 31, tzinfo=UTC)),
        ("*/15 * * * *", NOW, datetime(2026, 11, 24, 10, 45, tzinfo=UTC)),
        ("*/15 * * * *", datetime(2026, 11, 24, 10, 45, tzinfo=UTC), datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
        ("0 3 * * *", NOW, datetime(2026, 11, 25, 3, 0, tzinfo=UTC)),
        ("30 6 * * 1", NOW, datetime(2026, 11, 30, 6, 30, tzinfo=UTC)),  # NOW is a Tuesday
        ("0 0 1 1 *", NOW, datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_next_run_is_strictly_after(expr, after, expected):
    assert next_run(expr, after) == expected


def test_next_run_works_in_utc_whatever_zone_it_is_given():
    from zoneinfo import ZoneInfo

    berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    assert next_run("0 12 * * *", berlin) == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        next_run("* * * * *", NOW.replace(tzinfo=None))


def test_is_due():
    hourly = "0 * * * *"
    assert is_due(hourly, None, NOW)  # never crawled
    assert is_due(hourly, NOW - timedelta(hours=1), NOW)  # 10:00 fired since 09:30
    assert not is_due(hourly, NOW.replace(minute=0, second=5), NOW)  # started after 10:00
    assert is_due(hourly, NOW.replace(hour=9, minute=0, second=0), NOW.replace(hour=10, minute=0, second=0))


# -- the scheduler with stand-in crawls ----------------------------------------------------------

WRITE_MARKER = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('ran')"
HANG = "import time; time.sleep(60)"
IGNORE_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def source(name: str, schedule: str | None = "0 * * * *", timeout: str | None = None) -> Source:
    return Source(name=name, start_urls=(f"https://{name}.example/",), schedule=schedule, timeout=timeout)


def scheduler_for(url, sources, script, marker_dir: Path | None = None, **options) -> Scheduler:
    def command(src: Source) -> list[str]:
        marker = [str(marker_dir / src.name)] if marker_dir is not None else []
        return [sys.executable, "-c", script, *marker]

    options.setdefault("poll_interval", 0.05)
    return Scheduler({s.name: s for s in sources}, url, command=command, **options)


def all_runs(url) -> list[runs.RunRow]:
    sessions = open_database(url)
    with sessions() as session:
        return sorted(runs.list_runs(session, limit=100), key=lambda r: r.id)


def seed_run(url, source_name: str, started_at: datetime) -> None:
    sessions = open_database(url)
    with sessions.begin() as session:
        runs.record_run(session, source_name, started_at=started_at, status="finished", finished_at=started_at)


def test_once_starts_exactly_the_due_sources(sqlite_url, tmp_path):
    seed_run(sqlite_url, "fresh", NOW.replace(minute=5))  # started after 10:00: not due
    seed_run(sqlite_url, "stale", NOW - timedelta(hours=2))  # 09:00 and 10:00 fired since: due
    sources = [source("fresh"), source("stale"), source("never"), source("manual", schedule=None)]
    scheduler = scheduler_for(sqlite_url, sources, WRITE_MARKER, tmp_path, clock=lambda: NOW)

    assert [s.name for s in scheduler.due()] == ["stale", "never"]
    results = scheduler.run(once=True)

    assert sorted(p.name for p in tmp_path.iterdir() if not p.suffix) == ["never", "stale"]
    assert sorted((r.source, r.status, r.returncode) for r in results) == [
        ("never", "finished", 0),
        ("stale", "finished", 0),
    ]
    # A stand-in logs no run of its own: the scheduler records each one so none goes missing.
    recorded = [(r.source, r.status) for r in all_runs(sqlite_url)[2:]]
    assert sorted(recorded) == [("never", "finished"), ("stale", "finished")]
    assert not scheduler.due()  # their slot is used up
    sessions = open_database(sqlite_url)
    with sessions() as session:
        assert locks.holder(session, "stale") is None  # released


def test_next_runs_for_list(sqlite_url, tmp_path):
    seed_run(sqlite_url, "fresh", NOW.replace(minute=5))
    scheduler = scheduler_for(sqlite_url, [source("fresh"), source("never")], WRITE_MARKER, tmp_path, clock=lambda: NOW)
    assert scheduler.next_runs() == {"fresh": datetime(2026, 11, 24, 11, 0, tzinfo=UTC), "never": NOW}


def test_a_source_locked_elsewhere_is_skipped_and_logged(sqlite_url, tmp_path, caplog):
    sessions = open_database(sqlite_url)
    with sessions.begin() as session:
        assert locks.acquire(session, "busy", "other-host:1", timedelta(minutes=5))
    scheduler = scheduler_for(sqlite_url, [source("busy"), source("free")], WRITE_MARKER, tmp_path)

    with caplog.at_level(logging.WARNING, logger="crawler.scheduling"):
        results = scheduler.run(once=True)

    assert [r.source for r in results] == ["free"]
    assert not (tmp_path / "busy").exists()
    assert "skipped busy: it is being crawled by other-host:1" in caplog.text
    # The skipped slot is not queued: busy is not due again until its schedule fires again.
    assert [s.name for s in scheduler.due()] == []


def test_a_slot_that_comes_while_the_source_still_runs_is_skipped(sqlite_url, tmp_path, caplog):
    minutely = source("slow", schedule="* * * * *")
    clock = [NOW]
    scheduler = scheduler_for(sqlite_url, [minutely], HANG, clock=lambda: clock[0], grace=timedelta(seconds=1))
    try:
        assert scheduler.start_due() == ["slow"]
        clock[0] += timedelta(minutes=1)
        with caplog.at_level(logging.WARNING, logger="crawler.scheduling"):
            assert scheduler.start_due() == []
        assert "skipped slow: its crawl started" in caplog.text
        assert list(scheduler.running) == ["slow"]
    finally:
        scheduler.stop()
        while scheduler.running:
            scheduler.supervise()
            time.sleep(0.05)
    assert [(r.source, r.status) for r in scheduler.results] == [("slow", "killed")]


def test_a_hung_crawl_is_killed_at_its_timeout_and_recorded_timed_out(sqlite_url):
    scheduler = scheduler_for(sqlite_url, [source("stuck", timeout="1s")], HANG, grace=timedelta(seconds=2))
    started = time.monotonic()
    [result] = scheduler.run(once=True)

    assert time.monotonic() - started < 10
    assert result.status == "timed-out"
    assert result.returncode == -signal.SIGTERM
    [run] = all_runs(sqlite_url)
    assert (run.source, run.status, run.error) == ("stuck", "timed-out", "timed out after 1s")
    assert run.finished_at is not None


def test_a_crawl_that_ignores_sigterm_is_killed_after_the_grace_period(sqlite_url):
    scheduler = scheduler_for(
        sqlite_url, [source("deaf")], IGNORE_TERM, timeout=timedelta(seconds=1), grace=timedelta(seconds=1)
    )
    [result] = scheduler.run(once=True)
    assert (result.status, result.returncode) == ("timed-out", -signal.SIGKILL)
    assert [r.status for r in all_runs(sqlite_url)] == ["timed-out"]


def test_a_failing_crawl_is_recorded_failed(sqlite_url):
    scheduler = scheduler_for(sqlite_url, [source("broken")], "raise SystemExit(3)")
    [result] = scheduler.run(once=True)
    assert (result.status, result.returncode) == ("failed", 3)
    [run] = all_runs(sqlite_url)
    assert (run.status, run.error) == ("failed", "crawl exited with status 3")


def test_sigterm_to_the_scheduler_stops_its_crawls(sqlite_url):
    scheduler = scheduler_for(sqlite_url, [source("a"), source("b")], HANG, grace=timedelta(seconds=2))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        results = scheduler.run()  # the long-running mode: only the signal ends it
    finally:
        timer.cancel()
    assert sorted((r.source, r.status) for r in results) == [("a", "killed"), ("b", "killed")]
    assert sorted(r.status for r in all_runs(sqlite_url)) == ["killed", "killed"]
    assert scheduler.stopping and not scheduler.running


# -- the command line ----------------------------------------------------------------------------


def test_schedule_command_reports_user_errors_in_one_line(sqlite_url, tmp_path):
    from click.testing import CliRunner

    from crawler.cli.schedule import schedule_command

    runner = CliRunner()
    missing = runner.invoke(schedule_command, ["--sources", str(tmp_path / "nope.toml"), "--once"], obj=sqlite_url)
    assert missing.exit_code == 2 and "sources file not found" in missing.output
    unscheduled = tmp_path / "manual.toml"
    unscheduled.write_text('[[source]]\nname = "a"\nstart_urls = ["https://a.example/"]\n')
    nothing = runner.invoke(schedule_command, ["--sources", str(unscheduled), "--once"], obj=sqlite_url)
    assert nothing.exit_code == 2 and "no source in" in nothing.output
    bad_span = runner.invoke(schedule_command, ["--sources", str(unscheduled), "--timeout", "soon"], obj=sqlite_url)
    assert bad_span.exit_code == 2 and "not a duration" in bad_span.output
    assert "Traceback" not in missing.output + nothing.output + bad_span.output
    assert schedule_command.help and all(p.help for p in schedule_command.params if not p.hidden)


def test_crawl_command_runs_newsdesk_crawl_with_this_interpreter(tmp_path):
    from crawler.scheduling import crawl_command

    command = crawl_command("sqlite:///x.db", tmp_path / "s.toml", ["LOG_LEVEL=WARNING"])
    assert command(source("rt")) == [
        sys.executable, "-m", "crawler.cli", "--db", "sqlite:///x.db",
        "crawl", "rt", "--sources", str(tmp_path / "s.toml"), "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
