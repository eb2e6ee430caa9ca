"""Reading the corpus: articles, show, clusters, stats and runs. Thin over ``storage.queries``.

Read commands open the database read-only (SQLite ``mode=ro``, PostgreSQL read-only
transactions) and never migrate it, so they work for a user who may only read the file, never
wait for a writer's lock, and no input given to them can change the database.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import sessionmaker

from crawler.cli.archive import print_raw_page
from crawler.cli.errors import handle_user_errors
from crawler.cli.options import (
    WhenType,
    WholeNumber,
    article_filter_options,
    database_option,
    filter_from_options,
    include_removed_option,
)
from crawler.cli.output import (
    FORMATS, Column, cell_text, console, counts_text, emit_rows, markdown_document, print_table,
)  # fmt: skip
from crawler.cli.signals import signal_lines, signals_line
from storage import queries
from storage import runs as run_log
from storage import signals as signal_store
from storage.db import open_read_only

__all__ = ["READ_COMMANDS", "TABLE_COLUMNS", "read_sessions_for"]

TABLE_COLUMNS = ("id", "source", "published_at", "title", "word_count", "cluster_id", "version")


def read_sessions_for(ctx: click.Context) -> sessionmaker:
    """Read-only sessions on the root group's database (see ``storage.db.open_read_only``)."""
    return open_read_only(ctx.find_root().obj)


# -- reading ----------------------------------------------------------------------------------


@click.command()
@database_option
@article_filter_options
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
    article_filter = filter_from_options(**filters)
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


#: The articles table: on a narrow terminal the counts go first, then the source; id, date and
#: title stay.
ARTICLE_TABLE = (
    Column("id", justify="right", keep=9),
    Column("source", keep=4),
    Column("published", keep=8),
    Column("title", whole=False, ratio=2, keep=10),
    Column("match", whole=False, ratio=3, keep=7),
    Column("words", justify="right", keep=2),
    Column("cluster", justify="right", keep=3),
)


def _print_articles_table(rows, *, with_snippet: bool) -> None:
    columns = [column for column in ARTICLE_TABLE if with_snippet or column.key != "match"]
    cells = []
    for row in rows:
        published = f"{row.published_at:%Y-%m-%d %H:%M}" if row.published_at else ""
        title = Text(row.title or "")
        if row.removed_at is not None:  # listed with --include-removed
            title.append(f" (removed {row.removed_at:%Y-%m-%d})", style="red")
        snippet = [_marked(row.snippet or "")] if with_snippet else []
        cells.append([str(row.id), Text(row.source), published, title, *snippet,
                      str(row.word_count), str(row.cluster_id or "")])  # fmt: skip
    print_table(columns, cells, show_lines=with_snippet)
    if not cells:
        click.echo("no articles match", err=True)


@click.command()
@database_option
@click.argument("id_or_url")
@click.option("--diff", "diff_versions", nargs=2, type=WholeNumber(), metavar="OLD NEW",
              help="Unified diff of the text between two versions, e.g. --diff 1 2.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(("text", "json", "markdown")), default="text", show_default=True,
              help="markdown: the title and the body with its sub-headings, lists, quotes and tables.")  # fmt: skip
@click.option("--raw", is_flag=True, help="Print the page as it was served, from the WARC archive (body decompressed).")
@click.option("--headers", "with_headers", is_flag=True, help="With --raw: the status line and headers first.")
@click.pass_context
@handle_user_errors
def show(
    ctx: click.Context, id_or_url: str, diff_versions: tuple[int, int] | None, fmt: str, raw: bool, with_headers: bool
) -> None:
    """Show one article by id, canonical URL or any URL it was found under.

    Metadata, body, every URL with its rendition (canonical, amp, print, ...), version history and
    the other articles of its story.
    """
    # Options that print something else were ignored without a word.
    if with_headers and not raw:
        raise click.UsageError("--headers goes with --raw (the headers the page was served with)")
    if raw and (diff_versions or fmt != "text"):
        raise click.UsageError("--raw prints the page as it was served: it takes neither --diff nor --format")
    if diff_versions and fmt != "text":
        raise click.UsageError("--diff prints a text diff: it takes no --format")
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        detail = queries.get_article(session, id_or_url)
        publisher = signal_store.article_signals(session, detail.article.id) if detail is not None else None
    if detail is None:
        raise click.ClickException(f"no article {id_or_url[:200]!r}")
    if raw:
        print_raw_page(sessions, detail.article.id, with_headers=with_headers)
        return
    if diff_versions:
        click.echo(queries.version_diff(detail, *diff_versions) or "(no difference)\n", nl=False)
        return
    data = detail.as_dict() | {"signals": publisher}
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if fmt == "markdown":
        click.echo(markdown_document(detail.article.title, detail.article.markdown, detail.article.text), nl=False)
        return
    console.rule(Text(data.get("title") or "(untitled)", style="bold"))
    for key in ("id", "source", "canonical_url", "published_at", "modified_at", "first_seen_at", "last_seen_at",
                "authors", "language", "section", "word_count", "version", "cluster_id"):  # fmt: skip
        shown = cell_text(data.get(key))
        if key.endswith("_at") and shown:
            shown += " UTC"  # stored in UTC; the page's own offset is not kept
        console.print(Text(f"{key:>14}  ", style="dim") + Text(shown))
    if detail.article.removed_at is not None:
        # Kept, but gone from the site: said before its text.
        console.print(Text(f"removed {data['removed_at']}", style="bold red"))
    console.print()
    click.echo(data.get("text", ""))
    console.print()
    console.print(Text("URLs (renditions)", style="bold"))
    for rendition in detail.renditions:
        click.echo(f"  {rendition.kind:<11}  {rendition.url}")
    console.print(Text("Versions", style="bold"))
    for version in detail.versions:
        click.echo(f"  {version.version}  {version.seen_at:%Y-%m-%d %H:%M}  {len(version.text.split())} words  "
                   f"{version.content_hash[:12]}")  # fmt: skip
    if len(detail.versions) > 1:
        click.echo(f"  (newsdesk show {detail.article.id} --diff 1 {detail.versions[-1].version})")
    if publisher is not None:
        console.print(Text("Publisher's signals", style="bold"))
        for line in signal_lines(publisher):
            click.echo(f"  {line}")
    if detail.cluster_mates:
        console.print(Text(f"Same story (cluster {detail.article.cluster_id})", style="bold"))
        for mate in detail.cluster_mates:
            when = f"{mate.published_at:%Y-%m-%d %H:%M}" if mate.published_at else "undated"
            click.echo(f"  {mate.id}  {mate.source}  {when}  {mate.title or ''}")


