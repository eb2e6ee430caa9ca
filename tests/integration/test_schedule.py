"""Scheduling for real: source locks on SQLite and PostgreSQL, `newsdesk schedule --once` crawling
the demo web in subprocesses, SIGTERM to a scheduler mid-crawl, and a deploy to a real scrapyd."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from crawler.cli.schedule import schedule_command
from storage import locks, runs
from storage.db import make_engine, open_database

REPO = Path(__file__).resolve().parents[2]
TTL = timedelta(minutes=5)
DEMO_CRAWL_SETTINGS = ("NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "AUTOTHROTTLE_ENABLED=false")


# -- locks ---------------------------------------------------------------------------------------


def test_a_lock_excludes_others_until_released_or_expired(database_url):
    sessions = open_database(database_url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        assert locks.acquire(session, "rt", "host-a:1", TTL, now=now)
    with sessions.begin() as session:
        assert not locks.acquire(session, "rt", "host-b:2", TTL, now=now + timedelta(minutes=1))
        assert locks.acquire(session, "bbc", "host-b:2", TTL, now=now)  # other names are free
        assert locks.holder(session, "rt", now=now).owner == "host-a:1"
    with sessions.begin() as session:
        assert not locks.renew(session, "rt", "host-b:2", TTL)
        assert not locks.release(session, "rt", "host-b:2")
        assert locks.renew(session, "rt", "host-a:1", TTL, now=now + timedelta(minutes=4))
    with sessions.begin() as session:  # renewed at +4 min: still held at +6 min
        assert not locks.acquire(session, "rt", "host-b:2", TTL, now=now + timedelta(minutes=6))
    with sessions.begin() as session:
        assert locks.release(session, "rt", "host-a:1")
        assert locks.holder(session, "rt") is None
        assert locks.acquire(session, "rt", "host-b:2", TTL)


def test_a_crashed_holders_lock_expires(database_url):
    sessions = open_database(database_url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        assert locks.acquire(session, "rt", "crashed:1", TTL, now=now)
    later = now + TTL + timedelta(seconds=1)
    with sessions.begin() as session:
        assert locks.holder(session, "rt", now=later) is None
        assert locks.acquire(session, "rt", "heir:2", TTL, now=later)
    with sessions.begin() as session:
        assert locks.holder(session, "rt", now=later).owner == "heir:2"
        assert not locks.renew(session, "rt", "crashed:1", TTL)  # the old holder learns it lost it


def test_racing_acquirers_get_the_lock_exactly_once(database_url):
    sessions = open_database(database_url)
    barrier = threading.Barrier(8)
    winners = []

    def contend(owner: str) -> None:
        barrier.wait()
        with sessions.begin() as session:
            if locks.acquire(session, "rt", owner, TTL):
                winners.append(owner)

    threads = [threading.Thread(target=contend, args=(f"worker:{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1


def test_the_migration_creates_source_locks(database_url):
    open_database(database_url)
    engine = make_engine(database_url)
    try:
        inspector = sa.inspect(engine)
        assert inspector.get_pk_constraint("source_locks")["name"] == "pk_source_locks"
        assert {c["name"] for c in inspector.get_columns("source_locks")} == {
            "name", "owner", "acquired_at", "expires_at"
        }  # fmt: skip
    finally:
        engine.dispose()


# -- the demo web, end to end --------------------------------------------------------------------


def demo_sources(tmp_path: Path, web, names: tuple[str, ...] | None = None) -> Path:
    """sources.demo.toml with {demo} filled in (the crawl subprocesses read the file as it is)."""
    text = (REPO / "sources.demo.toml").read_text(encoding="utf-8").replace("{demo}", web.base_url)
    if names is not None:
        blocks = text.split("[[source]]")
        text = "".join("[[source]]" + b for b in blocks[1:] if any(f'name = "{n}"' in b for n in names))
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_schedule_once_crawls_the_demo_web(sqlite_url, tmp_path, demo_web):
    sources_path = demo_sources(tmp_path, demo_web)
    settings = [arg for s in DEMO_CRAWL_SETTINGS for arg in ("-s", s)]
    log_file = tmp_path / "schedule.log"

    result = CliRunner().invoke(
        schedule_command,
        ["--sources", str(sources_path), "--once", "--log-file", str(log_file), *settings],
        obj=sqlite_url,
    )

    log = log_file.read_text(encoding="utf-8")
    assert result.exit_code == 0, (result.output, log[-3000:])
    sessions = open_database(sqlite_url)
    with sessions() as session:
        recorded = runs.list_runs(session)
        stored = dict(
            session.execute(
                sa.text("SELECT s.name, count(*) FROM articles a JOIN sources s ON s.id = a.source_id GROUP BY s.name")
            ).all()
        )
        held = session.execute(sa.text("SELECT count(*) FROM source_locks")).scalar_one()
    assert sorted(r.source for r in recorded) == ["courier", "ledger", "planet"]
    assert all(r.status in ("finished", "ok") and r.finished_at for r in recorded), recorded
    assert set(stored) == {"courier", "ledger", "planet"} and all(stored.values()), stored
    assert held == 0
    for name in ("planet", "ledger", "courier"):
        assert f"start {name}: pid" in log
        assert f"end {name}: " in log

    # --list shows each source's schedule and last result.
    listing = CliRunner().invoke(schedule_command, ["--sources", str(sources_path), "--list"], obj=sqlite_url)
    assert listing.exit_code == 0, listing.output
    listed = [line for line in listing.output.splitlines() if any(n in line for n in ("planet", "ledger", "courier"))]
    assert len(listed) == 3 and all("* * * * *" in line and "finished" in line for line in listed), listing.output


def test_listing_the_schedule_creates_no_database(tmp_path):
    """--list only reads: a mistyped --db is a one-line error, not a new empty database file."""
    sources_path = tmp_path / "sources.toml"
    sources_path.write_text('[[source]]\nname = "a"\nstart_urls = ["https://a.example/"]\nschedule = "0 * * * *"\n')
    missing = tmp_path / "typo.db"
    listing = CliRunner().invoke(schedule_command, ["--sources", str(sources_path), "--list"], obj=f"sqlite:///{missing}")
    assert listing.exit_code == 1 and f"no database at {missing}" in listing.output, listing.output
    assert not missing.exists()


def run_scheduler(database_url: str, *args: str, **popen) -> subprocess.Popen:
    """`newsdesk schedule` in a process of its own, so a real SIGTERM can be sent to it."""
    code = (
        "import sys; from crawler.cli.schedule import schedule_command; "
        "schedule_command.main(sys.argv[2:], prog_name='newsdesk schedule', obj=sys.argv[1])"
    )
    return subprocess.Popen([sys.executable, "-c", code, database_url, *args], cwd=REPO, **popen)


def test_sigterm_mid_crawl_leaves_a_consistent_database(sqlite_url, tmp_path, demo_web):
    sources_path = demo_sources(tmp_path, demo_web, names=("planet",))
    settings = [arg for s in (*DEMO_CRAWL_SETTINGS, "DOWNLOAD_DELAY=0.3") for arg in ("-s", s)]
    log_file = tmp_path / "schedule.log"
    scheduler = run_scheduler(
        sqlite_url, "--sources", str(sources_path), "--log-file", str(log_file), "--grace", "20s", *settings
    )
    try:
        engine = make_engine(sqlite_url)
        deadline = time.monotonic() + 60
        fetched = 0
        while time.monotonic() < deadline and fetched < 3:  # mid-crawl: some pages in, more to come
            time.sleep(0.2)
            with engine.connect() as conn:
                try:
                    fetched = conn.execute(sa.text("SELECT count(*) FROM fetch_log")).scalar_one()
                except sa.exc.OperationalError:
                    fetched = 0  # not migrated yet
        assert fetched >= 3, log_file.read_text(encoding="utf-8")[-3000:]
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(60) == 0
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
    log = log_file.read_text(encoding="utf-8")
    assert "SIGTERM: stopping 1 running crawl(s)" in log

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT source, status, finished_at FROM crawl_runs")).all()
        assert len(rows) == 1, rows
        source, status, finished_at = rows[0]
        assert source == "planet" and finished_at is not None
        assert status in ("killed", "shutdown", "interrupted", "finished", "ok"), status
        assert conn.execute(sa.text("SELECT count(*) FROM source_locks")).scalar_one() == 0
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        # Every stored article is whole: it has its version and at least one URL.
        assert conn.execute(sa.text(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_versions v WHERE v.article_id = a.id)"
            " OR NOT EXISTS (SELECT 1 FROM article_urls u WHERE u.article_id = a.id)"
        )).scalar_one() == 0  # fmt: skip
    engine.dispose()


# -- scrapyd -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def checkout_copy(destination: Path) -> Path:
    """The checkout's tracked files, as a user's clone has them (scrapyd-deploy writes a setup.py
    into the project it builds; the real checkout stays clean)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            (destination / name).write_bytes(source.read_bytes())
    return destination


