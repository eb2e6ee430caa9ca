"""The suite's crash detector sees every way an unhandled error is reported, and nothing else.

A crash that the detector misses makes every reliability case pass while the crawl breaks: issue
12's lost sitemap batch was reported only as asyncio's ``Exception in callback``, which it missed.
The messages here are made by the code that logs them (asyncio, Scrapy's LogFormatter) wherever
that can be done without a crawl.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging

import pytest
from reliability_kit import CRASH_PATTERNS, Crawl
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.logformatter import LogFormatter
from scrapy.spiders import Spider
from twisted.python.failure import Failure

from crawler.logformatter import OneLineLogFormatter

pytestmark = pytest.mark.reliability


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.extend(self.format(record).splitlines())


def _asyncio_reports() -> list[str]:
    """What asyncio logs for a callback that raises and for a task whose exception nobody read."""
    handler = _Collect()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)

    def callback() -> None:
        raise TypeError("can't compare offset-naive and offset-aware datetimes")

    async def task() -> None:
        raise ValueError("lost")

    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(callback)
        forgotten = loop.create_task(task())
        loop.run_until_complete(asyncio.sleep(0.01))
        del forgotten
        gc.collect()
    finally:
        loop.close()
        asyncio_logger.removeHandler(handler)
    return handler.lines


def _scrapy_reports() -> list[str]:
    """Scrapy's own messages for a callback, a pipeline and a download that failed unhandled."""

    @dataclasses.dataclass
    class PageItem:
        url: str

    spider = Spider("news")
    request = Request("http://127.0.0.1:1/story")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    try:
        raise TypeError("boom")
    except TypeError:
        failure = Failure()
    made = [
        entry
        # Scrapy's own formatter, and newsdesk's (LOG_FORMATTER), which keeps its error lines.
        for formatter in (LogFormatter(), OneLineLogFormatter())
        for entry in (
            formatter.spider_error(failure, request, response, spider),
            formatter.item_error(PageItem(request.url), failure, response, spider),
            formatter.download_error(failure, request, spider, "Connection refused"),
        )
    ]
    return [entry["msg"] % entry["args"] for entry in made]


WRITTEN_BY_SCRAPY_AND_TWISTED = [
    # scrapy/core/scraper.py, engine.py, utils/signal.py: messages with no formatter to call.
    "2026-12-04 10:00:00 [scrapy.core.scraper] ERROR: Scraper bug processing <GET http://127.0.0.1:1/x>",
    "2026-12-04 10:00:00 [scrapy.utils.signal] ERROR: Error caught on signal handler: <bound method X.y>",
    "2026-12-04 10:00:00 [scrapy.core.engine] ERROR: Error while scheduling new request",
    "2026-12-04 10:00:00 [scrapy.core.engine] ERROR: Error while handling downloader output",
    "2026-12-04 10:00:00 [scrapy.core.engine] ERROR: Scheduler close failure",
    "2026-12-04 10:00:00 [scrapy.utils.asyncio] ERROR: Error calling the AsyncioLoopingCall function",
    "2026-12-04 10:00:00 [twisted] CRITICAL: Unhandled error in Deferred:",
    "2026-12-04 10:00:00 [twisted] CRITICAL: Unhandled Error",
]

EXPECTED_LINES = [
    # What a crawl logs on purpose about hostile inputs: reported, handled, not a crash.
    "2026-12-04 10:00:00 [scrapy.downloadermiddlewares.retry] ERROR: Gave up retrying <GET http://127.0.0.1:1/c/x/bad>"
    " (failed 2 times): 500 Internal Server Error",
    "2026-12-04 10:00:00 [crawler.politeness] INFO: HTTP 503 Retry-After 2 from 127.0.0.1:4321: pausing it 2.0 s",
    "2026-12-04 10:00:00 [crawler.politeness] WARNING: robots.txt of 127.0.0.1:4321 unavailable (HTTP 503): "
    "refusing that host for this crawl",
    "2026-12-04 10:00:00 [crawler.discovery.sitemaps] WARNING: sitemap not parsed: Document is empty, line 1",
    "2026-12-04 10:00:00 [scrapy.core.engine] INFO: Spider closed (finished)",
    " 'log_count/ERROR': 2,",
    " 'downloader/exception_type_count/twisted.internet.error.ConnectionRefusedError': 1,",
]


def _crash_lines(lines: list[str]) -> list[str]:
    crawl = Crawl(returncode=0, stderr="\n".join(lines), peak_rss_mb=0, seconds=0, database_url="")
    return crawl.crash_lines


def test_asyncio_reports_of_unhandled_errors_are_crashes():
    lines = _asyncio_reports()
    found = _crash_lines(lines)
    assert any("Exception in callback" in line for line in found), lines
    assert any("Task exception was never retrieved" in line for line in found), lines
    assert any(line.startswith("Traceback (most recent call last)") for line in found), lines


@pytest.mark.parametrize("line", _scrapy_reports() + WRITTEN_BY_SCRAPY_AND_TWISTED)
def test_scrapy_and_twisted_reports_of_unhandled_errors_are_crashes(line):
    assert CRASH_PATTERNS.search(line), line


@pytest.mark.parametrize("line", EXPECTED_LINES)
def test_what_the_crawl_logs_on_purpose_is_not_a_crash(line):
    assert not CRASH_PATTERNS.search(line), line
