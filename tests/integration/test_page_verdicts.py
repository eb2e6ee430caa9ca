"""``newsdesk extract`` gives the crawl's verdict on every page, with the crawl's reason.

Both read a page through :func:`crawler.reading.read_page`; these tests crawl a web, then ask
``extract`` about every page the crawl read and compare: a story stored is an article for
``extract``; a page the crawl logged as not an article is refused with the same reason.
``extract`` is given the crawl's database (``--db``): what the crawl learnt of the site (its
hubs' templates, the pages its frame links) types pages for both.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from storage.db import open_database
from storage.runs import list_runs, run_fetches
from tests.support.news_web import NewsWeb

#: Outcomes of a page read as a story.
STORY_OUTCOMES = {"stored", "updated", "unchanged", "duplicate", "alias"}
#: Crawl-log reasons that are not a verdict on the page: robots.txt, sitemaps and feeds, and a
#: start URL, which the crawl takes for a hub whatever the page says.
NOT_PAGE_VERDICTS = ("robots.txt", "sitemap", "feed", "hub, read for links")


def _crawl_verdicts(scrapy_crawl, database_url: str, start_urls: list[str]) -> dict[str, str | None]:
    """URL -> None for a story, else the crawl log's reason, for every page the crawl read."""
    scrapy_crawl(database_url, "-a", "start_urls=" + ",".join(start_urls), "-s", "NEWSDESK_EXTRACT_WORKERS=1")
    with open_database(database_url)() as session:
        (run,) = list_runs(session)
        fetches = run_fetches(session, run.id)
    verdicts = {}
    for fetch in fetches:
        if fetch.status != 200 or (fetch.reason or "").startswith(NOT_PAGE_VERDICTS):
            continue
        verdicts[fetch.url] = None if fetch.outcome in STORY_OUTCOMES else fetch.reason
    return verdicts


def _extract_verdict(url: str, database_url: str) -> str | None:
    result = CliRunner().invoke(cli, ["extract", url, "--allow-private", "--db", database_url])
    if result.exit_code == 0:
        return None
    message = result.output.strip().removeprefix("Error: ")
    assert message.startswith("not an article: "), message
    return message.removeprefix("not an article: ")


def _assert_agree(verdicts: dict[str, str | None], database_url: str) -> None:
    assert verdicts
    disagree = {url: (crawl, _extract_verdict(url, database_url)) for url, crawl in verdicts.items()}
    disagree = {url: pair for url, pair in disagree.items() if pair[0] != pair[1]}
    assert disagree == {}, "crawl and extract disagree (crawl, extract): " + repr(disagree)


@pytest.mark.parametrize("web_kind", ["demo", "news"])
def test_extract_and_crawl_agree_on_every_page(scrapy_crawl, sqlite_url, web_kind, request):
    if web_kind == "demo":
        web = request.getfixturevalue("demo_web")
        verdicts = _crawl_verdicts(scrapy_crawl, sqlite_url, [web.base_url + "/"])
        _assert_agree(verdicts, sqlite_url)
        return
    with NewsWeb() as web:
        verdicts = _crawl_verdicts(scrapy_crawl, sqlite_url, web.start_urls)
        # Hubs, media and service pages and stories alike.
        assert any(v and v.startswith("hub (") for v in verdicts.values())
        assert any(v and v.startswith("service (") for v in verdicts.values())
        assert any(v is None for v in verdicts.values())
        _assert_agree(verdicts, sqlite_url)
