"""Faults injected into one crawl component at a time, for the tests that prove no error hides.

Each component raises for the URLs that the test-only setting ``TEST_FAULT_URL`` (a
regular expression) matches, and behaves normally for every other URL. Enable one with ``-s``:
``SCHEDULER=tests.support.faults.FaultyScheduler``, ``SPIDER_MODULES=tests.support.faults`` (the
spider), or a pipeline / downloader middleware / extension added to ``ITEM_PIPELINES`` /
``DOWNLOADER_MIDDLEWARES`` / ``EXTENSIONS``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from scrapy import signals
from twisted.internet import defer

from crawler.frontier import FrontierScheduler
from crawler.spiders.news import NewsSpider


def _fault_pattern(settings) -> re.Pattern[str]:
    return re.compile(settings.get("TEST_FAULT_URL") or r"(?!)")


class FaultySpider(NewsSpider):
    """The news spider, whose page callback raises on the matching pages."""

    name = "news"

    async def parse_page(self, response):
        if _fault_pattern(self.settings).search(response.url):
            raise RuntimeError("injected callback fault")
        async for output in super().parse_page(response):
            yield output


class FaultyScheduler(FrontierScheduler):
    """The frontier scheduler, which fails to make a request of the matching leased URLs."""

    def request_from_row(self, row):
        if _fault_pattern(self.crawler.settings).search(row.url):
            raise RuntimeError("injected scheduler fault")
        return super().request_from_row(row)


class _ForMatchingUrls:
    def __init__(self, crawler):
        self.pattern = _fault_pattern(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class FaultyPipeline(_ForMatchingUrls):
    """Raises on the matching pages' items."""

    def process_item(self, item: Any) -> Any:
        page = getattr(item, "page", None)
        if page is not None and self.pattern.search(page.url):
            raise RuntimeError("injected pipeline fault")
        return item


class FaultyAsyncioCallback(_ForMatchingUrls):
    """Schedules an asyncio callback that raises, for the matching pages' items."""

    def process_item(self, item: Any) -> Any:
        page = getattr(item, "page", None)
        if page is not None and self.pattern.search(page.url):
            asyncio.get_event_loop().call_soon(_raise_in_callback)
        return item


class FaultyDeferred(_ForMatchingUrls):
    """Leaves a failed Deferred unhandled for the matching pages' items ("Unhandled error in Deferred")."""

    def process_item(self, item: Any) -> Any:
        page = getattr(item, "page", None)
        if page is not None and self.pattern.search(page.url):
            defer.fail(RuntimeError("injected unhandled Deferred fault"))
        return item


def _raise_in_callback() -> None:
    raise RuntimeError("injected asyncio callback fault")


class FaultyDownloaderMiddleware(_ForMatchingUrls):
    """Raises while processing the matching requests."""

    def process_request(self, request) -> None:
        if self.pattern.search(request.url):
            raise RuntimeError("injected downloader middleware fault")


class FaultySignalHandler(_ForMatchingUrls):
    """An extension whose ``item_scraped`` handler raises for the matching articles, as a feed
    exporter that cannot write an item does; Scrapy only logs such an error."""

    def __init__(self, crawler):
        super().__init__(crawler)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item, response, spider) -> None:
        if self.pattern.search(item.get("url", "")):
            raise RuntimeError("injected signal handler fault")


class FaultyExtraction(_ForMatchingUrls):
    """An extension that makes article extraction raise for the matching pages, as a bug in
    newsdesk's reading code would (read inline: NEWSDESK_EXTRACT_WORKERS=1)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        from crawler.extraction import article

        extract, pattern = article._extract, self.pattern

        def faulty_extract(html, url, http_charset):
            if pattern.search(url):
                raise RuntimeError("injected extraction fault")
            return extract(html, url, http_charset)

        article._extract = faulty_extract
