"""Reading the corpus: articles, show, clusters, stats, runs and export. Thin over storage.

Read commands open the database read-only where the dialect allows (SQLite ``mode=ro``,
PostgreSQL read-only transactions), so no input given to them can change it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from crawler.cli_common import (
    FORMATS,
    WhenType,
    cell_text,
    console,
    emit_rows,
    handle_user_errors,
)
from storage import queries
from storage import runs as run_log
from storage.db import (
    DatabaseError,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from storage.export import EXPORT_FORMATS, ExportError, export_articles

__all__ = ["READ_COMMANDS", "TABLE_COLUMNS", "read_sessions_for"]

TABLE_COLUMNS = ("id", "source", "published_at", "title", "word_count", "cluster_id", "version")
LIST_SORTS = ("published", "seen", "relevance", "oldest", "title", "words")


def read_sessions_for(ctx: click.Context) -> sessionmaker:
    """A session factory on a read-only connection to the root group's database.

    A missing SQLite file is an error (a read never creates a database); a database behind the
    newest migration is migrated first, as ``open_database`` would, then opened read-only.
    """
    url = ctx.find_root().obj
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise DatabaseError("read commands need a database file or server, not an in-memory database")
        if not Path(database).is_file():
            raise DatabaseError(f"no database at {database} (crawl first, or pass --db)")
    if current_revision(url) != head_revision():
        upgrade(url)
    return sessionmaker(make_engine(url, read_only=True), expire_on_commit=False)


def _filter_options(command):
    """The article filters shared by `articles` and `export`."""
    options = [
        click.option("--source", help="Only this source."),
        click.option("--since", type=WhenType(), help="Published at or after (date, datetime, or 7d / 12h)."),
        click.option("--until", type=WhenType(), help="Published before (date, datetime, or 7d / 12h)."),
        click.option("--lang", "language", help="Language code, e.g. en."),
        click.option("--search", help='Full text: words, "a phrase", prefix*; all must match. Ranked.'),
        click.option("--contains", help="Literal, case-insensitive substring of title or text."),
        click.option("--cluster", "cluster_id", type=int, help="Only this story cluster."),
        click.option("--url", help="The article at this canonical URL or any URL variant."),
        click.option("--min-words", type=click.IntRange(min=0), help="At least this many words."),
        click.option("--unique", is_flag=True, help="One article per story: its cluster's representative."),
        click.option(
            "--sort",
            type=click.Choice(LIST_SORTS),
            help="published (newest first; the default) or seen (newest first fetched); relevance with --search.",
        ),
        click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _article_filter(**values: Any) -> queries.ArticleFilter:
    return queries.ArticleFilter(**values)


# -- reading ----------------------------------------------------------------------------------


@click.command()
@_filter_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def articles(ctx: click.Context, fmt: str, **filters: Any) -> None:
    """List stored articles, newest first (best match first with --search).

    The table fits the terminal (at most 50 rows unless --limit) and shows where a --search
    matched; json, jsonl and csv carry every field, streamed.
    """
    if filters["limit"] is None and fmt == "table":
        filters["limit"] = 50
    article_filter = _article_filter(**filters)
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        rows = queries.iter_articles(session, article_filter, snippets=fmt == "table")
        if fmt == "table":
            _print_articles_table(rows, with_snippet=article_filter.search is not None)
        else:
            emit_rows((row.as_dict() for row in rows), fmt, TABLE_COLUMNS)


def _marked(snippet: str) -> Text:
    """A snippet with its «matches» in bold, as rich Text (never parsed as markup)."""
    text = Text()
    inside = False
    for part in snippet.replace("\n", " ").replace(queries.SNIPPET_CLOSE, queries.SNIPPET_OPEN).split(
        queries.SNIPPET_OPEN
    ):
        text.append(part, style="bold yellow" if inside else None)
        inside = not inside
    return text


def _print_articles_table(rows, *, with_snippet: bool) -> None:
    table = Table(expand=True, show_lines=with_snippet)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("source", no_wrap=True, max_width=14, overflow="ellipsis")
    table.add_column("published", no_wrap=True)
    table.add_column("title", ratio=2, overflow="fold")
    if with_snippet:
        table.add_column("match", ratio=3, overflow="fold")
    table.add_column("words", justify="right", no_wrap=True)
    table.add_column("cluster", justify="right", no_wrap=True)
    count = 0
    for row in rows:
        published = f"{row.published_at:%Y-%m-%d %H:%M}" if row.published_at else ""
        cells = [str(row.id), Text(row.source), published, Text(row.title or "")]
        if with_snippet:
            cells.append(_marked(row.snippet or ""))
        cells += [str(row.word_count), str(row.cluster_id or "")]
        table.add_row(*cells)
        count += 1
    console.print(table)
    if count == 0:
        click.echo("no articles match", err=True)


@click.command()
@click.argument("id_or_url")
@click.option("--diff", "diff_versions", nargs=2, type=int, metavar="OLD NEW",
              help="Unified diff of the text between two versions, e.g. --diff 1 2.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_context
@handle_user_errors
def show(ctx: click.Context, id_or_url: str, diff_versions: tuple[int, int] | None, fmt: str) -> None:
    """Show one article by id, canonical URL or any URL it was found under.

    Metadata, body, every URL variant, version history and the other articles of its story.
    """
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        detail = queries.get_article(session, id_or_url)
    if detail is None:
        raise click.ClickException(f"no article {id_or_url[:200]!r}")
    if diff_versions:
        click.echo(queries.version_diff(detail, *diff_versions) or "(no difference)\n", nl=False)
        return
    data = detail.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.rule(Text(data.get("title") or "(untitled)", style="bold"))
    for key in ("id", "source", "canonical_url", "published_at", "modified_at", "first_seen_at", "last_seen_at",
                "authors", "language", "section", "word_count", "version", "cluster_id"):  # fmt: skip
        console.print(Text(f"{key:>14}  ", style="dim") + Text(cell_text(data.get(key))))
    console.print()
    click.echo(data.get("text", ""))
    console.print()
    console.print(Text("URLs", style="bold"))
    for url in detail.urls:
        click.echo(f"  {url}")
    console.print(Text("Versions", style="bold"))
    for version in detail.versions:
        click.echo(f"  {version.version}  {version.seen_at:%Y-%m-%d %H:%M}  {len(version.text.split())} words  "
                   f"{version.content_hash[:12]}")  # fmt: skip
    if len(detail.versions) > 1:
        click.echo(f"  (newsdesk show {detail.article.id} --diff 1 {detail.versions[-1].version})")
    if detail.cluster_mates:
        console.print(Text(f"Same story (cluster {detail.article.cluster_id})", style="bold"))
        for mate in detail.cluster_mates:
            when = f"{mate.published_at:%Y-%m-%d %H:%M}" if mate.published_at else "undated"
            click.echo(f"  {mate.id}  {mate.source}  {when}  {mate.title or ''}")


@click.group(invoke_without_command=True)
@click.option("--min-size", default=2, show_default=True, type=click.IntRange(min=1), help="At least this many articles.")
@click.option("--min-sources", default=1, show_default=True, type=click.IntRange(min=1),
              help="At least this many distinct sources.")  # fmt: skip
@click.option("--since", type=WhenType(), help="With a member published (or first seen) since: 7d, a date...")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="At most this many clusters.")
@click.option("--summary", is_flag=True, help="One row per cluster instead of one per member.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def clusters(ctx: click.Context, min_size: int, min_sources: int, since, limit: int, summary: bool, fmt: str) -> None:
    """The largest stories: each member's source, published time and headline, grouped by cluster.

    `newsdesk clusters --since 7d` answers "which stories did more than one site carry this week,
    and what did each headline say". `clusters show ID` shows one story.
    """
    if ctx.invoked_subcommand is not None:
        return
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        found = queries.list_clusters(session, min_size=min_size, min_sources=min_sources, since=since, limit=limit)
    if not found and fmt == "table":
        click.echo("no clusters match", err=True)
    elif fmt == "json":
        click.echo(json.dumps([c.as_dict() for c in found], ensure_ascii=False, indent=2))
    elif summary:
        rows = ({k: v for k, v in c.as_dict().items() if k != "members"} for c in found)
        emit_rows(rows, fmt, ("id", "size", "sources", "first_seen_at", "representative_id"))
    elif fmt == "table":
        _print_clusters_table(found)
    else:
        emit_rows(_member_rows(found), fmt, ())


def _member_rows(found: list[queries.ClusterSummary]):
    for cluster in found:
        for member in cluster.as_dict()["members"]:
            yield {"cluster_id": cluster.id, "cluster_size": cluster.size, **member}


def _print_clusters_table(found: list[queries.ClusterSummary]) -> None:
    table = Table(expand=True)
    table.add_column("cluster", justify="right", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("source", no_wrap=True, max_width=14, overflow="ellipsis")
    table.add_column("published", no_wrap=True)
    table.add_column("headline", ratio=1, overflow="fold")
    table.add_column("id", justify="right", no_wrap=True)
    for cluster in found:
        for index, member in enumerate(cluster.members):
            first = index == 0
            when = f"{member.published_at:%Y-%m-%d %H:%M}" if member.published_at else "undated"
            table.add_row(str(cluster.id) if first else "", str(cluster.size) if first else "", Text(member.source),
                          when, Text(member.title or ""), str(member.article_id),
                          end_section=index == len(cluster.members) - 1)  # fmt: skip
    console.print(table)


@clusters.command("show")
@click.argument("cluster_id", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def clusters_show(ctx: click.Context, cluster_id: int, fmt: str) -> None:
    """One story: each member's source, headline and published time."""
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        cluster = queries.get_cluster(session, cluster_id)
    if cluster is None:
        raise click.ClickException(f"no cluster {cluster_id}")
    if fmt == "json":
        click.echo(json.dumps(cluster.as_dict(), ensure_ascii=False, indent=2))
    elif fmt == "table":
        console.print(f"cluster {cluster.id}: {cluster.size} articles from {', '.join(cluster.sources)}; "
                      f"first seen {cluster.first_seen_at:%Y-%m-%d %H:%M}", markup=False, highlight=False)  # fmt: skip
        _print_clusters_table([cluster])
    else:
        emit_rows(_member_rows([cluster]), fmt, ())


