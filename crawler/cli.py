"""The ``newsdesk`` command: thin over ``storage`` queries and the crawl runner.

Commands parse options, call library functions and format rows. User errors are one clear line
and a non-zero exit. Scrapy is imported only inside the commands that crawl.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from typing import Any

import click
from rich.table import Table

from crawler.cli_common import console, handle_user_errors, sessions_for
from crawler.cli_query import READ_COMMANDS
from crawler.cli_schedule import schedule_command
from storage import queries
from storage.db import current_revision, head_revision, open_database, resolve_database_url, upgrade


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
@click.option(
    "--sources", "sources_path", default=None, help="Sources file (env NEWSDESK_SOURCES; default ./sources.toml)."
)
@click.option(
    "--recrawl-after", default=None, metavar="SPAN", help="Re-fetch stored articles older than this (6h, 2d)."
)
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting override.")
@click.pass_context
@handle_user_errors
def crawl(ctx: click.Context, names, urls, source, sources_path, recrawl_after, overrides) -> None:
    """Crawl named sources from the sources file, or start URLs given with --url.

    A crawl stopped by a crash or kill continues where it stopped when run again; a crawl run
    again after it finished fetches only what is new or may have changed.
    """
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
        targets = [CrawlTarget(source=source or site_key(urls[0]), start_urls=urls, spider_args=args)]
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
    settings = dict(_parse_override(o) for o in overrides)
    open_database(ctx.obj)  # migrate first: a bad URL fails here with one line, not in the reactor
    stats = run_crawls(targets, ctx.obj, settings)
    _print_crawl_summary(stats)
    _fail_unless_finished(stats)


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


def _parse_override(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"setting {text!r} is not NAME=VALUE")
    return name.strip(), value


def _print_crawl_summary(stats_by_source: dict[str, dict[str, Any]]) -> None:
    table = Table(
        "source", "status", "requests", "stored", "updated", "unchanged", "duplicate", "not-an-article", "refused", "error", "exceptions"
    )
    for source, stats in stats_by_source.items():
        outcome = functools.partial(lambda s, k: str(s.get(f"newsdesk/outcome/{k}", 0)), stats)
        table.add_row(
            source,
            str(stats.get("newsdesk/run/status", "")),
            str(stats.get("downloader/request_count", 0)),
            outcome("stored"),
            outcome("updated"),
            outcome("unchanged"),
            outcome("duplicate"),
            outcome("not-an-article"),
            outcome("refused"),
            outcome("error"),
            str(stats.get("newsdesk/errors", 0)),
        )
    console.print(table)


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
        raise click.ClickException(
            f"not an article: {result.reason}" + (f" ({result.detail})" if result.detail else "")
        )
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
    table = Table("id", "source", "published", "title", "words", "story", title="Stored articles")
    for row in rows:
        published = (row["published_at"] or "")[:10]
        table.add_row(
            str(row["id"]), row["source"], published, row["title"] or "", str(row["word_count"]), str(row["cluster_id"])
        )
    console.print(table)
    for row in rows[:show_count]:
        console.rule(f"[bold]{row['title']}[/bold]  ({row['source']}, {row['published_at']})")
        click.echo(_excerpt(row["text"]))
    click.echo(f"\n{len(rows)} articles stored. Try: newsdesk --db {ctx.obj} articles --format jsonl")


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


for command in (*READ_COMMANDS, schedule_command):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="newsdesk")


if __name__ == "__main__":
    main()
