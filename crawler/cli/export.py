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
from storage.export import EXPORT_FORMATS, ExportError, export_articles, export_to_stream, is_binary

__all__ = ["export"]


@click.command()
@database_option
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="File format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write; - for standard output (not Parquet).")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@article_filter_options
@click.pass_context
@handle_user_errors
def export(ctx: click.Context, fmt: str, output: str, force: bool, **filters: Any) -> None:
    """Write matching articles to a JSONL, CSV or Parquet file, or their archived pages to a WARC file.

    The file appears only once complete (written beside it, then renamed); an existing file is
    kept unless --force; -o - writes to standard output. Parquet needs pyarrow (from the checkout: pip install -e '.[export]').
    """
    _check_suffix(output, fmt)
    article_filter = filter_from_options(**filters)
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        try:
            if output == "-":
                stream = sys.stdout.buffer if is_binary(fmt) else sys.stdout
                written = export_to_stream(session, article_filter, stream, fmt)
                stream.flush()
            elif sys.stdout.isatty():
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
        matched = queries.count_articles(session, article_filter) if fmt == "warc" else written
    where = "standard output" if output == "-" else output
    click.echo(f"{written:,} articles written to {where}", err=True)
    if matched > written:
        click.echo(f"{matched - written:,} of the {matched:,} articles selected have no archived capture (archiving was"
                   " off when they were fetched, or they were stored before the archive) and are not in it", err=True)  # fmt: skip


#: What a file's name says it holds.
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".warc": "warc"}
#: Compressions a name can promise that newsdesk does not write (it writes gzip, or nothing).
_OTHER_COMPRESSIONS = (".bz2", ".xz", ".zst", ".zip", ".lz4", ".br")


def _check_suffix(output: str, fmt: str) -> None:
    """A file named for one format and written in another is a mistake a reader pays for later."""
    name = output.lower()
    if other := next((suffix for suffix in _OTHER_COMPRESSIONS if name.endswith(suffix)), None):
        raise click.UsageError(f"{output}: newsdesk compresses with gzip only, not {other}: name it .gz, or plain")
    name = name.removesuffix(".gz")
    named = next((kind for suffix, kind in _SUFFIXES.items() if name.endswith(suffix)), None)
    if named is not None and named != fmt:
        raise click.UsageError(f"{output} is named as {named} but --format is {fmt}: rename it, or change --format")