@click.group(invoke_without_command=True)
@database_option
@click.option("--min-size", default=2, show_default=True, type=WholeNumber(min=1), help="At least this many articles.")
@click.option("--min-sources", default=1, show_default=True, type=WholeNumber(min=1),
              help="At least this many distinct sources.")  # fmt: skip
@click.option("--since", type=WhenType(), help="With a member published (or first seen) since: 7d, a date...")
@click.option("--limit", default=20, show_default=True, type=WholeNumber(min=1), help="At most this many clusters.")
@click.option("--summary", is_flag=True, help="One row per cluster instead of one per member.")
@include_removed_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def clusters(
    ctx: click.Context,
    min_size: int,
    min_sources: int,
    since,
    limit: int,
    summary: bool,
    include_removed: bool,
    fmt: str,
) -> None:
    """The largest stories: each member's source, published time and headline, grouped by cluster.

    `newsdesk clusters --since 7d` answers "which stories did more than one site carry this week,
    and what did each headline say". `clusters show ID` shows one story.
    """
    if ctx.invoked_subcommand is not None:
        return
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        found = queries.list_clusters(
            session,
            min_size=min_size,
            min_sources=min_sources,
            since=since,
            limit=limit,
            include_removed=include_removed,
        )
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


#: The clusters table: the member's article id and the cluster size go first on a narrow terminal.
CLUSTER_TABLE = (
    Column("cluster", justify="right", keep=9),
    Column("size", justify="right", keep=3),
    Column("source", keep=6),
    Column("published", keep=8),
    Column("headline", whole=False, keep=10),
    Column("id", justify="right", keep=2),
)


def _print_clusters_table(found: list[queries.ClusterSummary]) -> None:
    cells: list[list[str | Text]] = []
    section_ends = set()
    for cluster in found:
        for index, member in enumerate(cluster.members):
            first = index == 0
            when = f"{member.published_at:%Y-%m-%d %H:%M}" if member.published_at else "undated"
            cells.append([str(cluster.id) if first else "", str(cluster.size) if first else "", Text(member.source),
                          when, Text(member.title or ""), str(member.article_id)])  # fmt: skip
        section_ends.add(len(cells) - 1)
    print_table(CLUSTER_TABLE, cells, section_ends=frozenset(section_ends))


@clusters.command("show")
@database_option
@click.argument("cluster_id", type=WholeNumber())
@include_removed_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def clusters_show(ctx: click.Context, cluster_id: int, include_removed: bool, fmt: str) -> None:
    """One story: each member's source, headline and published time."""
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        cluster = queries.get_cluster(session, cluster_id, include_removed=include_removed)
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


#: Per-source stats; on a narrow terminal the fetch count and rates go before the last run.
STATS_TABLE = (
    Column("source", keep=9),
    Column("articles", justify="right", keep=8),
    Column("removed", justify="right", keep=1),
    Column("stories", justify="right", keep=5),
    Column("latest", justify="right", keep=7),
    Column("last run", whole=False, min_width=16, keep=6),
    Column("fetches", justify="right", keep=2),
    Column("errors", justify="right", keep=4),
    Column("not article", "not art.", justify="right", keep=3),
)


