"""Reading the corpus: articles, one article, stats and the crawl log. Thin over storage."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from crawler.cli_common import FORMATS, WhenType, cell_text, console, emit_rows, handle_user_errors, sessions_for
from storage import queries
from storage import runs as run_log

__all__ = ["READ_COMMANDS"]

TABLE_COLUMNS = ("id", "source", "published_at", "title", "word_count", "cluster_id", "version")

# -- reading ----------------------------------------------------------------------------------


@click.command()
@click.option("--source", help="Only this source.")
@click.option("--since", type=WhenType(), help="Published at or after (date, datetime, or 7d / 12h).")
@click.option("--until", type=WhenType(), help="Published before (date, datetime, or 7d / 12h).")
@click.option("--lang", "language", help="Language code, e.g. en.")
@click.option("--search", help="Only articles whose title or text contains this.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many (table: 50).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def articles(ctx: click.Context, source, since, until, language, search, limit, fmt) -> None:
    """List stored articles, newest first."""
    if limit is None and fmt == "table":
        limit = 50
    article_filter = queries.ArticleFilter(
        source=source, since=since, until=until, language=language, search=search, limit=limit
    )
    sessions = sessions_for(ctx)
    with sessions() as session:
        rows = (row.as_dict() for row in queries.iter_articles(session, article_filter))
        emit_rows(rows, fmt, TABLE_COLUMNS)


@click.command()
@click.argument("id_or_url")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_context
@handle_user_errors
def show(ctx: click.Context, id_or_url: str, fmt: str) -> None:
    """Show one article by id, canonical URL or any URL it was found under."""
    sessions = sessions_for(ctx)
    with sessions() as session:
        detail = queries.get_article(session, id_or_url)
    if detail is None:
        raise click.ClickException(f"no article {id_or_url!r}")
    data = detail.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.rule(f"[bold]{data.get('title') or '(untitled)'}")
    for key in (
        "id",
        "source",
        "canonical_url",
        "published_at",
        "modified_at",
        "authors",
        "language",
        "section",
        "word_count",
        "version",
        "cluster_id",
    ):
        console.print(f"[dim]{key:>14}[/dim]  {cell_text(data.get(key))}")
    console.print()
    click.echo(data.get("text", ""))


@click.command()
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def stats(ctx: click.Context, fmt: str) -> None:
    """Per-source counts and what the last crawls did."""
    sessions = sessions_for(ctx)
    with sessions() as session:
        corpus = queries.corpus_stats(session)
    data = corpus.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    emit_rows(data["sources"], "table", list(data["sources"][0]) if data["sources"] else ["source"])
    console.print({k: v for k, v in data.items() if k != "sources"})


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """Recent crawl runs with their counts; `runs show ID` says what happened to each URL."""
    if ctx.invoked_subcommand is not None:
        return
    sessions = sessions_for(ctx)
    with sessions() as session:
        rows = [_run_dict(run) for run in run_log.list_runs(session, limit=limit)]
    emit_rows(iter(rows), fmt, ("id", "source", "started_at", "finished_at", "status", "counts"))


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--outcome", help="Only fetches with this outcome (e.g. error, not-an-article).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def runs_show(ctx: click.Context, run_id: int, outcome: str | None, fmt: str) -> None:
    """Every URL a run fetched: status, size, outcome and the reason when it was not stored."""
    sessions = sessions_for(ctx)
    with sessions() as session:
        run = run_log.get_run(session, run_id)
        if run is None:
            raise click.ClickException(f"no run {run_id}")
        fetches = [_fetch_dict(f) for f in run_log.run_fetches(session, run_id, outcome=outcome)]
    if fmt == "table":
        console.print(_run_dict(run))
    emit_rows(iter(fetches), fmt, ("url", "status", "bytes", "outcome", "reason", "article_id"))


def _run_dict(run: run_log.RunRow) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    for key in ("started_at", "finished_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _fetch_dict(fetch: run_log.FetchRow) -> dict[str, Any]:
    data = dataclasses.asdict(fetch)
    data["fetched_at"] = data["fetched_at"].isoformat()
    return data


READ_COMMANDS = (articles, show, stats, runs)
