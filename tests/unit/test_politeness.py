"""crawler.politeness without a reactor: Retry-After parsing and pauses, robots.txt cap, size reasons."""

from __future__ import annotations

import time
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.politeness import (
    BodySizeLimit,
    RedirectScope,
    RetryAfterMiddleware,
    cap_robots_body,
    retry_after_seconds,
)
from crawler.spiders.news import NewsSpider


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds(b"120") == 120
    now = time.time()
    in_a_minute = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=60), usegmt=True)
    assert 58 <= retry_after_seconds(in_a_minute, now=now) <= 61
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") is None


def test_robots_body_is_cut_at_the_last_whole_line():
    body = b"User-agent: *\nDisallow: /a\nDisallow: /bbbbbbbb\n"
    assert cap_robots_body(body, 1000) == body
    assert cap_robots_body(body, 30) == b"User-agent: *\nDisallow: /a\n"


@pytest.fixture
def crawler():
    settings = {
        "NEWSDESK_RETRY_AFTER_ENABLED": True,
        "NEWSDESK_MAX_RETRY_AFTER": 5,
        "NEWSDESK_RETRY_AFTER_TIMES": 2,
        "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
        "EXTENSIONS": {"crawler.components.run.CrawlRun": 0},
    }
    crawler = get_crawler(NewsSpider, settings)
    crawler.spider = NewsSpider.from_crawler(crawler, start_urls="https://news.example/world/")
    crawler.stats.open_spider()
    return crawler


def test_retry_after_pauses_the_host_and_retries_up_to_the_cap(crawler):
    middleware = RetryAfterMiddleware.from_crawler(crawler)
    request = Request("https://news.example/world/1")
    response = Response(request.url, status=503, headers={"Retry-After": "3600"}, request=request)
    retry = middleware.process_response(request, response)
    assert isinstance(retry, Request) and retry.dont_filter and retry.meta["newsdesk_retry_after_times"] == 1
    assert 4 < middleware.paused_until["news.example"] - time.monotonic() <= 5  # 3600 s capped at 5
    again = middleware.process_response(retry, response)
    last = middleware.process_response(again, response)
    assert last is response and again.meta.get("dont_retry")
    plain = Response(request.url, status=429, request=request)
    assert middleware.process_response(request, plain) is plain  # no Retry-After: Scrapy's retries decide


def test_a_body_cut_at_max_size_gets_a_reason(crawler):
    middleware = BodySizeLimit.from_crawler(crawler)
    with pytest.raises(IgnoreRequest, match=r"body over 10 MB \(DOWNLOAD_MAXSIZE\)"):
        middleware.process_exception(Request("https://news.example/big"), DownloadCancelledError())
    assert middleware.process_exception(Request("https://news.example/x"), ValueError()) is None


def test_redirects_out_of_scope_are_refused(crawler):
    middleware = RedirectScope.from_crawler(crawler)
    inside = Request("https://news.example/world/2", meta={"redirect_urls": ["https://news.example/world/1"]})
    assert middleware.process_request(inside) is None
    assert middleware.process_request(Request("https://elsewhere.example/")) is None  # not a redirect
    with pytest.raises(IgnoreRequest, match="scope"):
        middleware.process_request(
            Request("https://elsewhere.example/", meta={"redirect_urls": ["https://news.example/world/1"]})
        )
