"""Archiving while crawling: every response handed to a thread that writes it as WARC.

:class:`ArchiveMiddleware` sits next to the downloader, so it sees every response the crawl
receives as served (robots.txt, redirects, errors that are retried, compressed bodies), and only
copies it into a plain :class:`~storage.archive.Fetched` record for :class:`CrawlArchive`. That
thread writes the records (``storage.archive.WarcFiles``), syncs them, then commits their
``captures`` rows: the download path never waits on the disk or the database.

The store pipeline links a stored article to its capture (``capture_for`` then ``written``: the
link is written once the capture row is). A write that fails (disk full, I/O error) stops
archiving for the rest of the crawl, is logged at once, and is an error of the run; crawling and
storing go on.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from storage import archive as archive_store
from storage import values
from storage.db import OUTAGE_RETRIES, open_database, run_in_transaction

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["COPY_FLAG", "ArchiveMiddleware", "CrawlArchive"]

#: A response flag: served from a copy of an earlier fetch (robots.txt read for the rules), which
#: is archived already; this one is not.
COPY_FLAG = "copy"

#: Records written, synced and committed together at most.
GROUP = 64


class CrawlArchive:
    """The archive thread of one crawl: takes fetches in order, writes them, commits their rows."""

    def __init__(self, directory: Path, database_url: str, *, max_bytes: int, max_seconds: float):
        self.directory = directory
        self.database_url = database_url
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.queue: queue.SimpleQueue[archive_store.Fetched | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        #: Record ids handed over and not yet committed (or given up), and who waits on them.
        self.in_flight: set[str] = set()
        self.waiters: dict[str, Future[bool]] = {}
        #: URL -> record id of its latest response, until an item claims it.
        self.latest: dict[str, str] = {}
        #: Why archiving stopped (disk full, ...); None while it works.
        self.failure: str | None = None
        self.records = 0

    @classmethod
    def from_settings(cls, settings: Settings, database_url: str) -> CrawlArchive | None:
        """The crawl's archive, or None when ``NEWSDESK_ARCHIVE`` is off."""
        if not settings.getbool("NEWSDESK_ARCHIVE"):
            return None
        directory = settings.get("NEWSDESK_ARCHIVE_DIR")
        return cls(
            Path(directory) if directory else archive_store.default_archive_dir(database_url),
            database_url,
            max_bytes=settings.getint("NEWSDESK_ARCHIVE_MAX_MB") * 1024 * 1024,
            max_seconds=settings.getfloat("NEWSDESK_ARCHIVE_MAX_MINUTES") * 60,
        )

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="newsdesk-archive", daemon=True)
        self.thread.start()

    # -- the crawl's side ------------------------------------------------------------------------

    def keep(self, fetched: archive_store.Fetched) -> None:
        if self.failure is not None or self.thread is None:
            return
        with self.lock:
            self.in_flight.add(fetched.record_id)
        self.latest[fetched.url] = fetched.record_id
        self.queue.put(fetched)

    def capture_for(self, url: str) -> str | None:
        """The record id of ``url``'s latest response, once (the item stored from it claims it)."""
        return self.latest.pop(url, None)

    def written(self, record_id: str) -> Future[bool]:
        """Resolves to True once the record's capture row is committed, False if it never will be."""
        future: Future[bool] = Future()
        with self.lock:
            if record_id in self.in_flight:
                self.waiters[record_id] = future
                return future
        future.set_result(self.failure is None)
        return future

    def close(self) -> None:
        """Write what was handed over, finish the current file, stop the thread."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    # -- the archive thread ----------------------------------------------------------------------

    def _run(self) -> None:
        files = None
        sessions = None
        try:
            sessions = open_database(self.database_url)
            files = archive_store.WarcFiles(self.directory, max_bytes=self.max_bytes, max_seconds=self.max_seconds)
            logger.info("archiving every response to %s", self.directory)
        except Exception as exc:  # noqa: BLE001 - reported as the run's error when the crawl closes
            self._stop(f"archive not started: {type(exc).__name__}: {exc}")
        done = False
        while not done:
            group = [self.queue.get()]
            while len(group) < GROUP:
                try:
                    group.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            done = None in group
            fetches = [fetched for fetched in group if fetched is not None]
            if self.failure is None and fetches:
                self._write(files, sessions, fetches)
            else:
                self._settle([fetched.record_id for fetched in fetches], committed=False)
        if files is not None:
            try:
                files.close()
            except OSError as exc:
                self._stop(f"archive could not be closed: {exc}")

    def _write(self, files: archive_store.WarcFiles, sessions, fetches: list[archive_store.Fetched]) -> None:
        ids = [fetched.record_id for fetched in fetches]
        urls = [f.url for f in fetches if f.url not in files.written]
        try:
            # Retried as the writes are: a database restart is an outage to wait out, not a fault.
            previous = run_in_transaction(
                sessions, lambda session: archive_store.previous_captures(session, urls), retries=OUTAGE_RETRIES
            )
            rows = files.write(fetches, previous)
        except archive_store.ArchiveFull as exc:
            self._stop(f"archiving stopped: {exc}")
            self._settle(ids, committed=False)
            return
        except Exception as exc:  # noqa: BLE001 - any other fault stops archiving too, loudly
            self._stop(f"archiving stopped: {type(exc).__name__}: {exc}")
            self._settle(ids, committed=False)
            return
        try:
            run_in_transaction(sessions, lambda session: archive_store.record_captures(session, rows), retries=OUTAGE_RETRIES)
        except Exception as exc:  # noqa: BLE001 - the records stay in the files, unlisted
            logger.exception("%d archived records could not be listed in the database", len(rows))
            self._stop(f"capture rows not written: {type(exc).__name__}: {exc}")
            self._settle(ids, committed=False)
            return
        self.records += len(rows)
        self._settle(ids, committed=True)

    def _settle(self, record_ids: list[str], *, committed: bool) -> None:
        with self.lock:
            for record_id in record_ids:
                self.in_flight.discard(record_id)
                waiter = self.waiters.pop(record_id, None)
                if waiter is not None:
                    waiter.set_result(committed)

    def _stop(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            logger.error("%s; the crawl goes on without an archive (directory %s)", reason, self.directory)


class ArchiveMiddleware:
    """Hands every response, as served, to the crawl's archive (next to the downloader)."""

    def __init__(self, archive: CrawlArchive, stats):
        self.archive = archive
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        # Imported here: the run module builds the archive, so it imports this one.
        from crawler.components.run import CrawlRun

        archive = CrawlRun.of(crawler).archive
        if archive is None:
            raise NotConfigured  # NEWSDESK_ARCHIVE is off (no message: Scrapy would log one as a warning)
        return cls(archive, crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        if COPY_FLAG in response.flags:
            return response  # not fetched: archived when it was
        if not values.fits_url(response.url):
            # Its capture row could not be indexed by URL; one such page must not stop the archive.
            logger.warning(
                "not archiving %.200s...: URL over %d bytes (the crawl log says what became of it)",
                response.url, values.MAX_URL_BYTES,
            )
            self.stats.inc_value("newsdesk/archive/skipped/url-too-long")
            return response
        self.archive.keep(
            archive_store.Fetched(
                url=response.url,
                method=request.method,
                request_headers=_pairs(request.headers),
                status=response.status,
                response_headers=_pairs(response.headers),
                body=response.body,
                fetched_at=datetime.now(UTC),
                record_id=archive_store.new_record_id(),
            )
        )
        return response


def _pairs(headers) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values
    )
