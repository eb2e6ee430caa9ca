"""One writer of rows for every command: table, json, jsonl or csv."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import click
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["FORMATS", "Column", "cell_text", "console", "counts_text", "emit_rows", "markdown_document", "print_table"]

console = Console()

FORMATS = ("table", "json", "jsonl", "csv")


def markdown_document(title: str | None, markdown: str | None, text: str) -> str:
    """One story as a Markdown document: its title as the heading, then its body's Markdown.

    A story stored before Markdown was kept has only its plain text, which is Markdown too.
    """
    heading = f"# {' '.join(title.split())}\n\n" if title else ""
    return f"{heading}{markdown or text}\n"


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
        specs = [column if isinstance(column, Column) else Column(column) for column in columns]
        cells = [[_table_cell(row.get(spec.key)) for spec in specs] for row in rows]
        print_table(specs, cells)
        count = len(cells)
    return count


def counts_text(counts: dict[str, int]) -> str:
    """A run's counts as one cell that wraps between counts: requests and stored first, then the
    other outcomes that happened, so a table of runs fits 80 columns however many there are."""
    rest = dict(counts)
    first = [(name, rest.pop(name, 0)) for name in ("requests", "stored")]
    return ", ".join(f"{n:,} {name}" for name, n in first + sorted(rest.items()) if n or name in ("requests", "stored"))


@dataclass(frozen=True)
class Column:
    """A table column. ``whole`` cells (ids, dates, counts, outcomes) are never wrapped or cut;
    the others wrap at word boundaries. When the terminal is too narrow for every column at its
    least width, the columns of lowest ``keep`` are left out first."""

    key: str
    header: str | None = None
    whole: bool = True
    keep: int = 1
    justify: str = "left"
    ratio: int = 1
    min_width: int = 12


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str | Text]],
    *,
    section_ends: frozenset[int] = frozenset(),
    show_lines: bool = False,
    title: str | None = None,
) -> None:
    """Prints ``rows`` as a table that fits the console: whole columns at their natural width,
    wrapped columns sharing what is left, low-priority columns dropped when even that is short."""
    headers = [column.header or column.key for column in columns]
    natural = [max([cell_len(header), *(cell_len(_plain(row[i])) for row in rows)]) for i, header in enumerate(headers)]
    least = [width if column.whole else min(width, column.min_width) for column, width in zip(columns, natural)]
    kept = list(range(len(columns)))
    while len(kept) > 1 and _table_width(least[i] for i in kept) > console.width:
        kept.remove(min(reversed(kept), key=lambda i: columns[i].keep))
    widths = _share_widths([columns[i] for i in kept], [natural[i] for i in kept], [least[i] for i in kept])
    table = Table(show_lines=show_lines, title=title, show_edge=False)
    for i, width in zip(kept, widths):
        column = columns[i]
        table.add_column(headers[i], justify=column.justify, no_wrap=column.whole, overflow="fold", width=width)
    for index, row in enumerate(rows):
        table.add_row(*(row[i] for i in kept), end_section=index in section_ends)
    console.print(table)


def _plain(cell: str | Text) -> str:
    return cell if isinstance(cell, str) else cell.plain


def _table_width(widths: Iterable[int]) -> int:
    """Width of a table without outer edges: each column has 2 of padding, a border between two."""
    widths = list(widths)
    return sum(widths) + 3 * len(widths) - 1


def _share_widths(columns: Sequence[Column], natural: list[int], least: list[int]) -> list[int | None]:
    """Widths for columns that fit together: None (natural) when all fit, else whole columns at their
    natural width and the wrapped ones splitting the rest by ratio, never under their least."""
    if _table_width(natural) <= console.width:
        return [None] * len(columns)
    spare = console.width - _table_width(least)
    widths = list(least)
    wrapped = [i for i, column in enumerate(columns) if not column.whole]
    while spare > 0 and wrapped:
        total_ratio = sum(columns[i].ratio for i in wrapped)
        given = 0
        for i in wrapped:
            extra = min(natural[i] - widths[i], max(1, spare * columns[i].ratio // total_ratio), spare - given)
            widths[i] += extra
            given += extra
        spare -= given
        wrapped = [i for i in wrapped if widths[i] < natural[i]]
        if given == 0:
            break
    return widths


def _table_cell(value: Any) -> str:
    """A cell of a table: ISO datetimes to the minute with a space (16 characters that stay whole)."""
    text = cell_text(value)
    return f"{text[:10]} {text[11:16]}" if len(text) >= 16 and text[4:5] == "-" and text[10:11] == "T" else text


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    return text[:19] if len(text) > 19 and text[4:5] == "-" and text[10:11] == "T" else text
