"""The spider reads a feed or sitemap as what it is, whatever it was queued as."""

from __future__ import annotations

import asyncio

import scrapy
from scrapy.http import Response, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import FetchOutcome
from crawler.spiders.news import NewsSpider

SITE = "https://news.example"
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
    f"<item><title>One</title><link>{SITE}/2026/one</link></item>"
    f"<item><title>Two</title><link>{SITE}/2026/two</link></item></channel></rss>"
).encode()
SITEMAP = (
    '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    f"<url><loc>{SITE}/2026/three</loc></url></urlset>"
).encode()


def spider() -> NewsSpider:
    crawler = get_crawler(NewsSpider)
    return NewsSpider.from_crawler(crawler, start_urls=f"{SITE}/")


def response(url: str, body: bytes, content_type: str, kind: str) -> Response:
    request = scrapy.Request(url, meta={"kind": kind, "frontier_url": url})
    return XmlResponse(url, body=body, headers={"Content-Type": content_type, "ETag": '"v1"'}, request=request)


def split(outputs) -> tuple[list[scrapy.Request], list[FetchOutcome]]:
    outputs = list(outputs)
    return [o for o in outputs if isinstance(o, scrapy.Request)], [o for o in outputs if isinstance(o, FetchOutcome)]


def collect(agen) -> list:
    async def run():
        return [item async for item in agen]

    return asyncio.run(run())


def test_a_feed_fetched_as_a_page_is_read_as_a_feed_and_becomes_one():
    news = spider()
    requests, outcomes = split(collect(news.parse_page(response(f"{SITE}/latest.xml", RSS, "text/xml", "page"))))
    # The URL itself, re-queued as a feed: the frontier takes the kind for the next runs.
    assert [(r.url, r.meta["kind"]) for r in requests] == [
        (f"{SITE}/latest.xml", "feed"),
        (f"{SITE}/2026/one", "page"),
        (f"{SITE}/2026/two", "page"),
    ]
    [done] = outcomes
    assert done.outcome == "not-an-article" and done.reason.startswith("feed listing 2")
    assert done.etag == '"v1"' and done.requested_url == f"{SITE}/latest.xml"


def test_a_feed_named_as_a_sitemap_is_read_as_a_feed():
    requests, outcomes = split(spider().parse_sitemap(response(f"{SITE}/rss", RSS, "application/rss+xml", "sitemap")))
    assert [r.url for r in requests] == [f"{SITE}/2026/one", f"{SITE}/2026/two"]
    assert [o.outcome for o in outcomes] == ["not-an-article"]


def test_a_sitemap_named_as_a_feed_is_read_as_a_sitemap():
    requests, outcomes = split(spider().parse_feed(response(f"{SITE}/feed", SITEMAP, "application/xml", "feed")))
    assert [r.url for r in requests] == [f"{SITE}/2026/three"]
    assert [o.reason for o in outcomes] == ["sitemap listing 1 URLs in scope"]
