"""One writer of rows for every command: table, json, jsonl or csv."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

__all__ = ["FORMATS", "cell_text", "console", "emit_rows"]

console = Console()

FORMATS = ("table", "json", "jsonl", "csv")


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
