"""Storage faults during a crawl: a write that fails, a database locked by another process, a full disk.

Nothing may be lost silently: an article that cannot be stored is dead-lettered or left not done
in the frontier, so the next run fetches it again; a crawl run again after the fault stores
everything exactly once.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from reliability_kit import RESULTS, run_crawl
from support.stories import duplicate_stories

from crawler.demo.generated import GeneratedSite
from storage.db import open_database

pytestmark = pytest.mark.reliability


def _scalar(database_url: str, sql: str, **params):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def _execute(database_url: str, sql: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _stored_urls(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.text("SELECT canonical_url FROM articles"))}
    finally:
        engine.dispose()


def test_a_store_that_fails_dead_letters_the_article_and_a_rerun_stores_it(tmp_path, results):
    database_url = f"sqlite:///{tmp_path / 'fault.db'}"
    open_database(database_url).kw["bind"].dispose()
    # A real failure inside the store transaction (as a full disk or a constraint would raise).
    _execute(
        database_url,
        "CREATE TRIGGER refuse_story_3 BEFORE INSERT ON articles WHEN NEW.canonical_url LIKE '%/news/3' "
        "BEGIN SELECT RAISE(ABORT, 'injected storage fault'); END",
    )
    with GeneratedSite(pages=8) as site:
        # The injected fault is logged with its traceback: expected here, so not counted as a crash.
        first = run_crawl("store fault", database_url, [site.base_url + "/"], fault_expected=True)
        victim = site.article_url(3)
        dead = _scalar(database_url, "SELECT COUNT(*) FROM dead_letters WHERE url = :u", u=victim)
        state = _scalar(database_url, "SELECT state FROM frontier WHERE url = :u", u=victim)
        stored_first = _stored_urls(database_url)
        _execute(database_url, "DROP TRIGGER refuse_story_3")
        second = run_crawl("store fault", database_url, [site.base_url + "/"])
        stored_second = _stored_urls(database_url)
    expected = {site.article_url(n) for n in range(1, 9)}
    duplicates = duplicate_stories(database_url)
    lost = len(expected - stored_second)
    RESULTS.articles_lost += lost
    RESULTS.duplicate_stories += duplicates
    results.add(
        "fault: store raises on one article",
        "dead-lettered, not done; rerun stores it",
        f"run 1: {len(stored_first)}/8 stored, dead letter {dead}, frontier '{state}'; run 2: {len(stored_second)}/8",
    )
    # The store's failure is an error of run 1: it finished with errors, and says so by its exit code.
    assert first.returncode == 1 and second.returncode == 0, first.stderr[-2000:] + second.stderr[-2000:]
    assert "finished-with-errors: 1 errors (writer 1)" in first.stderr
    assert not second.crash_lines, "\n".join(second.crash_lines[:10])
    assert stored_first == expected - {victim}
    assert dead == 1 and state != "done"
    assert lost == 0 and duplicates == 0


#: Waits until the crawl has stored ``argv[2]`` articles, then holds SQLite's write lock for
#: ``argv[3]`` seconds; prints how many articles were stored when it took the lock and when it let go.
LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        if db.execute("SELECT count(*) FROM articles").fetchone()[0] >= int(sys.argv[2]):
            break
    except sqlite3.OperationalError:
        pass  # the crawl has not made its tables yet
    time.sleep(0.02)
db.execute("BEGIN EXCLUSIVE")
print("locked", db.execute("SELECT count(*) FROM articles").fetchone()[0], flush=True)
time.sleep(float(sys.argv[3]))
held = db.execute("SELECT count(*) FROM articles").fetchone()[0]
db.execute("COMMIT")
print("released", held, flush=True)
"""


def test_database_write_locked_mid_crawl_for_eight_seconds(tmp_path, results):
    """Another process holds the write lock while the crawl is storing: the crawl waits it out and
    stores every story once, and its run finishes."""
    path = tmp_path / "locked.db"
    database_url = f"sqlite:///{path}"
    open_database(database_url).kw["bind"].dispose()
    pages = 40
    with GeneratedSite(pages=pages) as site:
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), "3", "8"], stdout=subprocess.PIPE, text=True)
        # Paced (one page at a time, 0.2 s apart) so that most stories are still to be stored
        # when the lock is taken.
        crawl = run_crawl(
            "locked 8 s", database_url, [site.base_url + "/"],
            {"DOWNLOAD_DELAY": 0.2, "CONCURRENT_REQUESTS_PER_DOMAIN": 1},
        )  # fmt: skip
        output, _ = locker.communicate(timeout=150)
    report = dict(line.split() for line in output.splitlines())
    stored = _stored_urls(database_url)
    expected = {site.article_url(n) for n in range(1, pages + 1)}
    duplicates = duplicate_stories(database_url)
    status = _scalar(database_url, "SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1")
    RESULTS.articles_lost += len(expected - stored)
    RESULTS.duplicate_stories += duplicates
    results.add(
        "fault: SQLite write-locked 8 s mid-crawl",
        f"waits, stores all {pages} once, run finished",
        f"locked at {report.get('locked')}/{pages} stored; {len(stored & expected)}/{pages} stored, "
        f"{duplicates} twice, run {status}",
    )
    # The lock landed while the crawl still had stories to store, and held them off.
    assert 0 < int(report["locked"]) == int(report["released"]) < pages, report
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert not crawl.crash_lines, "\n".join(crawl.crash_lines[:10])
    assert stored == expected and duplicates == 0
    assert status == "finished"


def test_disk_full_stops_the_crawl_cleanly_and_a_rerun_stores_everything(tmp_path, results):
    path = tmp_path / "full.db"
    database_url = f"sqlite:///{path}"
    open_database(database_url).kw["bind"].dispose()
    with GeneratedSite(pages=150) as site:
        # No file may grow past the fresh database + 256 KiB: the WAL fills while the frontier is
        # being written. (SQLite sees EFBIG as "disk I/O error"; a full disk says "disk is full".)
        full = run_crawl(
            "disk full", database_url, [site.base_url + "/"], max_file_bytes=path.stat().st_size + 256 * 1024,
            timeout=90, fault_expected=True,
        )  # fmt: skip
        stored_full = _stored_urls(database_url)
        again = run_crawl("disk full", database_url, [site.base_url + "/"])
    stored = _stored_urls(database_url)
    expected = {site.article_url(n) for n in range(1, 151)}
    duplicates = duplicate_stories(database_url)
    RESULTS.articles_lost += len(expected - stored)
    RESULTS.duplicate_stories += duplicates
    closed = "Spider closed (database-error)" in full.stderr
    results.add(
        "fault: disk full (RLIMIT_FSIZE) mid-crawl",
        "crawl closes (no hang); rerun stores all",
        f"run 1: exit {full.returncode} in {full.seconds:.0f} s, closed cleanly {closed}, {len(stored_full)} stored; "
        f"run 2: {len(stored & expected)}/150, {duplicates} duplicates",
    )
    assert full.returncode == 1 and closed, full.stderr[-3000:]  # the run failed, and says so
    assert len(stored_full) < 150
    assert again.returncode == 0, again.stderr[-3000:]
    assert stored == expected and duplicates == 0
