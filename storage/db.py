"""Engines, sessions and migrations for the newsdesk database (SQLite or PostgreSQL).

SQLite is tuned for several writer processes: WAL, a 30 s busy timeout, foreign keys on, and
``BEGIN IMMEDIATE`` for every transaction of a writable engine, so a writer takes the write lock up
front instead of failing with "database is locked" when it upgrades a read lock later.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import random
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "DEFAULT_DATABASE_URL",
    "READ_ONLY_BEGIN",
    "DatabaseError",
    "current_revision",
    "dialect_insert",
    "dialect_name",
    "downgrade",
    "head_revision",
    "is_outage",
    "make_engine",
    "open_database",
    "open_read_only",
    "require_existing",
    "resolve_database_url",
    "run_in_transaction",
    "upgrade",
]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///newsdesk.db"
DATABASE_URL_ENV = "NEWSDESK_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option naming the statement that opens a SQLite transaction. Writable engines use
# BEGIN IMMEDIATE; pass READ_ONLY_BEGIN for streaming reads that must not block writers:
#     readers = sessionmaker(engine.execution_options(**READ_ONLY_BEGIN))
SQLITE_BEGIN_OPTION = "sqlite_begin"
READ_ONLY_BEGIN = {SQLITE_BEGIN_OPTION: "BEGIN"}

T = TypeVar("T")


class DatabaseError(Exception):
    """A database problem explained in one line, fit for a CLI error message."""


def resolve_database_url(explicit: str | None = None) -> str:
    """The URL to use: ``explicit``, else ``$NEWSDESK_DATABASE_URL``, else the local SQLite file.

    A plain file path (``demo.db``, ``/data/news.db``) means a SQLite file, as sqlite-utils and
    datasette read it.
    """
    url = explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    return url if "://" in url or url.startswith("sqlite:") else f"sqlite:///{url}"


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r}") from exc


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url`` with newsdesk's connection settings (see the module docstring)."""
    parsed = _parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _make_sqlite_engine(parsed, read_only=read_only)
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise DatabaseError(f"no driver for {parsed.drivername!r}: {exc}") from exc
    if read_only and parsed.get_backend_name() == "postgresql":
        engine = engine.execution_options(postgresql_readonly=True)
    return engine


def _make_sqlite_engine(url: URL, *, read_only: bool) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    connect_args: dict[str, object] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if read_only:
        if in_memory:
            raise DatabaseError("a read-only connection needs a database file, not :memory:")
        if not Path(database).exists():
            raise DatabaseError(f"database file not found: {database}")
        # A URI filename: SQLite refuses every write on this connection.
        path = Path(database).absolute()
        uri = f"file:{path.as_posix()}?mode=ro"
        if not os.access(path.parent, os.W_OK) and not Path(f"{path}-shm").exists():
            # A WAL reader needs a -shm file; where none exists and none can be made, no writer
            # has the database open, and SQLite can read the file as it is.
            uri += "&immutable=1"
        url = url.set(database=uri)
        url = url.update_query_dict({"uri": "true"})
    elif not in_memory:
        parent = Path(database).absolute().parent
        if not parent.is_dir():
            raise DatabaseError(f"directory does not exist for database file: {database}")
    engine = sa.create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take transaction control away from pysqlite so that we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not read_only and not in_memory:
                _enter_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    default_begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A long read on a writable engine can opt out of taking the write lock:
        # engine.execution_options(sqlite_begin="BEGIN") (see READ_ONLY_BEGIN).
        conn.exec_driver_sql(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, default_begin))

    return engine


