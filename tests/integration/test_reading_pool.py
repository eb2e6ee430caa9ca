"""The extraction worker pool: a worker over its memory limit is replaced before it takes a page,
and a closed pool answers at once instead of reading in the crawl process or waiting."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future

from crawler.demo.generated import article_text
from crawler.discovery.scope import CrawlScope
from crawler.extraction import Article, Rejection
from crawler.reading import ReadRequest
from crawler.workers import ReadingPool

URL = "http://127.0.0.1:1/news/1"
REQUEST = ReadRequest(url=URL, scope=CrawlScope.from_start_urls(["http://127.0.0.1:1/"]))


def _page() -> bytes:
    headline, paragraphs = article_text(1)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='en'><head><title>{headline}</title><meta property='og:type' content='article'></head>"
        f"<body><article><h1>{headline}</h1>{body}</article></body></html>"
    ).encode()


def _read_with(pool: ReadingPool):
    pool.start()
    try:
        return asyncio.run(pool.read(_page(), REQUEST))
    finally:
        pool.close()


def test_workers_under_their_memory_limit_read_pages():
    reading = _read_with(ReadingPool(workers=2, timeout=60, max_rss_mb=100_000))
    assert isinstance(reading.extraction, Article)


def test_a_worker_over_its_memory_limit_retires_and_the_page_gets_one_more_worker(caplog):
    # A limit below any worker's size: each retires before taking the page. The page is offered
    # to one fresh worker more (and so is its reading for links alone), then recorded as crashed:
    # never lost silently, never an endless loop.
    with caplog.at_level(logging.INFO, logger="crawler.workers"):
        reading = _read_with(ReadingPool(workers=2, timeout=60, max_rss_mb=1))
    assert len([r for r in caplog.records if "retired" in r.getMessage()]) == 2
    assert isinstance(reading.extraction, Rejection) and reading.extraction.reason == "extraction-crashed"


def test_a_closed_pool_answers_at_once_without_reading_in_this_process():
    pool = ReadingPool(workers=2, timeout=60)
    pool.start()
    pool.close()
    started = time.monotonic()
    reading = asyncio.run(pool.read(_page(), REQUEST))
    assert isinstance(reading.extraction, Rejection) and reading.extraction.reason == "extraction-crashed"
    assert time.monotonic() - started < 5


class _PoolThatNeverAnswers:
    """Stands for a pool whose workers died where pebble cannot see it: pages go out, nothing
    comes back (the hang a signal to the crawl's group used to cause)."""

    def __init__(self):
        self.futures: list[Future] = []

    def schedule(self, function, args=(), timeout=None) -> Future:
        self.futures.append(Future())
        return self.futures[-1]


def test_a_page_no_worker_answers_is_given_up_within_its_deadline():
    pool = ReadingPool(workers=2, timeout=0.1)
    pool.pool = _PoolThatNeverAnswers()
    reading = asyncio.run(pool.read(_page(), REQUEST))
    assert isinstance(reading.extraction, Rejection) and reading.extraction.reason == "extraction-timeout"
    assert all(future.cancelled() for future in pool.pool.futures)
