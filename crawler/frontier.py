"""A Scrapy scheduler over the database frontier (``storage.frontier``).

Scrapy's own queue lives in memory (or in JOBDIR files that lost 600-800 of 1,000 pages after a
kill -9). Here every discovered URL is written to the frontier table before it is fetched, leased
in small batches, and marked done by the store pipeline in the same transaction as its result.
A crawl started again after a crash continues where it stopped; a crawl started again after a
clean finish fetches only what may have changed.

Requests that must bypass de-duplication (Scrapy's retries, ``dont_filter``) wait in memory.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from scrapy.core.scheduler import BaseScheduler
from scrapy.utils.defer import deferred_from_coro

from crawler.components.run import CrawlRun
from crawler.normalize import canonical_url
from crawler.politeness import SharedHostPoliteness
from storage import articles as article_store
from storage import frontier
from storage import runs as run_log
from storage.db import OUTAGE_RETRIES, open_database, resolve_database_url, run_in_transaction

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["FrontierScheduler", "frontier_sync"]

#: Sent before fetched pages are marked done in the frontier (the store pipeline hands a batch
#: over): the scheduler writes the URLs discovered so far first.
frontier_sync = object()
#: URLs per INSERT when discovered URLs are written (a sitemap lists up to 50,000).
WRITE_CHUNK = 500
#: How long a worker with nothing to lease, while other workers hold URLs, waits before asking again.
IDLE_POLL_SECONDS = 1.0


class FrontierScheduler(BaseScheduler):
    """Keeps the frontier of the crawl run, and hands the engine one request at a time.

    Every frontier query and write runs in the crawl run's one database thread, in the order they
    were asked for, never on the reactor: a database that sleeps on a lock (SQLite's busy timeout)
    or a slow PostgreSQL round trip does not stall downloads. Leased URLs wait in memory, and a new
    lease is taken in the background before they run out.

    An exception here would stop the engine's loop and leave the crawl hanging: each is recorded
    as an error of the run (with its URL) instead, and the URL it concerns is kept, not dropped.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = resolve_database_url(settings.get("NEWSDESK_DATABASE_URL"))
        self.batch_size = settings.getint("NEWSDESK_FRONTIER_BATCH")
        self.in_memory: deque[Request] = deque()
        self.leased: deque[frontier.LeasedUrl] = deque()
        self.known: set[str] = set()
        #: URLs discovered and not yet handed to the database thread (see :meth:`write_discovered`).
        self.discovered: list[frontier.FrontierUrl] = []
        #: Leased rows no request could be made of (an error, recorded): released when the crawl closes.
        self.unserved: list[frontier.LeasedUrl] = []
        #: The latest write of discovered URLs; it is done when every earlier one is (one thread, FIFO).
        self.last_write: Future[bool] | None = None
        #: How many writes were handed over: a lease that started before the latest one may have
        #: missed URLs, so its "nothing left" is not believed.
        self.writes = 0
        #: The lease in flight, if any, and what the last one said: more URLs may be waiting.
        self.refill: Future | None = None
        self.frontier_has_more = True
        self.sessions = None
        self.spider = None
        self.database_failed = False
        self.closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        return cls(crawler)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.run = CrawlRun.of(self.crawler)
        self.run_id = self.run.begin()
        self.database = self.run.database
        self.source = self.run.source
        self.recrawl_after = self.run.recrawl_after
        self.owner = self.run.worker_id
        self.lease_seconds = self.run.lease_seconds
        # With shared host politeness a lease hands out no more of a host's URLs than it has free.
        self.host_slots = SharedHostPoliteness.of(self.crawler) is not None
        self.sessions = open_database(self.database_url)
        with self.sessions.begin() as session:
            reclaimed = frontier.reclaim_orphaned(session, self.source)
            hubs = frontier.reopen_hubs(session, self.source, run_id=self.run_id)
            due = 0
            if self.recrawl_after is not None:
                due = frontier.reopen_due_articles(
                    session, self.source, run_id=self.run_id, recrawl_after=self.recrawl_after
                )
        self.stats.set_value("newsdesk/frontier/hubs_reopened", hubs)
        self.stats.set_value("newsdesk/frontier/due_reopened", due)
        self.crawler.signals.connect(self.write_discovered, signal=frontier_sync)
        if reclaimed:
            logger.info("resuming %s: %d URLs left leased by a stopped crawl are pending again", self.source, reclaimed)
            self.stats.set_value("newsdesk/frontier/reclaimed", reclaimed)

    def close(self, reason: str) -> None:
        """Write what was discovered and give back what was leased and not fetched (waits for both)."""
        self.closed = True
        written = self.write_discovered()
        if written is not None:
            written.result()
        unfetched = [row.url for row in (*self.leased, *self.unserved)]
        if self.refill is not None:  # a lease the reactor has not taken delivery of
            unfetched += [row.url for row in self.refill.result()[0]]
            self.refill = None
        if unfetched and self.sessions is not None and not self.database_failed:
            self.database.submit(self._release, unfetched).result()

    def _release(self, urls: list[str]) -> None:  # in the database thread
        with self.sessions.begin() as session:
            frontier.release(session, self.source, self.owner, urls)

    def _in_reactor(self, function, *args) -> None:
        """Run ``function`` on the reactor thread (from the database thread)."""
        from twisted.internet import reactor

        reactor.callFromThread(function, *args)

    def _stop_on_database_error(self, exc: Exception) -> None:
        """A frontier write that fails for good (disk full, I/O error): close the crawl cleanly.

        Raising from the scheduler would kill the engine's loop and leave the crawl hanging. What
        was not recorded stays pending or leased in the frontier, so the next run picks it up.
        """
        if self.database_failed:
            return
        self.database_failed = True
        logger.error("frontier database failed, closing the crawl (a rerun continues from here): %s", exc)
        self.run.record_error("scheduler", exc)
        self.stats.set_value("newsdesk/frontier/database_error", str(exc)[:200])
        from twisted.internet import reactor

        reactor.callLater(0, lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason="database-error")))

    def has_pending_requests(self) -> bool:
        try:
            return self._has_pending_requests()
        except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
            self.run.record_error("scheduler", exc)
            return bool(self.in_memory or self.leased)

    def _has_pending_requests(self) -> bool:
        if self.in_memory or self.leased:
            return True
        self.write_discovered()
        if self.database_failed:
            return False
        if self.refill is not None or (self.last_write is not None and not self.last_write.done()):
            return True  # the database thread has not answered yet
        if self.frontier_has_more:
            self._refill()
            return True
        return False

    def enqueue_request(self, request: Request) -> bool:
        try:
            return self._enqueue_request(request)
        except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
            self.run.record_error("scheduler", exc, request.url)
            return False

    def _enqueue_request(self, request: Request) -> bool:
        frontier_url = request.meta.get("frontier_url")
        if frontier_url is not None and request.url != frontier_url and not request.dont_filter:
            return self._enqueue_redirect(request, frontier_url)
        if request.dont_filter or frontier_url is not None:
            # Retries and explicit re-requests: already in the frontier (or deliberately outside it).
            self.in_memory.append(request)
            return True
        # Known already, unless it now comes with a date, or as what it really is (a hub, a feed
        # or sitemap first met as a link): the frontier records that.
        kind = request.meta.get("kind", "page")
        tells_more = request.meta.get("lastmod") is not None or request.meta.get("hub") or kind != "page"
        if request.url in self.known and not tells_more:
            self.stats.inc_value("newsdesk/frontier/known")
            return False
        self.known.add(request.url)
        self.discovered.append(
            frontier.FrontierUrl(
                url=request.url,
                kind=kind,
                depth=request.meta.get("depth", 0),
                priority=request.priority,
                lastmod=request.meta.get("lastmod"),
                hub=bool(request.meta.get("hub")),
            )
        )
        return not self.database_failed

    def write_discovered(self) -> Future[bool] | None:
        """Hand the URLs discovered since the last call to the database thread, to be written in
        one transaction; returns the future of the latest write (``True`` once every URL discovered
        so far is in the frontier, ``False`` if the database failed first).

        Called before the frontier is read (next request, anything pending?) and, through
        :data:`frontier_sync`, before fetched pages are marked done: the store pipeline waits for
        this future, so a page is never done in the frontier while links found on it are not in it.
        """
        if self.discovered and not self.database_failed:
            items, self.discovered = self.discovered, []
            self.writes += 1
            self.frontier_has_more = True
            self.last_write = self.database.submit(self._write, items)
        return self.last_write

    def _write(self, items: list[frontier.FrontierUrl]) -> bool:  # in the database thread
        if self.database_failed:
            return False  # queued before the database failed: not written, its pages stay not done
        try:
            added = run_in_transaction(self.sessions, lambda session: self._add(session, items), retries=OUTAGE_RETRIES)
        except sa.exc.DBAPIError as exc:
            # Not written: the pages they were found on stay not done, so a rerun finds them again.
            self._in_reactor(self._stop_on_database_error, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - retried one by one, each failure recorded
            logger.warning("writing %d discovered URLs failed (%s); writing them one by one", len(items), exc)
            added = sum(self._add_alone(item) for item in items)
        self.stats.inc_value("newsdesk/frontier/added", added)
        self.stats.inc_value("newsdesk/frontier/already_done", len(items) - added)
        return True

    def _add(self, session, items: list[frontier.FrontierUrl]) -> int:
        chunks = (items[i : i + WRITE_CHUNK] for i in range(0, len(items), WRITE_CHUNK))
        return sum(
            len(frontier.add_urls(session, self.source, chunk, run_id=self.run_id, recrawl_after=self.recrawl_after))
            for chunk in chunks
        )

    def _add_alone(self, item: frontier.FrontierUrl) -> int:
        """Write one discovered URL; one that cannot be written is an error of the run, with its URL."""
        try:
            return run_in_transaction(self.sessions, lambda session: self._add(session, [item]), retries=OUTAGE_RETRIES)
        except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
            self.run.record_error("scheduler", exc, item.url)
            return 0

    def _enqueue_redirect(self, request: Request, frontier_url: str) -> bool:
        """A redirect to a URL this crawl already has is a duplicate: closed here, not fetched. One
        back to a URL of its own chain is a loop: the site's error, every URL of it named."""
        target = canonical_url(request.url)
        if target not in self.known:
            self.known.add(target)
            self.in_memory.append(request)
            return True
        chain = [canonical_url(url) for url in (frontier_url, *request.meta.get("redirect_urls", ()))]
        looped = target in chain
        outcome = "error" if looped else "duplicate"
        if looped:
            hops = list(dict.fromkeys(chain))
            reason = f"redirect loop: {' -> '.join([*hops[hops.index(target):], target])}"
        else:
            reason = f"redirects to {target}, already in this crawl"

        def close_redirect(session) -> None:
            run_log.record_fetch(
                session, self.run_id, url=frontier_url, status=None, bytes=None, outcome=outcome, reason=reason
            )
            frontier.complete(session, self.source, frontier_url, outcome=outcome, run_id=self.run_id)
            if not looped and article_store.redirects_home(frontier_url, target):
                # A stored story that now sends its readers to the home page has been removed.
                article_store.mark_removed(session, [frontier_url], datetime.now(UTC))

        def close_in_database_thread() -> None:
            try:
                run_in_transaction(self.sessions, close_redirect, retries=OUTAGE_RETRIES)
            except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
                self.run.record_error("scheduler", exc, frontier_url)

        self.database.submit(close_in_database_thread)
        self.stats.inc_value(f"newsdesk/outcome/{outcome}")
        return False

    def next_request(self) -> Request | None:
        if self.in_memory:
            return self.in_memory.popleft()
        try:
            self.write_discovered()
            if self.frontier_has_more and len(self.leased) <= self.batch_size // 2:
                self._refill()  # before the leased URLs run out
        except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
            self.run.record_error("scheduler", exc)
        while self.leased:
            row = self.leased.popleft()
            try:
                request = self.request_from_row(row)
            except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
                self.unserved.append(row)  # released at close: pending again for the next run
                self.run.record_error("scheduler", exc, row.url)
                continue
            self.stats.inc_value("scheduler/dequeued/frontier")
            return request
        return None

    def _refill(self) -> None:
        """Lease more URLs in the database thread, unless a lease is already on its way."""
        if self.refill is not None or self.database_failed:
            return
        self.refill = self.database.submit(self._lease, self.writes)
        self.refill.add_done_callback(lambda done: self._in_reactor(self._refilled, done))

    def _lease(self, writes: int) -> tuple[list[frontier.LeasedUrl], bool, int]:  # in the database thread
        """Leased rows, and whether the frontier may hold more for this crawl (pending, or leased
        by another live worker)."""
        if self.database_failed:
            return [], False, writes
        try:
            rows = run_in_transaction(
                self.sessions,
                lambda session: frontier.lease(
                    session, self.source, owner=self.owner, limit=self.batch_size, lease_seconds=self.lease_seconds,
                    host_slots=self.host_slots,
                ),  # fmt: skip
                retries=OUTAGE_RETRIES,
            )
            if rows:
                return rows, True, writes

            def more_to_come(session) -> bool:
                # Leases of a crashed worker on this host go back to pending at once.
                frontier.reclaim_orphaned(session, self.source)
                return frontier.has_pending(session, self.source, owner=self.owner)

            # Retried as the lease is: a database restart here is an outage, not the crawl's end.
            return [], run_in_transaction(self.sessions, more_to_come, retries=OUTAGE_RETRIES), writes
        except sa.exc.DBAPIError as exc:
            self._in_reactor(self._stop_on_database_error, exc)
        except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
            self.run.record_error("scheduler", exc)
        return [], False, writes

    def _refilled(self, done: Future) -> None:
        """On the reactor: the lease is back; its rows are served, and the engine is woken."""
        if self.closed:
            return  # close() has given its rows back
        rows, more, writes = done.result()
        self.refill = None
        self.leased.extend(rows)
        # A write handed over after this lease started may have added URLs it could not see.
        self.frontier_has_more = more or writes != self.writes
        if rows or writes != self.writes:
            self._wake_engine()
        elif self.frontier_has_more:
            # Nothing to take yet, but other workers hold URLs (theirs may bring more, or expire):
            # ask again in a moment rather than at once, which would keep the database busy.
            from twisted.internet import reactor

            reactor.callLater(IDLE_POLL_SECONDS, self._wake_engine)

    def _wake_engine(self) -> None:
        """Ask the engine for requests now. Scrapy has no public call for "the scheduler has more";
        without it, the engine's 5-second heartbeat would find them."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def request_from_row(self, row: frontier.LeasedUrl) -> Request:
        """The request for a URL leased from the frontier, with its conditional headers."""
        return self.spider.request_for(
            row.url,
            kind=row.kind,
            depth=row.depth,
            priority=row.priority,
            etag=row.etag,
            last_modified=row.last_modified,
            hub=row.hub,
            frontier=True,
        )
