"""Option types every command shares: the one grammar of dates and spans, whole numbers a query
can hold, the article filters, and ``--db`` accepted after any sub-command too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from crawler.sources import parse_duration
from storage import queries
from storage.db import resolve_database_url

__all__ = [
    "LIST_SORTS",
    "SQL_INT_MAX",
    "SpanType",
    "WhenType",
    "WholeNumber",
    "filter_from_options",
    "article_filter_options",
    "include_removed_option",
    "database_option",
    "parse_when",
]

LIST_SORTS = ("published", "seen", "relevance", "oldest", "title", "words")


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


class SpanType(click.ParamType):
    name = "SPAN"

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _use_database(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--db`` given after a sub-command wins over the root group's (people type it there)."""
    if value is not None:
        url = resolve_database_url(value)
        context: click.Context | None = ctx
        while context is not None:
            context.obj = url
            context = context.parent
    return value


database_option = click.option(
    "--db",
    "database_url",
    default=None,
    expose_value=False,
    callback=_use_database,
    help="Database URL (also accepted before the command; env NEWSDESK_DATABASE_URL).",
)


include_removed_option = click.option(
    "--include-removed", is_flag=True, help="Also stories a re-fetch found gone (404, 410, redirect home)."
)


def article_filter_options(command):
    """The article filters shared by `articles` and `export`."""
    options = [
        click.option("--source", help="Only this source."),
        click.option("--since", type=WhenType(), help="Published at or after (date, datetime, or 7d / 12h)."),
        click.option("--until", type=WhenType(), help="Published before (date, datetime, or 7d / 12h)."),
        click.option("--lang", "language", help="Language code, e.g. en."),
        click.option("--search", help='Full text: words, "a phrase", prefix*; all must match. Ranked.'),
        click.option("--contains", help="Literal, case-insensitive substring of title or text."),
        click.option("--cluster", "cluster_id", type=WholeNumber(), help="Only this story cluster."),
        click.option("--url", help="The article at this canonical URL or any URL variant."),
        click.option("--min-words", type=WholeNumber(min=0), help="At least this many words."),
        click.option("--unique", is_flag=True, help="One article per story: its cluster's representative."),
        click.option("--tdm-allowed", is_flag=True, help="Only where no TDMRep reservation applies (text and data mining)."),
        click.option("--free-only", is_flag=True, help="Only stories not marked paywalled and not cut at a paywall."),
        click.option("--exclude-noarchive", is_flag=True, help="Leave out pages marked noarchive (X-Robots-Tag or meta)."),
        click.option(
            "--sort",
            type=click.Choice(LIST_SORTS),
            help="published (newest first; the default) or seen (newest first fetched); relevance with --search.",
        ),
        click.option("--limit", type=WholeNumber(min=1), default=None, help="At most this many."),
        include_removed_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def filter_from_options(**values: Any) -> queries.ArticleFilter:
    return queries.ArticleFilter(**values)
