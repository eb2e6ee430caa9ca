"""``newsdesk extract``: what newsdesk makes of one page, fetched behind the crawl's address guard."""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import click

from crawler import settings as crawl_settings
from crawler.cli.errors import handle_user_errors

__all__ = ["EXTRACT_MAX_BYTES", "extract"]


# -- one page ---------------------------------------------------------------------------------


@click.command()
@click.argument("target")
@click.option("--url", "page_url", default=None, help="The page's URL, for a FILE or - (resolves relative links).")
@click.option("--format", "fmt", type=click.Choice(("json", "text")), default="json", show_default=True)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Fetch from loopback and private addresses too (refused by default, as in a crawl).",
)
@handle_user_errors
def extract(target: str, page_url: str | None, fmt: str, allow_private: bool) -> None:
    """What newsdesk makes of one page: TARGET is a file, an http(s) URL, or - for stdin.

    The page is read as the crawl reads it (page type, walls, extraction: the same function), so
    the verdict and its reason are the crawl's.
    """
    from crawler.discovery.scope import CrawlScope
    from crawler.extraction import Article
    from crawler.reading import ReadRequest, read_page

    body, charset, url = _read_page(target, allow_private=allow_private)
    request = ReadRequest(
        url=page_url or url,
        scope=CrawlScope(()),  # links are not wanted here
        http_charset=charset,
        max_text_chars=crawl_settings.NEWSDESK_MAX_ARTICLE_CHARS,
        max_elements=crawl_settings.NEWSDESK_MAX_PAGE_ELEMENTS,
    )
    reading = read_page(body[:EXTRACT_READ_BYTES], request)
    result = reading.extraction
    if reading.not_article_reason is not None:
        raise click.ClickException(f"not an article: {reading.not_article_reason}")
    if not isinstance(result, Article):
        raise click.ClickException(
            f"not an article: {result.reason}" + (f": {result.detail}" if result.detail else "")
        )
    data = dataclasses.asdict(result)
    data["page_type"] = reading.page_type.describe()
    for key in ("published_at", "modified_at"):
        data[key] = data[key].isoformat() if data[key] else None
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{data['title']}\n{', '.join(data['authors'])}  {data['published_at'] or ''}\n\n{data['text']}")


def _read_page(target: str, *, allow_private: bool) -> tuple[bytes, str | None, str]:
    """Bytes, header charset and URL of a page from stdin, a file, or the web.

    At most ``EXTRACT_MAX_BYTES`` are read from any of them, the crawl's DOWNLOAD_MAXSIZE: a
    larger page is refused as the crawl refuses it, and /dev/zero cannot fill the memory.
    """
    if "://" in target:
        from crawler.page_fetch import FetchRefused, fetch_page

        try:
            page = fetch_page(target, max_bytes=EXTRACT_MAX_BYTES + 1, allow_private=allow_private)
        except FetchRefused as exc:
            raise click.ClickException(str(exc)) from None
        body, charset, url = page.body, page.charset, page.url
    elif target == "-":
        body, charset, url = sys.stdin.buffer.read(EXTRACT_MAX_BYTES + 1), None, "http://localhost/"
    else:
        try:
            with open(target, "rb") as handle:
                body = handle.read(EXTRACT_MAX_BYTES + 1)
        except OSError as exc:
            raise click.ClickException(f"cannot read {target}: {exc.strerror}") from None
        charset, url = None, "file://" + os.path.abspath(target)
    if len(body) > EXTRACT_MAX_BYTES:
        raise click.ClickException(f"{target} is larger than {EXTRACT_MAX_BYTES:,} bytes (DOWNLOAD_MAXSIZE)")
    return body, charset, url


#: The crawl's limits: a body over DOWNLOAD_MAXSIZE is refused, and only the first
#: NEWSDESK_MAX_HTML_BYTES of one are read.
EXTRACT_MAX_BYTES = crawl_settings.DOWNLOAD_MAXSIZE
EXTRACT_READ_BYTES = crawl_settings.NEWSDESK_MAX_HTML_BYTES
