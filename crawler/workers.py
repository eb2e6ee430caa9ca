"""The pool of worker processes that read pages (see :mod:`crawler.reading`), off the reactor.

Reading is CPU-bound (about 30 ms on a real news page): inline it would stall downloads, and a
hostile page could stall them for a minute. Each page gets a hard timeout; pebble replaces a worker
that overruns it. With one worker, pages are read inline (no process to feed). The crawl reads
through :meth:`ReadingPool.read` (asyncio); ``import-warc``, which has no event loop, through
:meth:`ReadingPool.submit`.

Workers live outside the crawl's process group and die with it (see :mod:`storage.processes`): a
signal to the crawl's group reaches the crawl alone, which closes the pool within
``CLOSE_SECONDS``. A worker whose memory grew past ``NEWSDESK_WORKER_MAX_RSS_MB`` is replaced
before it takes another page.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import resource
import signal
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

from crawler import settings
from crawler.extraction import Rejection, warm_up
from crawler.reading import PageReading, ReadRequest, read_page
from storage import processes

logger = logging.getLogger(__name__)

__all__ = ["CLOSE_SECONDS", "READING_BUG", "READING_FAILURES", "PendingReading", "ReadingPool"]

#: A worker is replaced after this many pages, so memory a page leaves behind is given back.
PAGES_PER_WORKER = 500
#: How long closing waits for pages still being read before it stops the workers.
CLOSE_SECONDS = 15.0
#: A worker that exits with this code took no page: it retired for its memory (see ``_read``).
RETIRED_EXIT_CODE = 75
#: Beyond its own timeout, how long a page may wait for a free worker, per page ahead of it.
_QUEUE_SLACK_SECONDS = 5.0
#: Rejection reasons that mean reading broke (the page is not known to be no article).
READING_FAILURES = frozenset({"extraction-timeout", "extraction-crashed", "extraction-failed"})
#: Of those, the one that is newsdesk's own fault (an exception in its reading code), not the
#: page's (a hostile page that hangs or kills a worker): an error of the run, as a crash elsewhere is.
READING_BUG = "extraction-failed"

#: In a worker: RSS in MB above which it retires before reading another page (0: never).
_max_rss_mb = 0


def _start_reader(max_rss_mb: int) -> None:
    global _max_rss_mb
    # Ctrl-C reaches the whole process group: should it reach a worker, the crawl still decides
    # when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes.die_with_parent()
    _max_rss_mb = max_rss_mb
    warm_up()


def _rss_mb() -> float:
    """This process's resident set, in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / (1024 * 1024)
    except OSError:
        return 0.0


def _read(html: bytes, request: ReadRequest) -> PageReading:
    """:func:`read_page` in a worker, which first retires if an earlier page left it too big.

    Checked before a page rather than after it: a worker cannot exit between sending its result
    and taking the next page, and exiting while holding a page would lose that page.
    """
    if _max_rss_mb and _rss_mb() > _max_rss_mb:
        os._exit(RETIRED_EXIT_CODE)
    return read_page(html, request)


