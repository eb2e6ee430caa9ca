"""The one generic news spider: robots.txt, sitemaps and same-site links lead to pages.

Every page fetched becomes a :class:`~crawler.items.PageItem` (the pipelines decide whether it is
an article); every request that yields no page becomes a :class:`~crawler.items.FetchOutcome`
with its reason, so nothing leaves the crawl unexplained.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from protego import Protego
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.discovery.scope import CrawlScope
from crawler.discovery.sitemaps import read_sitemap
from crawler.discovery.feeds import FeedRefused, advertised_feeds, read_feed
from crawler.items import FetchOutcome, PageItem
from crawler.middlewares import RefusedAddress
from crawler.normalize import canonical_url, site_key
from crawler.pages import page_from_response

logger = logging.getLogger(__name__)

# Links to these are never pages worth fetching as articles.
_IGNORED_EXTENSIONS = [
    "jpg", "jpeg", "png", "gif", "webp", "svg", "ico", "bmp", "tif", "tiff", "avif",
    "mp3", "mp4", "m4a", "wav", "ogg", "webm", "mov", "avi", "mkv", "flv",
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "zip", "gz", "tgz", "rar", "7z",
    "exe", "dmg", "apk", "iso", "css", "js", "json", "woff", "woff2", "ttf",
]  # fmt: skip


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, start_urls: str | list[str] | None = None, source: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        urls = start_urls.split(",") if isinstance(start_urls, str) else list(start_urls or [])
        self.start_urls = [u.strip() for u in urls if u.strip()]
        self.scope = CrawlScope.from_start_urls(self.start_urls)
        self.source_name = source or site_key(self.start_urls[0])
        self.link_extractor = LinkExtractor(deny_extensions=_IGNORED_EXTENSIONS, unique=True)

    # -- discovery ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        robots_seen = set()
        for url in self.start_urls:
            robots_url = urljoin(url, "/robots.txt")
            if robots_url not in robots_seen:
                robots_seen.add(robots_url)
                yield scrapy.Request(robots_url, callback=self.parse_robots, errback=self.on_robots_error)
            yield self.page_request(url)

    def page_request(self, url: str, **meta: Any) -> scrapy.Request:
        return scrapy.Request(canonical_url(url), callback=self.parse_page, errback=self.on_error, meta=meta)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        robots = Protego.parse(response.text if isinstance(response, TextResponse) else "")
        for sitemap_url in robots.sitemaps:
            if sitemap_url in self.scope:
                yield scrapy.Request(sitemap_url, callback=self.parse_sitemap, errback=self.on_error)

    def on_robots_error(self, failure: Failure) -> None:
        logger.info("no robots.txt sitemaps for %s: %s", failure.request.url, failure.getErrorMessage())

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request | FetchOutcome]:
        sitemap = read_sitemap(response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        if sitemap is None:
            yield self.outcome(response.url, "error", "not a sitemap", response.status, len(response.body))
            return
        for entry in sitemap.entries:
            if entry.url not in self.scope:
                continue
            if sitemap.is_index:
                yield scrapy.Request(entry.url, callback=self.parse_sitemap, errback=self.on_error)
            else:
                yield self.page_request(entry.url)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request | FetchOutcome]:
        try:
            entries = read_feed(response.body, response.url)
        except FeedRefused as exc:
            yield self.outcome(response.url, "error", str(exc), response.status, len(response.body))
            return
        for entry in entries:
            if entry.url in self.scope:
                yield self.page_request(entry.url)

    def parse_page(self, response: Response) -> Iterator[scrapy.Request | PageItem | FetchOutcome]:
        page = page_from_response(response)
        if not page.is_html:
            yield self.outcome(page.url, "skipped", f"content type {page.content_type}", page.status, len(page.body))
            return
        requested = (response.meta.get("redirect_urls") or [response.request.url])[0]
        yield PageItem(source=self.source_name, page=page, requested_url=requested)
        if not isinstance(response, TextResponse):
            return
        if response.meta.get("depth", 0) == 0:
            for feed_url in advertised_feeds(response.text, response.url):
                if feed_url in self.scope:
                    yield scrapy.Request(feed_url, callback=self.parse_feed, errback=self.on_error)
        for link in self.link_extractor.extract_links(response):
            if link.url in self.scope:
                yield self.page_request(link.url)

    # -- failures ----------------------------------------------------------------------------

    def outcome(self, url: str, outcome: str, reason: str, status: int | None = None, size: int | None = None):
        return FetchOutcome(source=self.source_name, url=url, outcome=outcome, reason=reason, status=status, size=size)

    def on_error(self, failure: Failure) -> Iterator[FetchOutcome]:
        url = failure.request.url
        if failure.check(RefusedAddress) or "refused private address" in failure.getErrorMessage():
            yield self.outcome(url, "refused", failure.getErrorMessage())
        elif failure.check(HttpError):
            response = failure.value.response
            yield self.outcome(url, "error", f"HTTP {response.status}", response.status, len(response.body))
        elif failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            yield self.outcome(url, "skipped-by-robots", "forbidden by robots.txt")
        elif failure.check(IgnoreRequest):
            yield self.outcome(url, "skipped", failure.getErrorMessage() or "request ignored")
        else:
            yield self.outcome(url, "error", f"{failure.type.__name__}: {failure.getErrorMessage()}")
