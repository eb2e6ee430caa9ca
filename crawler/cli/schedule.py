"""``newsdesk schedule``: crawl each source on its cron ``schedule``, as a service or from cron.

Registered on the root group by ``crawler.cli``; the database URL arrives as ``ctx.obj``.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa

from crawler.cli.errors import BadValue
from crawler.cli.options import SpanType, database_option
from crawler.settings_check import SettingError, check_setting
from crawler.sources import SourcesError, load_sources, resolve_sources_path
from storage.db import DatabaseError, describe_error

__all__ = ["schedule_command"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@click.command("schedule")
@database_option
@click.option("--sources", "sources_file", default=None, help="Sources file (env NEWSDESK_SOURCES; default ./sources.toml).")
@click.option("--once", is_flag=True, help="Start the crawls due now, wait for them, and exit (for cron).")
@click.option("--list", "list_only", is_flag=True, help="Show each scheduled source's next run and last result.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting for every crawl.")
@click.option("--timeout", type=SpanType(), default="2h", show_default=True, help="Stop a crawl running longer than this (a source's `timeout` wins).")
@click.option("--grace", type=SpanType(), default="30s", show_default=True, help="Time a stopped crawl gets to close before SIGKILL.")
@click.option("--lock-ttl", type=SpanType(), default="5m", show_default=True, help="How long a source's lock outlives a runner that crashed.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help="Append the log (and the crawls' output) here instead of stderr.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default="INFO", show_default=True, help="Level of the scheduler's own log lines.")
@click.option("--poll", "poll_interval", type=float, default=1.0, hidden=True, help="Seconds between checks.")
@click.pass_context
def schedule_command(
    ctx: click.Context,
    sources_file: str | None,
    once: bool,
    list_only: bool,
    overrides: tuple[str, ...],
    timeout: timedelta,
    grace: timedelta,
    lock_ttl: timedelta,
    log_file: str | None,
    log_level: str,
    poll_interval: float,
) -> None:
    """Crawl every source that has a `schedule`, each in its own process.

    Runs until SIGTERM or Ctrl-C, which stop the running crawls gracefully. With --once it starts
    what is due now and exits when those crawls end. One crawl per source at a time, also across
    machines sharing the database: a slot that comes while its source is still running is skipped.
    """
    from crawler.scheduling import Scheduler

    database_url = ctx.obj
    path = resolve_sources_path(sources_file)
    try:
        sources = load_sources(path)
    except SourcesError as exc:
        raise click.UsageError(str(exc)) from None
    for override in overrides:
        name, _, value = override.partition("=")
        if not name.strip() or "=" not in override:
            raise click.UsageError(f"setting {override!r} is not NAME=VALUE")
        try:
            check_setting(name.strip(), value)
        except SettingError as exc:
            raise BadValue(str(exc)) from None
    if not any(source.schedule for source in sources.values()):
        raise click.UsageError(f"no source in {path} has a schedule")
    output = open(log_file, "a", buffering=1, encoding="utf-8") if log_file else None  # noqa: SIM115
    try:
        _configure_logging(output, log_level)
        try:
            scheduler = Scheduler(
                sources,
                database_url,
                sources_path=path,
                overrides=overrides,
                timeout=timeout,
                grace=grace,
                lock_ttl=lock_ttl,
                poll_interval=poll_interval,
                output=output,
                read_only=list_only,
            )
            if list_only:
                _print_schedule(scheduler)
                return
            results = scheduler.run(once=once)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise click.ClickException(describe_error(exc)) from None
    finally:
        if output is not None:
            output.close()
    if once and any(result.status not in ("finished", "ok") for result in results):
        ctx.exit(1)


def _configure_logging(stream: Any, level: str) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("crawler.scheduling", "storage"):
        named = logging.getLogger(name)
        named.handlers = [handler]
        named.setLevel(level.upper())
        named.propagate = False


def _print_schedule(scheduler: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from storage import runs

    now = datetime.now(UTC)
    upcoming = scheduler.next_runs(now)
    with scheduler.sessions() as session:
        latest = runs.last_runs(session, list(scheduler.sources))
    table = Table("source", "schedule", "next run (UTC)", "last started", "last status", "counts")
    for name, source in scheduler.sources.items():
        last = latest.get(name)
        when = upcoming[name]
        table.add_row(
            name,
            source.schedule,
            "due now" if when <= now else when.strftime("%Y-%m-%d %H:%M"),
            last.started_at.strftime("%Y-%m-%d %H:%M:%S") if last else "never",
            (last.status + (f" ({last.error})" if last.error else "")) if last else "",
            " ".join(f"{k}={v}" for k, v in sorted(last.counts.items())) if last else "",
        )
    Console(width=200).print(table)
