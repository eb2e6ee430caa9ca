"""The ``newsdesk`` command: thin over ``storage`` queries and the crawl runner.

Commands parse options, call library functions and format rows. User errors are one clear line
and a non-zero exit. Scrapy is imported only inside the commands that crawl.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crawler.cli_schedule import schedule_command
from storage import queries
from storage import runs as run_log
from storage.db import DatabaseError, current_revision, head_revision, open_database, resolve_database_url, upgrade

console = Console()

FORMATS = ("table", "json", "jsonl", "csv")
TABLE_COLUMNS = ("id", "source", "published_at", "title", "word_count", "cluster_id", "version")


def handle_user_errors(command: Callable) -> Callable:
    """Database and input problems become one line on stderr, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper


def parse_when(value: str | None) -> datetime | None:
    """A date (2026-11-01), a datetime (ISO 8601) or a span back from now (90m, 12h, 7d, 2w)."""
    if value is None:
        return None
    text = value.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date, a datetime or a span like 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class WhenType(click.ParamType):
    name = "WHEN"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime | None:
        return value if isinstance(value, datetime) else parse_when(value)


def emit_rows(rows: Iterable[dict[str, Any]], fmt: str, columns: Iterable[str]) -> int:
    """Writes rows in the chosen format; returns how many were written."""
    columns = tuple(columns)
    count = 0
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
            count += 1
    elif fmt == "json":
        items = list(rows)
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        count = len(items)
    elif fmt == "csv":
        writer = None
        for row in rows:
            flat = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for k, v in row.items()}
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(flat))
                writer.writeheader()
            writer.writerow(flat)
            count += 1
    else:
        table = Table(show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
            count += 1
        console.print(table)
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    return text[:19] if len(text) > 19 and text[4:5] == "-" and text[10:11] == "T" else text


@click.group()
@click.option(
    "--db",
    "database_url",
    envvar="NEWSDESK_DATABASE_URL",
    default=None,
    help="Database URL (env NEWSDESK_DATABASE_URL; default sqlite:///newsdesk.db).",
)
@click.version_option(package_name="newsdesk")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """newsdesk: news websites in, a clean deduplicated SQL corpus out."""
    ctx.obj = resolve_database_url(database_url)


def sessions_for(ctx: click.Context):
    return open_database(ctx.obj)


# -- database ---------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
@click.pass_context
@handle_user_errors
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Bring the database schema up to date."""
    upgrade(ctx.obj, revision)
    click.echo(f"database at revision {current_revision(ctx.obj)}")


@db.command("current")
@click.pass_context
@handle_user_errors
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and the newest one available."""
    click.echo(f"current: {current_revision(ctx.obj) or '(empty database)'}")
    click.echo(f"head:    {head_revision()}")


# -- crawling ---------------------------------------------------------------------------------


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--url", "urls", multiple=True, help="Crawl from this start URL instead of a named source; repeatable.")
@click.option("--source", default=None, help="Source name for --url crawls (default: the first URL's host).")
@click.option("--sources", "sources_path", default=None, help="Sources file (env NEWSDESK_SOURCES; default ./sources.toml).")
@click.option("--recrawl-after", default=None, metavar="SPAN", help="Re-fetch stored articles older than this (6h, 2d).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting override.")
@click.pass_context
@handle_user_errors
def crawl(ctx: click.Context, names, urls, source, sources_path, recrawl_after, overrides) -> None:
    """Crawl named sources from the sources file, or start URLs given with --url.

    A crawl stopped by a crash or kill continues where it stopped when run again; a crawl run
    again after it finished fetches only what is new or may have changed.
    """
    from crawler.discovery.scope import CrawlScope
    from crawler.frontier import parse_duration
    from crawler.normalize import site_key
    from crawler.runner import CrawlTarget, run_crawls
    from crawler.sources import load_sources, resolve_sources_path

    if bool(names) == bool(urls):
        raise click.UsageError("name sources to crawl, or give --url (not both)")
    parse_duration(recrawl_after)  # a bad span fails here, not inside the crawl
    args = {"recrawl_after": recrawl_after} if recrawl_after else {}
    if urls:
        CrawlScope.from_start_urls(urls)  # rejects file:, data:, ftp: and host-less URLs up front
        targets = [CrawlTarget(source=source or site_key(urls[0]), start_urls=urls, spider_args=args)]
    else:
        path = resolve_sources_path(sources_path)
        known = load_sources(path)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise click.UsageError(f"no source {', '.join(map(repr, unknown))} in {path} (known: {', '.join(sorted(known))})")
        targets = [CrawlTarget(source=name, start_urls=(), spider_args={**args, "sources": str(path)}) for name in names]
    settings = dict(_parse_override(o) for o in overrides)
    open_database(ctx.obj)  # migrate first: a bad URL fails here with one line, not in the reactor
    stats = run_crawls(targets, ctx.obj, settings)
    _print_crawl_summary(stats)


def _parse_override(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"setting {text!r} is not NAME=VALUE")
    return name.strip(), value


def _print_crawl_summary(stats_by_source: dict[str, dict[str, Any]]) -> None:
    table = Table("source", "requests", "stored", "updated", "unchanged", "duplicate", "not-an-article", "errors")
    for source, stats in stats_by_source.items():
        outcome = functools.partial(lambda s, k: str(s.get(f"newsdesk/outcome/{k}", 0)), stats)
        table.add_row(
            source,
            str(stats.get("downloader/request_count", 0)),
            outcome("stored"),
            outcome("updated"),
            outcome("unchanged"),
            outcome("duplicate"),
            outcome("not-an-article"),
            str(sum(v for k, v in stats.items() if k in ("newsdesk/outcome/error",))),
        )
    console.print(table)


# -- reading ----------------------------------------------------------------------------------


@cli.command()
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


@cli.command()
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
    for key in ("id", "source", "canonical_url", "published_at", "modified_at", "authors", "language", "section", "word_count", "version", "cluster_id"):
        console.print(f"[dim]{key:>14}[/dim]  {_cell(data.get(key))}")
    console.print()
    click.echo(data.get("text", ""))


@cli.command()
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


@cli.group(invoke_without_command=True)
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
@click.pass_obj
@handle_user_errors
def runs_show(database_url: str, run_id: int, outcome: str | None, fmt: str) -> None:
    """Every URL a run fetched: status, size, outcome and the reason when it was not stored."""
    sessions = open_database(database_url)
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


# -- one page ---------------------------------------------------------------------------------


@cli.command()
@click.argument("target")
@click.option("--url", "page_url", default=None, help="The page's URL, for a FILE or - (resolves relative links).")
@click.option("--format", "fmt", type=click.Choice(("json", "text")), default="json", show_default=True)
@handle_user_errors
def extract(target: str, page_url: str | None, fmt: str) -> None:
    """What newsdesk makes of one page: TARGET is a file, an http(s) URL, or - for stdin."""
    from crawler.extraction import Article, extract_article

    body, charset, url = _read_page(target)
    result = extract_article(body, page_url or url, http_charset=charset)
    if not isinstance(result, Article):
        raise click.ClickException(f"not an article: {result.reason}" + (f" ({result.detail})" if result.detail else ""))
    data = dataclasses.asdict(result)
    for key in ("published_at", "modified_at"):
        data[key] = data[key].isoformat() if data[key] else None
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{data['title']}\n{', '.join(data['authors'])}  {data['published_at'] or ''}\n\n{data['text']}")


def _read_page(target: str) -> tuple[bytes, str | None, str]:
    """Bytes, header charset and URL of a page from stdin, a file, or the web."""
    if target == "-":
        return sys.stdin.buffer.read(), None, "http://localhost/"
    if target.startswith(("http://", "https://")):
        import urllib.request

        request = urllib.request.Request(target, headers={"User-Agent": "newsdesk-extract"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read(EXTRACT_MAX_BYTES + 1)
                charset = response.headers.get_content_charset()
        except OSError as exc:
            raise click.ClickException(f"could not fetch {target}: {exc}") from None
        if len(body) > EXTRACT_MAX_BYTES:
            raise click.ClickException(f"{target} is larger than {EXTRACT_MAX_BYTES} bytes")
        return body, charset, target
    try:
        with open(target, "rb") as handle:
            return handle.read(), None, "file://" + os.path.abspath(target)
    except OSError as exc:
        raise click.ClickException(f"cannot read {target}: {exc.strerror}") from None


EXTRACT_MAX_BYTES = 10 * 1024 * 1024


# -- the demo ---------------------------------------------------------------------------------


@cli.command()
@click.option("--show", "show_count", default=3, show_default=True, help="How many articles to print in full.")
@click.pass_context
@handle_user_errors
def demo(ctx: click.Context, show_count: int) -> None:
    """Serve the bundled offline news web, crawl it into the database and show what was stored."""
    from crawler.demo import DemoWeb
    from crawler.runner import CrawlTarget, run_crawls

    open_database(ctx.obj)
    with DemoWeb() as web:
        click.echo(f"demo news web at {web.base_url}/ ; crawling into {ctx.obj}")
        targets = [CrawlTarget(source=name, start_urls=(url,)) for name, url in web.site_urls.items()]
        stats = run_crawls(targets, ctx.obj, DEMO_SETTINGS)
    _print_crawl_summary(stats)
    sessions = sessions_for(ctx)
    with sessions() as session:
        rows = [row.as_dict() for row in queries.iter_articles(session, queries.ArticleFilter(limit=None))]
    emit_rows(iter(rows), "table", TABLE_COLUMNS)
    for row in rows[:show_count]:
        console.rule(f"[bold]{row['title']}[/bold]  ({row['source']}, {row['published_at']})")
        click.echo(_excerpt(row["text"]))
    click.echo(f"\n{len(rows)} articles stored. Try: newsdesk --db {ctx.obj} articles --format jsonl")


#: Local, fast and unthrottled: the demo web is ours and on loopback.
DEMO_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
}


def _excerpt(text: str, paragraphs: int = 3) -> str:
    parts = text.split("\n\n")
    more = " […]" if len(parts) > paragraphs else ""
    return "\n\n".join(parts[:paragraphs]) + more


cli.add_command(schedule_command)


def main() -> None:
    cli(prog_name="newsdesk")


if __name__ == "__main__":
    main()

