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
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from scrapy.core.scheduler import BaseScheduler
from scrapy.utils.defer import deferred_from_coro

from crawler.normalize import canonical_url
from crawler.sources import parse_duration
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


def _duration_or_none(text: str | None) -> timedelta | None:
    """A recrawl interval; unset or empty means "only when a sitemap or feed says it changed"."""
    return parse_duration(text) if text else None


class FrontierScheduler(BaseScheduler):
    """Starts the crawl run, keeps the frontier, and hands the engine one request at a time."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = resolve_database_url(settings.get("NEWSDESK_DATABASE_URL"))
        self.lease_seconds = settings.getfloat("NEWSDESK_FRONTIER_LEASE_SECONDS")
        self.batch_size = settings.getint("NEWSDESK_FRONTIER_BATCH")
        self.default_recrawl_after = _duration_or_none(settings.get("NEWSDESK_RECRAWL_AFTER"))
        self.in_memory: deque[Request] = deque()
        self.leased: deque[frontier.LeasedUrl] = deque()
        self.known: set[str] = set()
        #: URLs discovered and not yet written to the frontier (see :meth:`write_discovered`).
        self.discovered: list[frontier.FrontierUrl] = []
        self.sessions = None
        self.spider = None
        self.database_failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        return cls(crawler)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.source = spider.source_name
        self.recrawl_after = _duration_or_none(getattr(spider, "recrawl_after", None)) or self.default_recrawl_after
        self.sessions = open_database(self.database_url)
        with self.sessions.begin() as session:
            self.run_id = run_log.start_run(session, self.source)
            self.owner = frontier.lease_owner(self.run_id)
            reclaimed = frontier.reclaim_orphaned(session, self.source)
            hubs = frontier.reopen_hubs(session, self.source, run_id=self.run_id)
            due = 0
            if self.recrawl_after is not None:
                due = frontier.reopen_due_articles(
                    session, self.source, run_id=self.run_id, recrawl_after=self.recrawl_after
                )
        spider.run_id = self.run_id
        self.stats.set_value("newsdesk/frontier/hubs_reopened", hubs)
        self.stats.set_value("newsdesk/frontier/due_reopened", due)
        self.crawler.signals.connect(self.write_discovered, signal=frontier_sync)
        if reclaimed:
            logger.info("resuming %s: %d URLs left leased by a stopped crawl are pending again", self.source, reclaimed)
            self.stats.set_value("newsdesk/frontier/reclaimed", reclaimed)

    def close(self, reason: str) -> None:
        self.write_discovered()
        unfetched = [row.url for row in self.leased]
        if unfetched and self.sessions is not None:
            with self.sessions.begin() as session:
                frontier.release(session, self.source, self.owner, unfetched)

    def _stop_on_database_error(self, exc: Exception) -> None:
        """A frontier write that fails for good (disk full, I/O error): close the crawl cleanly.

        Raising from the scheduler would kill the engine's loop and leave the crawl hanging. What
        was not recorded stays pending or leased in the frontier, so the next run picks it up.
        """
        if self.database_failed:
            return
        self.database_failed = True
        logger.error("frontier database failed, closing the crawl (a rerun continues from here): %s", exc)
        self.stats.set_value("newsdesk/frontier/database_error", str(exc)[:200])
        from twisted.internet import reactor

        reactor.callLater(0, lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason="database-error")))

    def has_pending_requests(self) -> bool:
        if self.in_memory or self.leased:
            return True
        self.write_discovered()
        if self.database_failed:
            return False
        try:
            with self.sessions.begin() as session:
                # Leases of a crashed worker on this host go back to pending at once.
                frontier.reclaim_orphaned(session, self.source)
                return frontier.has_pending(session, self.source, owner=self.owner)
        except sa.exc.DBAPIError as exc:
            self._stop_on_database_error(exc)
            return False

    def enqueue_request(self, request: Request) -> bool:
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

    def write_discovered(self) -> None:
        """Write the URLs discovered since the last call to the frontier, in one transaction.

        Called before the frontier is read (next request, anything pending?) and, through
        :data:`frontier_sync`, before fetched pages are marked done: a page is never done in the
        frontier while links found on it are not yet in it.
        """
        if not self.discovered or self.database_failed:
            return
        items, self.discovered = self.discovered, []

        def add(session) -> int:
            chunks = (items[i : i + WRITE_CHUNK] for i in range(0, len(items), WRITE_CHUNK))
            return sum(
                len(frontier.add_urls(session, self.source, chunk, run_id=self.run_id, recrawl_after=self.recrawl_after))
                for chunk in chunks
            )

        try:
            added = run_in_transaction(self.sessions, add, retries=OUTAGE_RETRIES)
        except sa.exc.DBAPIError as exc:
            self._stop_on_database_error(exc)
            return
        self.stats.inc_value("newsdesk/frontier/added", added)
        self.stats.inc_value("newsdesk/frontier/already_done", len(items) - added)

    def _enqueue_redirect(self, request: Request, frontier_url: str) -> bool:
        """A redirect to a URL this crawl already has is a duplicate: closed here, not fetched."""
        target = canonical_url(request.url)
        if target not in self.known:
            self.known.add(target)
            self.in_memory.append(request)
            return True

        def close_as_duplicate(session) -> None:
            reason = f"redirects to {target}, already in this crawl"
            run_log.record_fetch(
                session, self.run_id, url=frontier_url, status=None, bytes=None, outcome="duplicate", reason=reason
            )
            frontier.complete(session, self.source, frontier_url, outcome="duplicate", run_id=self.run_id)

        run_in_transaction(self.sessions, close_as_duplicate, retries=OUTAGE_RETRIES)
        self.stats.inc_value("newsdesk/outcome/duplicate")
        return False

    def next_request(self) -> Request | None:
        if self.in_memory:
            return self.in_memory.popleft()
        self.write_discovered()
        if not self.leased and not self.database_failed:
            try:
                rows = run_in_transaction(
                    self.sessions,
                    lambda session: frontier.lease(
                        session, self.source, owner=self.owner, limit=self.batch_size, lease_seconds=self.lease_seconds
                    ),
                    retries=OUTAGE_RETRIES,
                )
            except sa.exc.DBAPIError as exc:
                self._stop_on_database_error(exc)
                rows = []
            self.leased.extend(rows)
        if not self.leased:
            return None
        row = self.leased.popleft()
        self.stats.inc_value("scheduler/dequeued/frontier")
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
