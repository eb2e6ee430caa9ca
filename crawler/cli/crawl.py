"""``newsdesk crawl`` and ``newsdesk demo``: Scrapy is imported only inside the commands."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from crawler.cli.errors import handle_user_errors
from crawler.cli.options import database_option
from crawler.cli.output import Column, console, counts_text, emit_rows, print_table
from crawler.settings_check import check_settings
from storage import queries
from storage.db import open_database

__all__ = ["DEMO_SETTINGS", "crawl", "demo", "next_command"]


# -- crawling ---------------------------------------------------------------------------------


progress_option = click.option(
    "--progress/--no-progress", default=None,
    help="Show pages/s, stored, queued and errors while crawling (default: when stderr is a terminal).",
)  # fmt: skip


def _show_progress(asked: bool | None) -> bool:
    """The live display is for a person at a terminal; logs, pipes and cron get none."""
    return sys.stderr.isatty() if asked is None else asked


@click.command()
@database_option
@click.argument("names", nargs=-1)
@click.option("--url", "urls", multiple=True, help="Crawl from this start URL instead of a named source; repeatable.")
@click.option("--source", default=None, help="Source name for --url crawls (default: the first URL's host).")
@click.option(
    "--sources", "sources_path", default=None, help="Sources file (env NEWSDESK_SOURCES; default ./sources.toml)."
)
@click.option(
    "--recrawl-after", default=None, metavar="SPAN", help="Re-fetch stored articles older than this (6h, 2d)."
)
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting override.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1),
    help="Crawl processes sharing the frontier (PostgreSQL only); run the same command on other machines to add more.",
)  # fmt: skip
@progress_option
@click.pass_context
@handle_user_errors
def crawl(ctx: click.Context, names, urls, source, sources_path, recrawl_after, overrides, workers, progress) -> None:
    """Crawl named sources from the sources file, or start URLs given with --url.

    A crawl stopped by a crash or kill continues where it stopped when run again; a crawl run
    again after it finished fetches only what is new or may have changed.
    """
    if looks_like_url := next((name for name in names if "://" in name), None):
        raise click.UsageError(f"{looks_like_url} is a URL, not a source's name: crawl it with --url {looks_like_url}")
    if workers > 1:
        _crawl_with_workers(ctx.obj, workers, names, urls, source, sources_path, recrawl_after, overrides)
        return
    from crawler.discovery.scope import CrawlScope
    from crawler.normalize import site_key
    from crawler.runner import CrawlTarget, run_crawls
    from crawler.sources import load_sources, parse_duration, resolve_sources_path

    if bool(names) == bool(urls):
        raise click.UsageError("name sources to crawl, or give --url (not both)")
    if recrawl_after:
        parse_duration(recrawl_after)  # a bad span fails here, not inside the crawl
    args = {"recrawl_after": recrawl_after} if recrawl_after else {}
    if urls:
        CrawlScope.from_start_urls(urls)  # rejects file:, data:, ftp: and host-less URLs up front
        source = source or site_key(urls[0])
        if not source.strip() or len(source) > SOURCE_NAME_MAX:
            shown = source if len(source) <= 60 else source[:60] + "…"
            raise click.UsageError(f"source name {shown!r} must be 1 to {SOURCE_NAME_MAX} characters (give --source)")
        targets = [CrawlTarget(source=source, start_urls=urls, spider_args=args)]
    else:
        path = resolve_sources_path(sources_path)
        known = load_sources(path)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise click.UsageError(
                f"no source {', '.join(map(repr, unknown))} in {path} (known: {', '.join(sorted(known))})"
            )
        targets = [
            CrawlTarget(source=name, start_urls=(), spider_args={**args, "sources": str(path)}) for name in names
        ]
    settings = check_settings(dict(_parse_override(o) for o in overrides))
    settings["NEWSDESK_PROGRESS"] = _show_progress(progress)
    open_database(ctx.obj)  # migrate first: a bad URL fails here with one line, not in the reactor
    stats = run_crawls(targets, ctx.obj, settings)
    _print_crawl_summary(stats)
    _fail_unless_finished(stats)


def _crawl_with_workers(database_url: str, workers: int, names, urls, source, sources_path, recrawl_after, overrides) -> None:
    """Start ``workers`` crawl processes of the same crawl on this machine, sharing its frontier.

    Each is the plain ``newsdesk crawl`` with the same arguments, so one started by hand (or by a
    systemd unit) on another machine with the same ``--db`` joins the same crawl.
    """
    import signal
    import subprocess
    from datetime import UTC, datetime

    from storage import runs as run_log
    from storage.db import dialect_name

    sessions = open_database(database_url)  # migrated once, before the workers start
    with sessions() as session:
        if dialect_name(session) != "postgresql":
            raise click.UsageError(
                "--workers needs PostgreSQL (--db postgresql+psycopg://...): SQLite keeps one writer, on one machine"
            )
    # One terminal cannot hold a live display per worker: the workers show none.
    command = [sys.executable, "-m", "crawler.cli", "--db", database_url, "crawl", "--no-progress", *names]
    command += [arg for url in urls for arg in ("--url", url)]
    for option, value in (("--source", source), ("--sources", sources_path), ("--recrawl-after", recrawl_after)):
        if value:
            command += [option, value]
    command += [arg for override in overrides for arg in ("-s", override)]
    launched_at = datetime.now(UTC)
    # Sessions of their own: a Ctrl-C or a service manager's SIGTERM reaches this process alone,
    # which passes it on once; a second one to a worker would stop it without its last batch.
    processes = [subprocess.Popen(command, start_new_session=True) for _ in range(workers)]

    def pass_on(signum: int, _frame: Any) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, pass_on) for signum in stopping}
    try:
        codes = [process.wait() for process in processes]
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    with sessions() as session:
        started = [run for name in _crawled_sources(names, urls, source) for run in run_log.runs_since(session, name, launched_at)]
    rows = [
        {"run": str(run.id), "worker": run.worker or "", "source": run.source or "", "status": run.status,
         "counts": counts_text(run.counts)}
        for run in started
    ]  # fmt: skip
    emit_rows(rows, "table", WORKER_RUN_COLUMNS)
    failed = [str(code) for code in codes if code != 0]
    if failed:
        raise click.ClickException(f"{len(failed)} of {workers} workers failed (exit {', '.join(failed)})")


#: The runs of a crawl's workers; the worker id (host:pid:run) wraps before the counts do.
WORKER_RUN_COLUMNS = (
    Column("run", justify="right", keep=9),
    Column("worker", whole=False, keep=2),
    Column("source", keep=4),
    Column("status", keep=7),
    Column("counts", whole=False, min_width=len("skipped-by-robots"), keep=5),
)


def _crawled_sources(names, urls, source) -> list[str]:
    from crawler.normalize import site_key

    return list(names) or [source or site_key(urls[0])]


def _fail_unless_finished(stats_by_source: dict[str, dict[str, Any]]) -> None:
    """A run that failed, finished with errors or was interrupted exits non-zero, one line each."""
    problems = [
        f"crawl of {source} {stats.get('newsdesk/run/status', 'failed')}: "
        f"{stats.get('newsdesk/run/reason', 'the crawl did not settle its run')}"
        for source, stats in stats_by_source.items()
        if stats.get("newsdesk/run/status") != "finished"
    ]
    if problems:
        raise click.ClickException("\n".join(problems))


#: The database's limit on a source name (sources.name is VARCHAR(200)).
SOURCE_NAME_MAX = 200


def _parse_override(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"setting {text!r} is not NAME=VALUE")
    return name.strip(), value


#: One row per crawl, its counts in one wrapped cell: the table fits 80 columns with any outcomes.
CRAWL_SUMMARY_COLUMNS = (
    Column("source", keep=4),
    Column("status", keep=7),
    Column("counts", whole=False, min_width=len("skipped-by-robots"), keep=5),
)


def _print_crawl_summary(stats_by_source: dict[str, dict[str, Any]]) -> None:
    rows = [
        {"source": source, "status": stats.get("newsdesk/run/status", ""), "counts": counts_text(_counts(stats))}
        for source, stats in stats_by_source.items()
    ]
    emit_rows(rows, "table", CRAWL_SUMMARY_COLUMNS)
    for source, stats in stats_by_source.items():  # a run that finished with a word to say (stopped at a limit)
        if stats.get("newsdesk/run/status") == "finished" and stats.get("newsdesk/run/reason"):
            click.echo(f"{source}: {stats['newsdesk/run/reason']}", err=True)


def _counts(stats: dict[str, Any]) -> dict[str, int]:
    """The counts a run keeps in the crawl log (CrawlRun.outcome_counts), from its Scrapy stats."""
    counts = {key.removeprefix("newsdesk/outcome/"): n for key, n in stats.items() if key.startswith("newsdesk/outcome/")}
    return {**counts, "requests": stats.get("downloader/request_count", 0), "exceptions": stats.get("newsdesk/errors", 0)}


# -- the demo ---------------------------------------------------------------------------------


@click.command()
@database_option
@click.option("--show", "show_count", default=3, show_default=True, help="How many articles to print in full.")
@click.option("--edition", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help="The demo web's edition: 2 is a day later (new stories, corrections, a source that broke).")  # fmt: skip
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Serve the demo web on this port (0: any free one); keep it across editions so URLs stay the same.")  # fmt: skip
@progress_option
@click.pass_context
@handle_user_errors
def demo(ctx: click.Context, show_count: int, edition: str, port: int, progress: bool | None) -> None:
    """Serve the bundled offline news web, crawl it into the database and show what was stored.

    Exits non-zero when a crawl did not finish cleanly; the last line says what to type next.
    """
    from datetime import UTC, datetime

    from crawler.demo import DemoWeb
    from crawler.runner import CrawlTarget, run_crawls

    sessions = open_database(ctx.obj)
    edition = int(edition)
    launched_at = datetime.now(UTC)
    with DemoWeb(edition=edition, port=port) as web:
        click.echo(f"demo news web (edition {edition}) at {web.base_url}/ ; crawling into {ctx.obj}")
        sites = {**web.site_urls, "wire": web.wire_url}
        targets = [CrawlTarget(source=name, start_urls=(url,)) for name, url in sites.items()]
        stats = run_crawls(targets, ctx.obj, {**DEMO_SETTINGS, "NEWSDESK_PROGRESS": _show_progress(progress)})
    _print_crawl_summary(stats)
    with sessions() as session:
        rows = [row.as_dict() for row in queries.iter_articles(session, queries.ArticleFilter(limit=None))]
    cells = [
        [str(row["id"]), row["source"], (row["published_at"] or "")[:10], row["title"] or "", str(row["word_count"]),
         str(row["cluster_id"])]
        for row in rows
    ]  # fmt: skip
    print_table(STORED_COLUMNS, cells, title="Stored articles")
    for row in rows[:show_count]:
        console.rule(f"[bold]{row['title']}[/bold]  ({row['source']}, {row['published_at']})")
        click.echo(_excerpt(row["text"]))
    unfinished = [source for source, figures in stats.items() if figures.get("newsdesk/run/status") != "finished"]
    if unfinished:
        click.echo(f"\n{len(rows)} articles stored in {ctx.obj}.")
        raise click.ClickException(_demo_failure(ctx.obj, stats, unfinished, sessions, launched_at))
    click.echo(f"\n{len(rows)} articles stored in {ctx.obj}. To list them:")
    click.echo(next_command(ctx.obj))


def _demo_failure(database_url: str, stats, unfinished: list[str], sessions, launched_at) -> str:
    """One line: which demo crawls did not finish cleanly, the first one's reason, and the command
    that shows its crawl log (or every run's, when several)."""
    from storage import runs as run_log

    with sessions() as session:
        run_ids = [run.id for source in unfinished for run in run_log.runs_since(session, source, launched_at)[-1:]]
    first = stats[unfinished[0]]
    status = {source: stats[source].get("newsdesk/run/status", "failed") for source in unfinished}
    reason = first.get("newsdesk/run/reason", "the crawl did not settle its run")
    if len(unfinished) == 1:
        what = f"demo crawl of {unfinished[0]} {status[unfinished[0]]}: {reason}"
    else:
        each = ", ".join(f"{source} {status[source]}" for source in unfinished)
        what = f"{len(unfinished)} demo crawls did not finish cleanly ({each}); {unfinished[0]}: {reason}"
    look = f"runs show {run_ids[0]}" if len(run_ids) == 1 else "runs"
    return f"{what}. To see why: {next_command(database_url, command=look)}"


def next_command(database_url: str, program: str | None = None, *, command: str = "articles") -> str:
    """The command to type next on the demo store (by default, the one that lists it), as the
    user can type it where they stand.

    The demo writes its own store, not ./newsdesk.db, so the line names it; and it names this very
    program, relative to the working directory (``.venv/bin/newsdesk`` after ``make demo``) when it
    lives below it, because that one is not on PATH.
    """
    program = program if program is not None else sys.argv[0]
    relative = os.path.relpath(program) if os.path.isabs(program) else program
    shown = "newsdesk" if relative.startswith("..") or os.sep not in relative else relative
    return f"{shown} {command} --db {database_url}"


#: The demo's stored articles: the headline wraps between words, ids and dates stay whole.
STORED_COLUMNS = (
    Column("id", justify="right", keep=9),
    Column("source", keep=5),
    Column("published", keep=7),
    Column("title", whole=False, keep=10),
    Column("words", justify="right", keep=2),
    Column("story", justify="right", keep=3),
)


#: Local, fast and unthrottled: the demo web is ours and on loopback.
DEMO_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    # The crawl log keeps every failure (`newsdesk runs show`); the demo's own traps need no shouting.
    "LOG_LEVEL": "CRITICAL",
}


def _excerpt(text: str, paragraphs: int = 3) -> str:
    parts = text.split("\n\n")
    more = " […]" if len(parts) > paragraphs else ""
    return "\n\n".join(parts[:paragraphs]) + more