class ReadingPool:
    def __init__(self, workers: int, timeout: float, max_rss_mb: int = 0):
        self.workers = max(1, workers)
        self.timeout = timeout
        self.max_rss_mb = max_rss_mb
        self.pool: ProcessPool | None = None
        self.closing = False
        self.in_flight = 0
        if self.workers > 1:
            # forkserver: workers must not inherit the running reactor's threads and sockets. The
            # server imports what workers run, warmed up, once: a worker replaced every
            # PAGES_PER_WORKER pages starts in milliseconds instead of seconds of loading. Asked
            # for here, before the writer can start the server.
            self.context = processes.forkserver_context(
                "crawler.reading", "crawler.extraction.warmed", "crawler.workers", "storage.batches"
            )

    @classmethod
    def with_project_settings(cls, workers: int) -> ReadingPool:
        """For commands that run no Scrapy crawl (import-warc, reextract): the crawl's timeout per
        page and memory cap, as crawler/settings.py sets them."""
        return cls(workers, timeout=settings.NEWSDESK_EXTRACT_TIMEOUT, max_rss_mb=settings.NEWSDESK_WORKER_MAX_RSS_MB)

    def start(self) -> None:
        if self.workers > 1 and self.pool is None:
            self.closing = False
            processes.start_forkserver()
            self.pool = ProcessPool(
                max_workers=self.workers,
                max_tasks=PAGES_PER_WORKER,
                context=self.context,
                initializer=_start_reader,
                initargs=(self.max_rss_mb,),
            )

    def close(self) -> None:
        """Let the workers finish the pages they hold, for ``CLOSE_SECONDS`` at most, then stop them."""
        self.closing = True
        pool, self.pool = self.pool, None
        if pool is None:
            return
        pool.close()
        try:
            pool.join(timeout=CLOSE_SECONDS)
            return
        except TimeoutError:
            logger.warning("extraction workers still busy %g s after the crawl closed; stopping them", CLOSE_SECONDS)
        pool.stop()
        # pebble's join waits for its threads; one stuck on a dead pipe must not hold the crawl.
        stopping = threading.Thread(target=pool.join, name="stop-readers", daemon=True)
        stopping.start()
        stopping.join(CLOSE_SECONDS)
        if stopping.is_alive():
            logger.error("extraction workers did not stop within %g s; they die with the crawl", CLOSE_SECONDS)

    def submit(self, html: bytes, request: ReadRequest) -> PendingReading:
        """Start reading a page in a worker (inline with one worker), for a caller without an event
        loop; :meth:`PendingReading.reading` waits for it."""
        if self.workers == 1:
            return PendingReading(self, html, request, done=read_page(html, request))
        if self.pool is None or self.closing:
            closed = _failure(RuntimeError("the worker pool is closed"), self.timeout)
            return PendingReading(self, html, request, done=PageReading(extraction=closed))
        try:
            future = self.pool.schedule(_read, args=(html, request), timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - a pool that broke fails its pages, as in the crawl
            return PendingReading(self, html, request, done=PageReading(extraction=_failure(exc, self.timeout)))
        return PendingReading(self, html, request, future=future)

    async def read(self, html: bytes, request: ReadRequest) -> PageReading:
        if self.workers == 1:
            return read_page(html, request)
        try:
            return await self._in_worker(html, request)
        except Exception as exc:  # a worker that died (memory, segfault in lxml) surfaces here
            failure = _failure(exc, self.timeout)
        if self.pool is None:
            return PageReading(extraction=failure)
        # The page's links are still worth following: read it again for discovery alone.
        try:
            discovery = await self._in_worker(html, dataclasses.replace(request, extract=False))
        except Exception:  # noqa: BLE001 - the failure recorded is the first one
            return PageReading(extraction=failure)
        return dataclasses.replace(discovery, next_part=None, extraction=failure)

    async def _in_worker(self, html: bytes, request: ReadRequest) -> PageReading:
        try:
            return await self._schedule(html, request)
        except ProcessExpired as exc:
            if exc.exitcode != RETIRED_EXIT_CODE:
                raise
            logger.info("extraction worker %s retired over %d MB (NEWSDESK_WORKER_MAX_RSS_MB)", exc.pid, self.max_rss_mb)
            return await self._schedule(html, request)  # a fresh worker reads it

    async def _schedule(self, html: bytes, request: ReadRequest) -> PageReading:
        if self.pool is None or self.closing:
            raise RuntimeError("the worker pool is closed")
        # pebble's timeout runs from when a worker takes the page; a page no worker ever takes (a
        # pool whose workers died and cannot be replaced) would wait forever without this one.
        ahead = math.ceil(self.in_flight / self.workers)
        deadline = (self.timeout + _QUEUE_SLACK_SECONDS) * (1 + ahead)
        future = self.pool.schedule(_read, args=(html, request), timeout=self.timeout)
        answer = asyncio.wrap_future(future)
        self.in_flight += 1
        try:
            done, _ = await asyncio.wait({answer}, timeout=deadline)
        finally:
            self.in_flight -= 1
        if not done:
            future.cancel()
            raise FutureTimeout(f"no worker read the page within {deadline:g} s")
        return answer.result()


class PendingReading:
    """A page handed to :meth:`ReadingPool.submit`: its reading, once a worker has read it.

    Waited for in the order submitted, so the pages ahead of one are read (or failed) when it is
    waited for: it waits for its own timeout, and a free worker, at most.
    """

    def __init__(self, pool: ReadingPool, html: bytes, request: ReadRequest, *, future=None, done=None):
        self.pool = pool
        self.html = html
        self.request = request
        self.future = future
        self.done: PageReading | None = done

    def reading(self) -> PageReading:
        """The page's reading; a worker that overran the timeout or died gives a Rejection of
        :data:`READING_FAILURES`, and one that retired for its memory hands the page to a fresh one."""
        if self.done is None:
            self.done = self._outcome()
        return self.done

    def cancel(self) -> None:
        """Not wanted any more: a worker still reading it is stopped."""
        if self.future is not None:
            self.future.cancel()

    def _outcome(self) -> PageReading:
        try:
            return self._wait()
        except ProcessExpired as exc:
            if exc.exitcode != RETIRED_EXIT_CODE or self.pool.pool is None:
                return PageReading(extraction=_failure(exc, self.pool.timeout))
            logger.info("extraction worker %s retired over %d MB (NEWSDESK_WORKER_MAX_RSS_MB)", exc.pid,
                        self.pool.max_rss_mb)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a worker that died (memory, segfault in lxml)
            return PageReading(extraction=_failure(exc, self.pool.timeout))
        try:
            self.future = self.pool.pool.schedule(_read, args=(self.html, self.request), timeout=self.pool.timeout)
            return self._wait()  # a fresh worker reads it
        except Exception as exc:  # noqa: BLE001 - the page's failure is the second worker's
            return PageReading(extraction=_failure(exc, self.pool.timeout))

    def _wait(self) -> PageReading:
        # pebble's timeout runs from when a worker takes the page; a page no worker ever takes (a
        # pool whose workers died and cannot be replaced) would wait forever without this one.
        deadline = self.pool.timeout + _QUEUE_SLACK_SECONDS
        try:
            return self.future.result(timeout=deadline)
        except FutureTimeout:
            self.future.cancel()
            raise


def _failure(exc: BaseException, timeout: float) -> Rejection:
    """Why a worker gave no reading, as the page's Rejection."""
    if isinstance(exc, FutureTimeout):
        return Rejection("extraction-timeout", f"over {timeout:g} s")
    return Rejection("extraction-crashed", f"{type(exc).__name__}: {exc}")