def _enter_wal(cursor) -> None:
    """Switch the file to WAL, waiting as the busy timeout would for a writer in the old journal mode.

    SQLite answers the switch with "database is locked" at once, without calling its busy handler,
    while another connection holds the write lock of a file not yet in WAL: processes that open a
    fresh file together (workers, a crawl beside ``import-warc``) then failed while one migrated it.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def dialect_name(session_or_connection: Session | sa.Connection) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    if isinstance(session_or_connection, sa.Connection):
        return session_or_connection.dialect.name
    return session_or_connection.get_bind().dialect.name


def dialect_insert(session_or_connection: Session | sa.Connection, table):
    """``insert(table)`` of the bound dialect, which has ``on_conflict_do_nothing/do_update``."""
    if dialect_name(session_or_connection) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


# --- migrations -------------------------------------------------------------------------------


def _migrations_dir() -> Path:
    import migrations  # the package shipped in the wheel, not whatever is in the CWD

    directory = Path(migrations.__file__).resolve().parent
    return directory if directory.is_dir() else _unpacked_migrations()


@functools.cache
def _unpacked_migrations() -> Path:
    """The migrations of a zipped egg (a scrapyd deploy), copied out once per process: Alembic
    reads its scripts from a directory."""
    from importlib.resources import files

    target = Path(tempfile.mkdtemp(prefix="newsdesk-migrations-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)

    def copy(source, destination: Path) -> None:
        destination.mkdir()
        for entry in source.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    copy(entry, destination / entry.name)
            else:
                (destination / entry.name).write_bytes(entry.read_bytes())

    copy(files("migrations"), target / "migrations")
    return target / "migrations"


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _migrations_dir().as_posix())
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run_with_connection(url_or_engine: str | Engine, fn: Callable[[sa.Connection], T]) -> T:
    owned = isinstance(url_or_engine, str)
    engine = make_engine(url_or_engine) if owned else url_or_engine
    try:
        with engine.begin() as connection:
            return fn(connection)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(describe_error(exc, engine.url)) from exc
    except sa.exc.DatabaseError as exc:
        raise DatabaseError(describe_error(exc, engine.url)) from exc
    finally:
        if owned:
            engine.dispose()


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (a fresh SQLite file is created).

    ``revision`` is ``head`` or a revision id (or a unique prefix of one); a relative step, an
    unknown id, or a database at a revision this newsdesk does not know is a :class:`DatabaseError`.
    """
    script = ScriptDirectory.from_config(_alembic_config())
    if _RELATIVE_REVISION.search(revision.strip()):
        raise DatabaseError(f"revision {revision!r} is relative; name one (head, or an id from `newsdesk db current`)")
    try:
        script.get_revisions(revision)
    except (CommandError, RevisionError):
        raise DatabaseError(f"no revision {revision!r}; give head or a revision id (see migrations/versions)") from None

    def migrate(connection: sa.Connection) -> None:
        _refuse_unknown_revision(script, MigrationContext.configure(connection).get_current_revision())
        try:
            command.upgrade(_alembic_config(connection), revision)
        except (CommandError, RevisionError) as exc:
            raise DatabaseError(f"cannot upgrade to {revision!r}: {str(exc).splitlines()[0]}") from None

    with _MIGRATING:
        _run_with_connection(url_or_engine, migrate)


#: Alembic keeps the running migration's context in module globals (``alembic.context``, ``op``):
#: two threads migrating at once (the crawls of one process opening their archives) used each
#: other's, failing with KeyError 'script' or waiting forever on PostgreSQL's migration lock.
_MIGRATING = threading.Lock()


_RELATIVE_REVISION = re.compile(r"[+-]\d+$")


def _refuse_unknown_revision(script: ScriptDirectory, current: str | None) -> None:
    """A database migrated by a newer newsdesk is left alone, with a message saying so."""
    if current is None:
        return
    try:
        script.get_revision(current)
    except (CommandError, RevisionError):
        raise DatabaseError(
            f"the database is at revision {current!r}, which this newsdesk does not know: "
            "it was written by a newer newsdesk; upgrade newsdesk to use it"
        ) from None


def downgrade(url_or_engine: str | Engine, revision: str) -> None:
    _run_with_connection(
        url_or_engine, lambda conn: command.downgrade(_alembic_config(conn), revision)
    )


def current_revision(url_or_engine: str | Engine) -> str | None:
    return _run_with_connection(
        url_or_engine, lambda conn: MigrationContext.configure(conn).get_current_revision()
    )


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise DatabaseError("no migrations found")
    return head


