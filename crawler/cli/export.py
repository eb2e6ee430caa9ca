"""``newsdesk export``: matching articles to a JSONL, CSV or Parquet file, in constant memory."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from crawler.cli.errors import handle_user_errors
from crawler.cli.options import article_filter_options, database_option, filter_from_options
from crawler.cli.output import console
from crawler.cli.read import read_sessions_for
from storage import queries
from storage.export import EXPORT_FORMATS, ExportError, export_articles

__all__ = ["export"]


@click.command()
@database_option
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="File format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@article_filter_options
@click.pass_context
@handle_user_errors
def export(ctx: click.Context, fmt: str, output: str, force: bool, **filters: Any) -> None:
    """Write matching articles to a JSONL, CSV or Parquet file, or their archived pages to a WARC file.

    The file appears only once complete (written beside it, then renamed); an existing file is
    kept unless --force. Parquet needs pyarrow (from the checkout: pip install -e '.[export]').
    """
    article_filter = filter_from_options(**filters)
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        try:
            if sys.stdout.isatty():
                total = queries.count_articles(session, article_filter)
                columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
                with Progress(*columns, console=console, transient=True) as progress:
                    task = progress.add_task("export", total=total)
                    written = export_articles(session, article_filter, output, fmt, force=force,
                                              on_progress=lambda n: progress.update(task, completed=n))  # fmt: skip
            else:
                written = export_articles(session, article_filter, output, fmt, force=force)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{written:,} articles written to {output}", err=True)