@click.command()
@click.option("--days", default=14, show_default=True, type=click.IntRange(min=1), help="Days of articles per day.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def stats(ctx: click.Context, days: int, fmt: str) -> None:
    """Per-source counts, last run, error and not-an-article rates, and articles per day."""
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        corpus = queries.corpus_stats(session, days=days)
    data = corpus.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    table = Table(title=f"{corpus.articles:,} articles, {corpus.clusters:,} stories "
                        f"({corpus.multi_article_clusters:,} seen more than once), {corpus.runs:,} runs")  # fmt: skip
    for column in ("source", "articles", "stories", "latest published", "last run", "fetches", "errors", "not article"):
        table.add_column(column, justify="left" if column == "source" else "right")
    percent = lambda rate: "" if rate is None else f"{rate:.1%}"
    for s in corpus.sources:
        last_run = f"{s.last_run_at:%Y-%m-%d %H:%M} {s.last_run_status}" if s.last_run_at else ""
        latest = f"{s.latest_published_at:%Y-%m-%d}" if s.latest_published_at else ""
        table.add_row(Text(s.source), f"{s.articles:,}", f"{s.clusters:,}", latest, last_run, f"{s.fetches:,}",
                      percent(s.error_rate), percent(s.not_article_rate))  # fmt: skip
    console.print(table)
    if corpus.articles_per_day:
        per_day = Table(title="articles per published day")
        per_day.add_column("day")
        per_day.add_column("articles", justify="right")
        per_day.add_column("")
        peak = max(n for _, n in corpus.articles_per_day)
        for day, n in corpus.articles_per_day:
            per_day.add_row(day.isoformat(), f"{n:,}", "█" * max(1, round(30 * n / peak)))
        console.print(per_day)


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """Recent crawl runs with their counts; `runs show ID` says what happened to each URL."""
    if ctx.invoked_subcommand is not None:
        return
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        rows = [_run_dict(run) for run in run_log.list_runs(session, limit=limit)]
    if fmt == "table":
        emit_rows(map(_run_summary, rows), fmt, RUN_SUMMARY_COLUMNS)
    else:
        emit_rows(iter(rows), fmt, ("id", "source", "started_at", "finished_at", "status", "counts"))


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--outcome", help="Only fetches with this outcome (e.g. error, not-an-article).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def runs_show(ctx: click.Context, run_id: int, outcome: str | None, fmt: str) -> None:
    """Every URL a run fetched: status, size, outcome and the reason when it was not stored."""
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        run = run_log.get_run(session, run_id)
        if run is None:
            raise click.ClickException(f"no run {run_id}")
        fetches = [_fetch_dict(f) for f in run_log.run_fetches(session, run_id, outcome=outcome)]
    if fmt == "table":
        emit_rows(iter([_run_summary(_run_dict(run))]), fmt, RUN_SUMMARY_COLUMNS)
        if run.error:
            console.print(f"{run.status}: {run.error}", markup=False, highlight=False, soft_wrap=True)
    emit_rows(iter(fetches), fmt, ("url", "status", "bytes", "outcome", "reason", "article_id"))


#: The run summary's columns: each fetch outcome counted, then the exceptions the run recorded.
RUN_SUMMARY_COLUMNS = (
    "id", "source", "started_at", "status", "requests", "stored", "updated", "unchanged", "duplicate",
    "not-an-article", "skipped", "skipped-by-robots", "refused", "error", "exceptions",
)  # fmt: skip


def _run_summary(row: dict[str, Any]) -> dict[str, Any]:
    counts = row["counts"]
    return {**row, **{column: counts.get(column, 0) for column in RUN_SUMMARY_COLUMNS[4:]}}


def _run_dict(run: run_log.RunRow) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    for key in ("started_at", "finished_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _fetch_dict(fetch: run_log.FetchRow) -> dict[str, Any]:
    data = dataclasses.asdict(fetch)
    data["fetched_at"] = data["fetched_at"].isoformat()
    return data


# -- export -----------------------------------------------------------------------------------


@click.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="File format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@_filter_options
@click.pass_context
@handle_user_errors
def export(ctx: click.Context, fmt: str, output: str, force: bool, **filters: Any) -> None:
    """Write matching articles to a JSONL, CSV or Parquet file, streamed in constant memory.

    The file appears only once complete (written beside it, then renamed); an existing file is
    kept unless --force. Parquet needs pyarrow (pip install 'newsdesk[export]').
    """
    article_filter = _article_filter(**filters)
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


READ_COMMANDS = (articles, show, clusters, stats, runs, export)
