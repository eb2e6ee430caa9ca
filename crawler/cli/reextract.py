"""``newsdesk reextract``: stored articles read again from the archive (see ``crawler.reextract``)."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import datetime

import click
from packaging.version import InvalidVersion, Version
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from crawler.cli.errors import handle_user_errors
from crawler.cli.options import WhenType, database_option

__all__ = ["reextract"]


def _version(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            Version(value)
        except InvalidVersion:
            raise click.BadParameter(f"{value!r} is not a version (e.g. 0.2.0)") from None
    return value


@click.command()
@database_option
@click.option("--source", help="Only this source.")
@click.option("--since", type=WhenType(), help="Published (or, undated, first seen) at or after: a date, or 7d / 12h.")
@click.option("--until", type=WhenType(), help="Published (or, undated, first seen) before.")
@click.option(
    "--where-extractor-older-than", "older_than", metavar="VERSION", callback=_version,
    help="Only articles last read by an extractor older than VERSION (or only when fetched).",
)  # fmt: skip
@click.option("--all", "everything", is_flag=True,
              help="Also articles already read with this extractor and their source's site profile.")  # fmt: skip
@click.option("--workers", type=click.IntRange(1), default=None, help="Worker processes [default: cores].")
@click.pass_context
@handle_user_errors
def reextract(
    ctx: click.Context, source: str | None, since: datetime | None, until: datetime | None, older_than: str | None,
    everything: bool, workers: int | None,
) -> None:  # fmt: skip
    """Read stored articles again from their archived pages, with the current extractor and site profiles.

    An article whose text or metadata comes out different is updated in place, its previous values
    kept as a re-extraction (not a new version). Articles already read with this extractor and their
    source's current site profile are left alone (--all reads them too), so a run that was killed
    goes on where it stopped when started again.
    """
    from crawler.reextract import EXTRACTOR_VERSION, ReextractSelection
    from crawler.reextract import reextract as run

    selection = ReextractSelection(source=source, since=since, until=until, older_than=older_than,
                                   everything=everything)  # fmt: skip
    stderr = Console(stderr=True)
    progress = Progress(
        TextColumn("reextract"), BarColumn(), MofNCompleteColumn(), _Rate(), TimeRemainingColumn(),
        console=stderr, disable=not stderr.is_terminal, transient=True,
    )  # fmt: skip
    task = progress.add_task("reextract", total=None)
    started = time.monotonic()
    selected = 0

    def on_total(total: int) -> None:
        nonlocal selected
        selected = total
        progress.update(task, total=total)

    def on_counts(counts: Counter) -> None:
        progress.update(task, completed=sum(counts.values()))

    with progress:
        counts = run(ctx.find_root().obj, selection, workers=workers or os.cpu_count() or 1,
                     on_total=on_total, on_counts=on_counts)  # fmt: skip
    if not selected:
        if source is not None and not _has_articles(ctx.find_root().obj, source):
            raise click.ClickException(f"no articles of source {source!r}")
        if everything:
            click.echo("nothing to read: no article matches the --source, --since and --until given", err=True)
            return
        click.echo(f"nothing to read again: every article selected was read with extractor {EXTRACTOR_VERSION} "
                   "and its source's site profile (--all reads them again)", err=True)  # fmt: skip
        return
    click.echo(_summary(counts, time.monotonic() - started), err=True)
    if counts["error"]:
        raise click.ClickException(
            f"{counts['error']:,} articles failed in newsdesk's reading code (logged above); they are read again next run"
        )


class _Rate(ProgressColumn):
    """Articles per second so far."""

    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:,.1f}/s", style="progress.data.speed")


def _has_articles(database_url: str, source: str) -> bool:
    from storage.db import open_database
    from storage.reextraction import ReextractSelection, sources_in

    with open_database(database_url)() as session:
        return bool(sources_in(session, ReextractSelection(source=source)))


def _summary(counts: Counter, elapsed: float) -> str:
    """One line: articles read, changed, unchanged, and skipped by reason."""
    read = counts["changed"] + counts["unchanged"]
    total = sum(counts.values())
    line = (
        f"{total:,} articles in {elapsed:.1f}s ({read / max(elapsed, 1e-9):,.1f} pages/s): read {read:,}, "
        f"changed {counts['changed']:,}, unchanged {counts['unchanged']:,}"
    )
    skipped = sorted(((key.removeprefix("skipped/"), n) for key, n in counts.items() if key.startswith("skipped/")),
                     key=lambda pair: (-pair[1], pair[0]))  # fmt: skip
    if skipped:
        line += "; skipped: " + ", ".join(f"{reason} {n:,}" for reason, n in skipped)
    if counts["error"]:
        line += f"; errors {counts['error']:,}"
    return line
