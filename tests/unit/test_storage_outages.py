"""Which database errors are outages (retried) and which fail the same way every time (not retried)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage.db import is_outage


class _DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def _wrapped(kind: type[sa.exc.DBAPIError], sqlstate: str | None) -> sa.exc.DBAPIError:
    return kind("INSERT ...", {}, _DriverError(sqlstate))


@pytest.mark.parametrize(
    ("kind", "sqlstate"),
    [
        (sa.exc.OperationalError, "08006"),  # connection failure
        (sa.exc.OperationalError, "57P01"),  # admin shutdown (a restart)
        (sa.exc.OperationalError, "53100"),  # disk full
        (sa.exc.OperationalError, "40P01"),  # deadlock
        (sa.exc.OperationalError, "55P03"),  # lock not available
        (sa.exc.IntegrityError, "23505"),  # a concurrent insert won the race
        (sa.exc.OperationalError, None),  # a lost connection: the server never answered
    ],
)
def test_outages_are_retried(kind, sqlstate) -> None:
    assert is_outage(_wrapped(kind, sqlstate))


@pytest.mark.parametrize(
    ("kind", "sqlstate"),
    [
        (sa.exc.OperationalError, "54000"),  # index row too big, string too long for tsvector
        (sa.exc.DataError, "22P02"),  # invalid input syntax for type json
        (sa.exc.DataError, "22021"),  # character not in repertoire
        (sa.exc.IntegrityError, "23503"),  # foreign key violation
        (sa.exc.ProgrammingError, "42P01"),  # undefined table
    ],
)
def test_refused_writes_are_not_retried(kind, sqlstate) -> None:
    assert not is_outage(_wrapped(kind, sqlstate))


def test_errors_from_before_the_database_are_not_outages() -> None:
    assert not is_outage(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    assert not is_outage(ValueError("A string literal cannot contain NUL (0x00) characters."))
