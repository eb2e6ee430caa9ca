"""What every newsdesk command shares: user-error handling, date options, output formats."""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from storage.db import DatabaseError, open_database

__all__ = [
    "FORMATS",
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


def handle_user_errors(command: Callable) -> Callable:
    """Database and input problems become one line on stderr, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper


def parse_when(value: str | None) -> datetime | None:
    """A date (2026-11-01), a datetime (ISO 8601) or a span back from now (90m, 12h, 7d, 2w)."""
    if value is None:
        return None
    text = value.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date, a datetime or a span like 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
