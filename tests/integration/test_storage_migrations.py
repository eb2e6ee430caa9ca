"""Alembic migrations against the models, on SQLite and PostgreSQL; engine settings and errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import (
    DEFAULT_DATABASE_URL,
    DatabaseError,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    open_database,
    open_read_only,
    resolve_database_url,
    upgrade,
)
from storage.models import Base, include_object

REPO_ROOT = Path(__file__).resolve().parents[2]
# Storage's own tables; later revisions (e.g. the crawl frontier) add more.
TABLES = {
    "sources",
    "articles",
    "article_versions",
    "article_urls",
    "clusters",
    "dedup_keys",
    "crawl_runs",
    "fetch_log",
    "dead_letters",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # The same filter as migrations/env.py: full-text search objects are not ORM models.
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_matches_the_models(database_url):
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert TABLES <= _tables(database_url)
    # What `alembic check` does: autogenerate finds nothing to migrate.
    assert _diff(database_url) == []


def test_upgrade_downgrade_upgrade_round_trip(database_url):
    upgrade(database_url)
    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    assert _tables(database_url) == set()
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert TABLES <= _tables(database_url)


def test_upgrade_is_idempotent_and_accepts_an_engine(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_alembic_command_line_from_the_checkout_root(sqlite_url):
    env = {**os.environ, "NEWSDESK_DATABASE_URL": sqlite_url}
    alembic = Path(sys.executable).with_name("alembic")
    for args in (["upgrade", "head"], ["check"]):
        done = subprocess.run(
            [str(alembic), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    assert current_revision(sqlite_url) == head_revision()


def test_upgrade_finds_migrations_from_any_working_directory(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    upgrade(sqlite_url)
    assert current_revision(sqlite_url) == head_revision()


def test_open_database_creates_and_migrates_a_fresh_sqlite_file(tmp_path):
    path = tmp_path / "fresh.db"
    Session = open_database(f"sqlite:///{path}")
    assert path.exists()
    with Session() as session:
        assert session.execute(sa.text("SELECT count(*) FROM articles")).scalar_one() == 0
    Session.kw["bind"].dispose()


def test_sqlite_connection_settings(sqlite_url):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_read_only_engine_refuses_writes(sqlite_url):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url, read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM sources")).scalar_one() == 0
        with pytest.raises(sa.exc.OperationalError, match="readonly"), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO sources (name) VALUES ('x')"))
    finally:
        engine.dispose()


def test_resolve_database_url(monkeypatch):
    monkeypatch.delenv("NEWSDESK_DATABASE_URL", raising=False)
    assert resolve_database_url() == DEFAULT_DATABASE_URL
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "sqlite:///env.db")
    assert resolve_database_url() == "sqlite:///env.db"
    assert resolve_database_url("sqlite:///flag.db") == "sqlite:///flag.db"


def test_not_a_database_file_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(DatabaseError, match="not a database file"):
        open_database(f"sqlite:///{path}")
    # Read-only, SQLite is handed a file: URI; the message names the file as the user did.
    with pytest.raises(DatabaseError) as refused:
        open_read_only(f"sqlite:///{path}")
    assert str(refused.value) == f"not a database file: {path}"


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(DatabaseError, match="directory does not exist"):
        open_database(f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}")


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(DatabaseError, match="cannot connect") as info:
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "\n" not in str(info.value)


def test_bad_url_is_a_clear_error():
    with pytest.raises(DatabaseError, match="not a database URL"):
        make_engine("definitely not a url")


def test_sqlite_reader_can_opt_out_of_the_write_lock(sqlite_url):
    from storage.db import READ_ONLY_BEGIN

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    other = make_engine(sqlite_url)
    try:
        with engine.execution_options(**READ_ONLY_BEGIN).connect() as reader:
            reader.execute(sa.text("SELECT count(*) FROM sources")).scalar_one()
            assert reader.in_transaction()
            # A writer is not blocked by the open deferred read transaction.
            with other.begin() as writer:
                writer.execute(sa.text("INSERT INTO sources (name) VALUES ('x')"))
    finally:
        engine.dispose()
        other.dispose()


def test_postgres_read_only_engine_refuses_writes(postgres_url):
    upgrade(postgres_url)
    engine = make_engine(postgres_url, read_only=True)
    try:
        with pytest.raises(sa.exc.InternalError, match="read-only"), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO sources (name) VALUES ('x')"))
    finally:
        engine.dispose()


def test_threads_of_one_process_can_open_the_database_at_once(database_url):
    """The crawls of one process (newsdesk demo, `crawl a b c`) each open the store from threads of
    their own; Alembic's context is global, so their migrations once trampled on each other."""
    import threading

    upgrade(database_url)
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            open_database(database_url)().close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=open_it, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a migration waits forever on another's lock"
    assert failures == []


def test_opening_a_fresh_file_waits_for_a_writer_in_the_old_journal_mode(tmp_path):
    """SQLite refuses the switch to WAL at once, busy timeout or not, while another connection
    writes to a file still in its first journal mode: one of four worker processes opening a new
    database together failed with "database is locked" while another migrated it."""
    import sqlite3
    import threading

    path = tmp_path / "fresh.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE first_writer (n INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO first_writer VALUES (1)")
    engine = make_engine(f"sqlite:///{path}")
    connected = threading.Event()
    outcome: list[object] = []

    def connect() -> None:
        try:
            with engine.connect() as conn:
                outcome.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)
        connected.set()

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    connected.wait(0.3)  # a failure comes at once; a waiting connection is still waiting
    writer.execute("COMMIT")
    thread.join(timeout=60)
    writer.close()
    engine.dispose()
    assert outcome == ["wal"]