@click.command()
@database_option
@click.option("--days", default=14, show_default=True, type=click.IntRange(min=1, max=36_500), help="Days of articles per day.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def stats(ctx: click.Context, days: int, fmt: str) -> None:
    """Per-source counts, last run, error and not-an-article rates, and articles per day."""
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        corpus = queries.corpus_stats(session, days=days)
        signal_counts = signal_store.signal_counts(session)
    data = corpus.as_dict() | {"signals": signal_counts}
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    percent = lambda rate: "" if rate is None else f"{rate:.1%}"
    cells = []
    for s in corpus.sources:
        last_run = f"{s.last_run_at:%Y-%m-%d %H:%M} {s.last_run_status}" if s.last_run_at else ""
        latest = f"{s.latest_published_at:%Y-%m-%d}" if s.latest_published_at else ""
        cells.append([Text(s.source), f"{s.articles:,}", f"{s.removed:,}", f"{s.clusters:,}", latest, last_run,
                      f"{s.fetches:,}", percent(s.error_rate), percent(s.not_article_rate)])  # fmt: skip
    print_table(STATS_TABLE, cells, title=f"{corpus.articles:,} articles ({corpus.removed:,} removed), "
                f"{corpus.clusters:,} stories ({corpus.multi_article_clusters:,} seen more than once), "
                f"{corpus.runs:,} runs")  # fmt: skip
    if corpus.articles_per_day:
        per_day = Table(title="articles per published day")
        per_day.add_column("day")
        per_day.add_column("articles", justify="right")
        per_day.add_column("")
        peak = max(n for _, n in corpus.articles_per_day)
        for day, n in corpus.articles_per_day:
            per_day.add_row(day.isoformat(), f"{n:,}", "█" * max(1, round(30 * n / peak)))
        console.print(per_day)
    if signal_counts["read_for_signals"]:
        click.echo(signals_line(signal_counts))


@click.group(invoke_without_command=True)
@database_option
@click.option("--limit", default=20, show_default=True, type=WholeNumber(min=1))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@handle_user_errors
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """Recent crawl runs with their counts; `runs show ID` says what happened to each URL."""
    if ctx.invoked_subcommand is not None:
        return
    sessions = read_sessions_for(ctx)
    with sessions() as session:
        runs = run_log.list_runs(session, limit=limit)
    rows = [_run_dict(run) for run in runs]
    if fmt == "table":
        summaries = [{**_run_summary(row), "status": _status_text(run)} for row, run in zip(rows, runs, strict=True)]
        emit_rows(iter(summaries), fmt, RUN_SUMMARY_COLUMNS)
    else:
        emit_rows(iter(rows), fmt, ("id", "source", "started_at", "finished_at", "status", "counts"))


@runs.command("show")
@database_option
@click.argument("run_id", type=WholeNumber())
@click.option("--outcome", type=click.Choice(sorted(run_log.FETCH_OUTCOMES)), help="Only fetches with this outcome.")
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
        summary = _run_summary(_run_dict(run))
        console.print(Text(f"run {run.id}", style="bold") + Text(f"  {run.source}  started {run.started_at:%Y-%m-%d %H:%M}  "
                      f"{_status_text(run)}\n{summary['counts']}"), highlight=False)  # fmt: skip
        if run.error:
            console.print(f"{run.status}: {run.error}", markup=False, highlight=False, soft_wrap=True)
    emit_rows(iter(fetches), fmt, FETCH_COLUMNS if fmt == "table" else tuple(c.key for c in FETCH_COLUMNS))


#: The fetches of a run: the URL and its outcome stay on any terminal, the byte count goes first.
FETCH_COLUMNS = (
    Column("url", whole=False, ratio=3, min_width=20, keep=10),
    Column("status", justify="right", keep=5),
    Column("bytes", justify="right", keep=2),
    Column("outcome", keep=9),
    Column("reason", whole=False, ratio=2, keep=6),
    Column("article_id", "article", justify="right", keep=3),
)

#: The run summary: its counts are one wrapped cell (requests and stored first, then the other
#: outcomes that happened), so the table fits 80 columns however many outcomes there are.
RUN_SUMMARY_COLUMNS = (
    Column("id", justify="right", keep=9),
    Column("source", keep=4),
    Column("started_at", "started", keep=8),
    Column("status", keep=7),
    # As wide as the longest outcome name, so none is broken.
    Column("counts", whole=False, min_width=len("skipped-by-robots"), keep=5),
)


def _run_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "counts": counts_text(row["counts"])}


def _run_dict(run: run_log.RunRow) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    for key in ("started_at", "finished_at", "seen_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _status_text(run: run_log.RunRow) -> str:
    """The status, and for a run still marked running that stopped beating, since when it is silent."""
    if run_log.is_silent(run):
        return f"running? (silent since {run.seen_at or run.started_at:%Y-%m-%d %H:%M}: killed?)"
    return run.status


def _fetch_dict(fetch: run_log.FetchRow) -> dict[str, Any]:
    data = dataclasses.asdict(fetch)
    data["fetched_at"] = data["fetched_at"].isoformat()
    return data


READ_COMMANDS = (articles, show, clusters, stats, runs)
