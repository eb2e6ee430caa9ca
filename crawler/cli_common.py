"""What every newsdesk command shares: user-error handling, date options, output formats."""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crawler.settings_check import SettingError
from crawler.sources import parse_duration
from storage.db import DatabaseError, open_database

__all__ = [
    "FORMATS",
    "SQL_INT_MAX",
    "BadValue",
    "WholeNumber",
    "WhenType",
    "console",
    "emit_rows",
    "handle_user_errors",
    "cell_text",
    "parse_when",
    "sessions_for",
]

console = Console()

FORMATS = ("table", "json", "jsonl", "csv")


class BadValue(click.ClickException):
    """A value the user gave that cannot be used: one line on stderr and exit status 2."""

    exit_code = 2


def handle_user_errors(command: Callable) -> Callable:
    """Database and input problems become one line on stderr, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except SettingError as exc:
            raise BadValue(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper


def parse_when(value: str | None) -> datetime | None:
    """A date (2026-11-01), a datetime (ISO 8601) or a span back from now (90m, 12h, 7d, 2w, 1d12h).

    Spans follow the one duration grammar of ``crawler.sources.parse_duration``; a date that
    cannot be placed on a UTC time line (before year 1 or after 9999 once its offset is applied)
    is refused here rather than deep in a query.
    """
    if value is None:
        return None
    text = value.strip()
    if text[-1:].lower() in ("s", "m", "h", "d", "w") and text[:1].isdigit():
        try:
            return datetime.now(UTC) - parse_duration(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date, a datetime or a span like 7d") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise click.BadParameter(f"{value!r} is outside the years 1 to 9999 in UTC") from None


#: The largest value of a SQL BIGINT: ids, limits and counts beyond it cannot reach a query.
SQL_INT_MAX = 2**63 - 1


class WholeNumber(click.IntRange):
    """An integer option a query can use: at most ``SQL_INT_MAX`` (and at least ``min``)."""

    def __init__(self, min: int | None = None) -> None:
        super().__init__(min=min, max=SQL_INT_MAX)


class WhenType(click.ParamType):
    name = "WHEN"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime | None:
        return value if isinstance(value, datetime) else parse_when(value)


def emit_rows(rows: Iterable[dict[str, Any]], fmt: str, columns: Iterable[str]) -> int:
    """Writes rows in the chosen format; returns how many were written."""
    columns = tuple(columns)
    count = 0
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
            count += 1
    elif fmt == "json":
        items = list(rows)
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        count = len(items)
    elif fmt == "csv":
        writer = None
        for row in rows:
            flat = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for k, v in row.items()}
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(flat))
                writer.writeheader()
            writer.writerow(flat)
            count += 1
    else:
        table = Table(show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(cell_text(row.get(c)) for c in columns))
            count += 1
        console.print(table)
    return count


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    return text[:19] if len(text) > 19 and text[4:5] == "-" and text[10:11] == "T" else text


def sessions_for(ctx: click.Context):
    """The session factory for the root group's database (migrated to head on first use)."""
    return open_database(ctx.find_root().obj)
