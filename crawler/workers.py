"""The pool of worker processes that read pages (see :mod:`crawler.reading`), off the reactor.

Reading is CPU-bound (about 30 ms on a real news page): inline it would stall downloads, and a
hostile page could stall them for a minute. Each page gets a hard timeout; pebble replaces a worker
that overruns it. With one worker, pages are read inline (no process to feed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import signal
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessPool

from crawler.extraction import Rejection, warm_up
from crawler.reading import PageReading, ReadRequest, read_page

__all__ = ["ReadingPool"]

#: A worker is replaced after this many pages, so memory a page leaves behind is given back.
PAGES_PER_WORKER = 500


def _start_reader() -> None:
    # Ctrl-C reaches the whole process group; the crawl decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()


class ReadingPool:
    def __init__(self, workers: int, timeout: float):
        self.workers = max(1, workers)
        self.timeout = timeout
        self.pool: ProcessPool | None = None

    def start(self) -> None:
        if self.workers > 1 and self.pool is None:
            # forkserver: workers must not inherit the running reactor's threads and sockets. The
            # server imports what workers run, warmed up, once: a worker replaced every
            # PAGES_PER_WORKER pages starts in milliseconds instead of seconds of loading.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.reading", "crawler.extraction.warmed", "storage.batches"])
            self.pool = ProcessPool(
                max_workers=self.workers, max_tasks=PAGES_PER_WORKER, context=context, initializer=_start_reader
            )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None

    async def read(self, html: bytes, request: ReadRequest) -> PageReading:
        if self.pool is None:
            return read_page(html, request)
        try:
            return await self._in_worker(html, request)
        except FutureTimeout:
            failure = Rejection("extraction-timeout", f"over {self.timeout:g} s")
        except Exception as exc:  # a worker that died (memory, segfault in lxml) surfaces here
            failure = Rejection("extraction-crashed", f"{type(exc).__name__}: {exc}")
        # The page's links are still worth following: read it again for discovery alone.
        try:
            discovery = await self._in_worker(html, dataclasses.replace(request, extract=False))
        except Exception:  # noqa: BLE001 - the failure recorded is the first one
            return PageReading(extraction=failure)
        return dataclasses.replace(discovery, next_part=None, extraction=failure)

    async def _in_worker(self, html: bytes, request: ReadRequest) -> PageReading:
        future = self.pool.schedule(read_page, args=(html, request), timeout=self.timeout)
        return await asyncio.wrap_future(future)