def test_scrapyd_deploy_from_the_checkout_runs_the_news_spider(tmp_path, demo_web, database_url):
    """The documented deploy: scrapyd-deploy builds the egg from scrapy.cfg's [deploy] target and
    uploads it; a job crawls into a store migrated beforehand; a failed job shows as failed."""
    pytest.importorskip("scrapyd")
    import configparser
    import json
    import shutil
    import urllib.parse
    import urllib.request

    deploy = configparser.ConfigParser()
    deploy.read(REPO / "scrapy.cfg")
    assert dict(deploy["deploy"]) == {"project": "newsdesk", "url": "http://127.0.0.1:6800/"}
    scrapyd_deploy = shutil.which("scrapyd-deploy", path=str(Path(sys.executable).parent))
    assert scrapyd_deploy, "scrapyd-client is a dev dependency"

    port = free_port()  # the documented 6800 may be in use on a shared machine: only the port differs
    checkout = checkout_copy(tmp_path / "checkout")
    config = (checkout / "scrapy.cfg").read_text().replace("127.0.0.1:6800", f"127.0.0.1:{port}")
    (checkout / "scrapy.cfg").write_text(config)
    workdir = tmp_path / "scrapyd"
    workdir.mkdir()
    (workdir / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {workdir / 'eggs'}\nlogs_dir = {workdir / 'logs'}\nitems_dir =\n"
        f"dbs_dir = {workdir / 'dbs'}\npoll_interval = 0.5\n",
        encoding="utf-8",
    )
    server_log = (workdir / "scrapyd.out").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=workdir, stdout=server_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def call(endpoint: str, data: dict | None = None) -> dict:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        with urllib.request.urlopen(urllib.request.Request(base + endpoint, data=body), timeout=30) as response:
            return json.loads(response.read())

    def run_job(settings: list[str]) -> str:
        job = call("/schedule.json", {
            "project": "newsdesk", "spider": "news", "start_urls": demo_web.site_urls["planet"],
            "setting": [f"NEWSDESK_DATABASE_URL={database_url}", "AUTOTHROTTLE_ENABLED=false", *settings],
        })  # fmt: skip
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if any(j["id"] == job["jobid"] for j in call("/listjobs.json?project=newsdesk")["finished"]):
                return job["jobid"]
            time.sleep(0.5)
        raise AssertionError(f"scrapyd job {job['jobid']} did not finish")

    open_database(database_url)  # the store is migrated before any job runs, as the docs say
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                call("/daemonstatus.json")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((workdir / "scrapyd.out").read_text()[-2000:]) from None
                time.sleep(0.3)
        deployed = subprocess.run(
            [scrapyd_deploy], cwd=checkout, capture_output=True, text=True, timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        assert '"status": "ok"' in deployed.stdout, deployed.stdout
        [egg] = (workdir / "eggs" / "newsdesk").glob("*.egg")
        with zipfile.ZipFile(egg) as packed:
            assert "settings = crawler.settings" in packed.read("EGG-INFO/entry_points.txt").decode()
            assert "migrations/env.py" in packed.namelist()
        assert "news" in call("/listspiders.json?project=newsdesk")["spiders"]

        crawled = run_job(["NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false"])
        # The address guard left on refuses every loopback request: the run fails, and so does the job.
        refused = run_job([])
    finally:
        server.terminate()
        server.wait(30)
        server_log.close()

    scrapyd_log = (workdir / "scrapyd.out").read_text(errors="replace")
    job_logs = "".join(p.read_text(errors="replace")[-3000:] for p in (workdir / "logs").rglob("*.log"))
    assert re.search(rf"Process finished: .*job='{crawled}'", scrapyd_log), scrapyd_log[-3000:]
    assert re.search(rf"Process died: exitstatus=1 .*job='{refused}'", scrapyd_log), scrapyd_log[-3000:]
    sessions = open_database(database_url)
    with sessions() as session:
        stored = session.execute(sa.text("SELECT count(*) FROM articles")).scalar_one()
        statuses = [run.status for run in runs.list_runs(session)]
    assert stored > 0, job_logs
    assert sorted(statuses) == ["failed", "finished"], job_logs
