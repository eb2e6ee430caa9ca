"""``newsdesk health``: is each source still being crawled as it used to be? Thin over ``storage.health``.

Exits 1 when a source is in alert (and not acknowledged), so cron or a monitor can act on it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import click
from rich.text import Text

import crawler.settings as project_settings
from crawler.cli.errors import BadValue, handle_user_errors
from crawler.cli.options import WhenType, database_option
from crawler.cli.output import Column, print_table
from crawler.cli.read import read_sessions_for
from crawler.settings_check import check_setting
from storage import health as health_store
from storage.db import open_database

__all__ = ["health", "thresholds_from_settings"]

HEALTH_TABLE = (
    Column("source", keep=3),
    Column("status", keep=3),
    Column("last_day", "last day", keep=2),
    Column("stored", justify="right"),
    Column("errors", justify="right"),
    Column("median_words", "median words", justify="right"),
    Column("template", "template", justify="right"),
    Column("why", whole=False, keep=3, ratio=3, min_width=24),
)
STATUS_STYLES = {"ok": "green", "warn": "yellow", "alert": "bold red"}
#: Settings (crawler/settings.py, or an environment variable of the same name) -> thresholds.
_SETTINGS = {
    "NEWSDESK_HEALTH_WINDOW_DAYS": "window_days",
    "NEWSDESK_HEALTH_LOW_SIGMA": "low_sigma",
    "NEWSDESK_HEALTH_HIGH_SIGMA": "high_sigma",
    "NEWSDESK_HEALTH_LENGTH_DROP": "length_drop",
    "NEWSDESK_HEALTH_MIN_HISTORY_DAYS": "min_history_days",
    "NEWSDESK_HEALTH_TEMPLATE_RISE": "template_rise",
}


def thresholds_from_settings() -> health_store.HealthThresholds:
    """The thresholds in crawler/settings.py, each overridden by an environment variable of its name."""
    values = {
        field: check_setting(name, os.environ.get(name, getattr(project_settings, name))) for name, field in _SETTINGS.items()
    }
    return health_store.HealthThresholds(**values)


@click.command()
@database_option
@click.option("--source", help="Only this source.")
@click.option("--since", type=WhenType(), help="Only sources crawled since (date, datetime, or 7d).")
@click.option("--ack", "ack_source", metavar="SOURCE", help="Acknowledge SOURCE's current state: silenced until it changes.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def health(ctx: click.Context, source: str | None, since: datetime | None, ack_source: str | None, fmt: str) -> int:
    """Each source's status (ok / warn / alert) from its crawl log, with the reason in words.

    Alerts: volume outside the 28-day band (mean - 1.5 sigma / + 2 sigma), median length of new
    stories down by half, every request failing, a feed or sitemap that stopped answering.
    Warns when the share of text removed as site template rises sharply ("template" column).
    Exit status 1 when any source is in alert.
    """
    thresholds = thresholds_from_settings()
    if ack_source is not None:
        return _acknowledge(ctx, ack_source, thresholds)
    with read_sessions_for(ctx)() as session:
        found = health_store.source_health(
            session, thresholds=thresholds, source=source, since=since.astimezone(UTC).date() if since else None
        )
    if source is not None and not found:
        raise BadValue(f"no crawl of source {source!r} in the last {thresholds.window_days} days")
    if fmt == "json":
        click.echo(json.dumps([entry.as_dict() for entry in found], ensure_ascii=False, indent=2))
    else:
        _print_table(found)
    return 1 if any(entry.shown_status == "alert" for entry in found) else 0


def _acknowledge(ctx: click.Context, name: str, thresholds: health_store.HealthThresholds) -> int:
    sessions = open_database(ctx.find_root().obj)
    with sessions.begin() as session:
        [entry] = health_store.source_health(session, thresholds=thresholds, source=name) or [None]
        if entry is None:
            raise BadValue(f"no crawl of source {name!r} in the last {thresholds.window_days} days")
        health_store.acknowledge(session, entry)
    click.echo(f"{name}: {entry.status} acknowledged; silenced until its state changes ({entry.state})")
    return 0


def _print_table(found: list[health_store.SourceHealth]) -> None:
    cells = []
    for entry in found:
        latest = entry.latest
        status = entry.shown_status + (" (ack)" if entry.acknowledged else "")
        why = "; ".join(reason.text for reason in entry.reasons) or "as usual"
        cells.append(
            [
                Text(entry.source),
                Text(status, style=STATUS_STYLES[entry.shown_status]),
                latest.day.isoformat(),
                f"{latest.stored:,}",
                f"{sum(latest.errors.values()):,}",
                "" if latest.median_words is None else f"{latest.median_words:,}",
                "" if latest.template_share is None else f"{latest.template_share:.0%}",
                Text(why),
            ]
        )
    print_table(HEALTH_TABLE, cells, title=f"{len(found)} sources")
