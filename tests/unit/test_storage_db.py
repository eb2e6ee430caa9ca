"""run_in_transaction: transient failures are retried, others are not (no database needed)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage.db import run_in_transaction


class _Session:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def begin(self):
        return self


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _factory(log):
    return lambda: _Session(log)


def _failing(errors):
    calls = []

    def fn(session):
        calls.append(session)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    return fn, calls


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "23505"])
def test_retries_serialization_deadlock_and_unique_violation(sqlstate):
    error = sa.exc.DBAPIError("INSERT", {}, _PgError(sqlstate))
    fn, calls = _failing([error, error])
    assert run_in_transaction(_factory([]), fn, retries=3, backoff=0) == "done"
    assert len(calls) == 3


def test_retries_operational_errors_then_gives_up():
    error = sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
    fn, calls = _failing([error] * 10)
    with pytest.raises(sa.exc.OperationalError):
        run_in_transaction(_factory([]), fn, retries=2, backoff=0)
    assert len(calls) == 3


@pytest.mark.parametrize(("code", "message", "retried"), [
    (5, "database is locked", True),
    (6, "database table is locked", True),
    (13, "database or disk is full", False),
    (778, "disk I/O error", False),  # SQLITE_IOERR_WRITE, e.g. a file size limit
])  # fmt: skip
def test_sqlite_errors_are_retried_only_when_locked(code, message, retried):
    import sqlite3

    original = sqlite3.OperationalError(message)
    original.sqlite_errorcode = code
    fn, calls = _failing([sa.exc.OperationalError("INSERT", {}, original)] * 10)
    with pytest.raises(sa.exc.OperationalError):
        run_in_transaction(_factory([]), fn, retries=2, backoff=0)
    assert len(calls) == (3 if retried else 1)


def test_does_not_retry_other_errors():
    error = sa.exc.IntegrityError("INSERT", {}, _PgError("23503"))  # foreign key violation
    fn, calls = _failing([error])
    with pytest.raises(sa.exc.IntegrityError):
        run_in_transaction(_factory([]), fn, retries=5, backoff=0)
    assert len(calls) == 1


def test_storage_never_imports_the_crawler_or_scrapy():
    import subprocess
    import sys

    code = (
        "import sys, storage.db, storage.models, storage.articles, storage.dedup, storage.runs, "
        "storage.queries, migrations; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('crawler', 'scrapy', 'twisted')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
