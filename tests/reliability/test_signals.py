"""Signals to a running crawl: SIGTERM, SIGINT or SIGHUP to its whole process group stop it within
``SHUTDOWN_SECONDS``, its run marked ``interrupted``, every story fetched before the signal stored
once; a rerun stores the rest. SIGKILL to the crawl process alone leaves none of its helper
processes (fork server, extraction workers, writer, resource tracker) behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from reliability_kit import REPO, RESULTS, descendants, run_crawl
from support.stories import duplicate_stories
from support.processes import running

from crawler.demo.generated import GeneratedSite

pytestmark = pytest.mark.reliability

PAGES = 120
#: Seconds each article takes to serve: the crawl is still busy when the signal comes.
ARTICLE_DELAY = 0.5
SHUTDOWN_SECONDS = 30
ORPHAN_SECONDS = 15
#: Articles stored before the signal is sent: the writer and the workers are all running by then.
STORED_BEFORE_SIGNAL = 3


class SlowSite(GeneratedSite):
    """The demo's generated site, each article slow to serve; remembers which articles it served."""

    def __init__(self, pages: int):
        super().__init__(pages=pages)
        self.served: set[str] = set()
        self.delay = ARTICLE_DELAY

    def render(self, path: str):
        page = super().render(path)
        if page is not None and path.startswith("/news/"):
            time.sleep(self.delay)
            with self.lock:
                self.served.add(self.base_url + path)
        return page

    def served_now(self) -> set[str]:
        with self.lock:
            return set(self.served)


def _start_crawl(database_url: str, start_url: str, stderr_path: Path) -> subprocess.Popen:
    """The crawl as ``run_crawl`` starts it, but in a session (and process group) of its own."""
    settings = {
        "NEWSDESK_DATABASE_URL": database_url,
        "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": "false",
        "AUTOTHROTTLE_ENABLED": "false",
        "NEWSDESK_EXTRACT_WORKERS": 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "NEWSDESK_STORE_FLUSH_SECONDS": 1,
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={start_url}"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    with open(stderr_path, "wb") as stderr:
        return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)


def _query(database_url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    except sa.exc.OperationalError:  # the crawl has not created its tables yet
        return []
    finally:
        engine.dispose()


def _stories(database_url: str) -> list[tuple[str, str]]:
    return _query(database_url, "SELECT canonical_url, text FROM articles")


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.1)


def _describe(pids: set[int]) -> str:
    names = []
    for pid in sorted(pids):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            names.append(f"{pid} {command[:80]}")
        except OSError:
            names.append(str(pid))
    return "; ".join(names)


def _stop(process: subprocess.Popen, known: set[int] = frozenset()) -> None:
    """Whatever a failed test left running: the crawl's group, its helpers, and ``known`` helpers
    (which a killed crawl no longer lists as its own)."""
    helpers = descendants(process.pid) | {pid for pid in known if running(pid)}
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    for pid in helpers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_to_the_crawl_group_stops_it_in_bounded_time_and_loses_nothing(signum, tmp_path, results):
    database_url = f"sqlite:///{tmp_path / 'signal.db'}"
    stderr_path = tmp_path / "crawl.log"
    with SlowSite(PAGES) as site:
        expected = {site.article_url(n) for n in range(1, PAGES + 1)}
        process = _start_crawl(database_url, site.base_url + "/", stderr_path)
        helpers: set[int] = set()
        try:
            _wait_for(lambda: len(_stories(database_url)) >= STORED_BEFORE_SIGNAL, 180, "first stories stored")
            helpers = descendants(process.pid)
            fetched = site.served_now()
            os.killpg(process.pid, signum)
            signalled = time.monotonic()
            try:
                process.wait(timeout=SHUTDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the crawl still ran {SHUTDOWN_SECONDS} s after {signum.name}")
            seconds = time.monotonic() - signalled
            left = set()
            try:
                _wait_for(lambda: not any(map(running, helpers)), ORPHAN_SECONDS, "helper processes gone")
            except AssertionError:
                left = {pid for pid in helpers if running(pid)}
        finally:
            _stop(process, helpers)
        log = stderr_path.read_text(errors="replace")
        [(status,)] = _query(database_url, "SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1")
        stored_first = {url for url, _ in _stories(database_url)}
        duplicates_first = duplicate_stories(database_url)
        site.delay = 0
        rerun = run_crawl(f"rerun after {signum.name}", database_url, [site.base_url + "/"])
    stored = {url for url, _ in _stories(database_url)}
    duplicates = duplicate_stories(database_url)
    lost_at_signal = (fetched & expected) - stored_first
    RESULTS.articles_lost += len(expected - stored)
    RESULTS.duplicate_stories += duplicates
    results.add(
        f"signal: {signum.name} to the crawl's group",
        f"exit < {SHUTDOWN_SECONDS} s, interrupted, nothing lost",
        f"exit {process.returncode} in {seconds:.1f} s, run {status}, {len(stored_first)} stored "
        f"({len(lost_at_signal)} fetched lost), rerun {len(stored)}/{PAGES}, {duplicates} dup, {len(left)} left",
    )
    assert status == "interrupted", log[-3000:]
    assert not lost_at_signal, f"fetched before the signal, not stored: {sorted(lost_at_signal)}"
    assert duplicates_first == 0 and duplicates == 0
    assert not left, f"helpers still running: {_describe(left)}"
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert stored >= expected, f"not stored after the rerun: {sorted(expected - stored)}"


def test_kill_9_of_the_crawl_alone_leaves_no_helper_process(tmp_path, results):
    database_url = f"sqlite:///{tmp_path / 'kill.db'}"
    with SlowSite(PAGES) as site:
        process = _start_crawl(database_url, site.base_url + "/", tmp_path / "crawl.log")
        helpers: set[int] = set()
        try:
            _wait_for(lambda: len(_stories(database_url)) >= STORED_BEFORE_SIGNAL, 180, "first stories stored")
            helpers = descendants(process.pid)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            killed = time.monotonic()
            left: set[int] = set()
            try:
                _wait_for(lambda: not any(map(running, helpers)), ORPHAN_SECONDS, "helper processes gone")
            except AssertionError:
                left = {pid for pid in helpers if running(pid)}
            seconds = time.monotonic() - killed
        finally:
            _stop(process, helpers)
    results.add(
        "signal: kill -9 of the crawl process alone",
        f"no helper left after {ORPHAN_SECONDS} s",
        f"{len(helpers)} helpers; {len(left)} left after {seconds:.1f} s",
    )
    assert len(helpers) >= 3, f"expected a fork server, workers and a writer: {_describe(helpers)}"
    assert not left, f"helpers still running: {_describe(left)}"