def open_database(url: str) -> sessionmaker[Session]:
    """An engine for ``url`` migrated to head, as a ``sessionmaker(expire_on_commit=False)``."""
    engine = make_engine(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


def require_existing(url: str) -> None:
    """Refuse, in one line, a SQLite file that is not there: a command that only works on stored
    articles would otherwise create an empty database and report that it found nothing."""
    parsed = _parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if database in ("", ":memory:"):
        raise DatabaseError("reading needs a database file or server, not an in-memory database")
    if Path(database).is_dir():
        raise DatabaseError(f"{database} is a directory, not a database file")
    if not Path(database).is_file():
        raise DatabaseError(f"no database at {database}: crawl into it first, or run `newsdesk db upgrade`")


def open_read_only(url: str) -> sessionmaker[Session]:
    """Sessions that can only read ``url``, which must exist and be at the newest revision.

    Nothing is migrated and no write lock is taken: SQLite opens the file with ``mode=ro`` (a
    read-only file in a read-only directory works, and a writer holding its lock does not stall
    us under WAL), PostgreSQL runs read-only transactions. A database that is missing or behind
    is one line telling the user to run ``newsdesk db upgrade``.
    """
    require_existing(url)
    engine = make_engine(url, read_only=True)
    current = _run_with_connection(engine, lambda conn: MigrationContext.configure(conn).get_current_revision())
    head = head_revision()
    if current != head:
        engine.dispose()
        _refuse_unknown_revision(ScriptDirectory.from_config(_alembic_config()), current)
        where = "empty" if current is None else f"at revision {current}, behind {head}"
        raise DatabaseError(f"the database is {where}: run `newsdesk db upgrade`")
    return sessionmaker(engine, expire_on_commit=False)


def _file_of(url: URL) -> str:
    """The SQLite file as the user named it, also behind a read-only ``file:...?mode=ro`` URI."""
    database = url.database or ""
    if url.query.get("uri") and database.startswith("file:"):
        return database.removeprefix("file:").split("?", 1)[0]
    return database


def describe_error(exc: BaseException, url: URL | None = None) -> str:
    """A one-line explanation of a database error for people, not a traceback."""
    where = url.render_as_string(hide_password=True) if url is not None else "the database"
    original = getattr(exc, "orig", None) or exc
    message = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    lowered = message.lower()
    if "file is not a database" in lowered:
        return f"not a database file: {_file_of(url) if url is not None else where}"
    if "unable to open database file" in lowered:
        return f"cannot open database file: {_file_of(url) if url is not None else where}"
    if "connection refused" in lowered or "could not connect" in lowered or "connection failed" in lowered:
        return f"cannot connect to database server at {where}: {message}"
    return f"database error ({where}): {message}"


# --- transactions with retry ------------------------------------------------------------------

# PostgreSQL SQLSTATEs after which re-running an idempotent transaction is the right move:
# serialization failure, deadlock, unique violation (a concurrent insert won the race), lock not
# available.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505", "55P03"}
# SQLSTATE classes of an outage, which passes by itself: connection exception, transaction
# rollback, insufficient resources (disk full, too many connections), operator intervention (an
# admin shutdown, a restart), system error. Any other class (22 data exception, 23 integrity, 54
# program limit exceeded such as "index row requires 9040 bytes", 42 syntax or access...) fails
# the same way every time: retrying it only stalls the crawl.
_OUTAGE_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}
# SQLite primary result codes worth waiting out: SQLITE_BUSY, SQLITE_LOCKED.
_SQLITE_BUSY_CODES = {5, 6}


def _is_retryable(exc: sa.exc.DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if sqlstate:
        return sqlstate in _RETRYABLE_SQLSTATES or sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        # Only "database is locked" (SQLITE_BUSY / SQLITE_LOCKED, past the busy timeout) goes away
        # by itself; a full disk or an I/O error does not, and retrying it stalls the crawl.
        return sqlite_code & 0xFF in _SQLITE_BUSY_CODES
    if isinstance(exc, sa.exc.OperationalError):
        # Lost connections on PostgreSQL (no SQLSTATE: the server never answered).
        return True
    return False


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is a database outage that retrying rides out (a lost connection, a lock).

    Anything else, a value the database refuses (DataError, an IntegrityError other than a race,
    a program limit) or one the driver cannot send (UnicodeEncodeError, ValueError), fails the
    same way on every attempt.
    """
    return isinstance(exc, sa.exc.DBAPIError) and _is_retryable(exc)


#: Retries that ride out a database restart (about 13 s of jittered exponential backoff): what a
#: crawl uses, so a PostgreSQL failover or restart mid-crawl loses nothing.
OUTAGE_RETRIES = 8


def run_in_transaction(
    session_factory: sessionmaker[Session],
    fn: Callable[[Session], T],
    *,
    retries: int = 5,
    backoff: float = 0.05,
) -> T:
    """Run ``fn(session)`` in one transaction, re-running it on transient errors.

    ``fn`` must be idempotent (every newsdesk write is an upsert), since a failed attempt is
    rolled back and run again from the start, up to ``retries`` more times with jittered
    exponential backoff.
    """
    attempt = 0
    while True:
        try:
            with session_factory() as session, session.begin():
                return fn(session)
        except sa.exc.DBAPIError as exc:
            if attempt >= retries or not _is_retryable(exc):
                raise
            delay = backoff * (2**attempt) * (0.5 + random.random())
            logger.warning(
                "transaction failed (%s), retry %d/%d in %.2fs",
                type(exc.orig).__name__,
                attempt + 1,
                retries,
                delay,
            )
            time.sleep(delay)
            attempt += 1
