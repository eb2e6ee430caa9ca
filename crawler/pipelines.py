"""Item pipelines: thin adapters from the crawl to normalisation and storage.

Pages arrive read (links, page type, article: see :mod:`crawler.reading`, run in the worker pool by
the spider). Flow: NormalisePipeline (pure) -> StorePipeline (batched writes plus the crawl log).
Drop reasons are DropItem subclasses, so Scrapy's stats count each one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem
from scrapy.utils.asyncio import create_looping_call
from twisted.python.failure import Failure

from crawler.components.run import CrawlRun
from crawler.components.site_signals import capture_signals
from crawler.discovery.dates import to_utc
from crawler.extraction import Article, Rejection, count_words
from crawler.frontier import frontier_sync
from crawler.items import FetchOutcome, PageItem, exported_article
from crawler.normalize import article_to_store
from crawler.reading import EXTRACTOR_VERSION, REJECTION_OUTCOMES
from crawler.workers import READING_BUG, READING_FAILURES
from storage.batches import BatchTarget, BatchWriter, FetchResult, WriteFailed
from storage.db import resolve_database_url
from storage.frontier import STORY_OUTCOMES
from storage.site_profiles import ProfileSettings

if TYPE_CHECKING:
    from concurrent.futures import Future

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["NormalisePipeline", "NotAnArticle", "RefusedByPublisher", "StorePipeline"]


class _LoggedDrop(DropItem):
    """A drop that is an expected outcome, already in the crawl log: logged at INFO, not WARNING."""

    def __init__(self, message: str):
        super().__init__(message, log_level="INFO")


class NotAnArticle(_LoggedDrop):
    """The page was fetched and read, and is not an article (its reason is in the crawl log)."""


class FetchFailed(_LoggedDrop):
    """The URL gave no page to read (an HTTP or network error, a refused connection); in the log."""


class NotRead(_LoggedDrop):
    """The URL was not read on purpose (robots.txt, a 304 Not Modified, out of the date range)."""


class NotWritten(DropItem):
    """With a feed: the article's batch could not be written (an error of the run, already counted)."""


class NotStoredAgain(_LoggedDrop):
    """With a feed (``-O``): the article was already in the store (a duplicate, or unchanged)."""


class RefusedByPublisher(_LoggedDrop):
    """The publisher reserves text and data mining and NEWSDESK_REFUSE_TDM_RESERVED is on."""


class ExtractionFailed(DropItem):
    """Extraction timed out, crashed or raised on the page; recorded as an error."""


#: How a URL that gave no page to extract is dropped, by its outcome: Scrapy counts drops by
#: class (``item_dropped_reasons_count/...``), so a hub must not be counted as a failed fetch.
_DROPS: dict[str, type[DropItem]] = {"error": FetchFailed, "refused": FetchFailed, "not-an-article": NotAnArticle}


class NormalisePipeline:
    """Turns an extracted article into the storage record: canonical URL, source, fetch facts."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem) and isinstance(item.extraction, Article):
            extracted = item.extraction
            page = item.page
            # Dates reach storage as aware UTC whatever the extractor gave, so comparing never raises.
            published_at = to_utc(extracted.published_at)
            since = to_utc(CrawlRun.of(self.crawler).since)
            if since and published_at and published_at < since:
                item.extraction = Rejection("published-before-since", f"published {published_at:%Y-%m-%d}")
                return item
            item.article = article_to_store(
                extracted, source=item.source, url=page.url, fetched_at=page.fetched_at,
                fingerprint=item.fingerprint, etag=page.etag, last_modified=page.last_modified,
            )  # fmt: skip
        return item


class StorePipeline:
    """Hands articles and the crawl log to storage in batches (see :mod:`storage.batches`).

    A batch goes out after ``NEWSDESK_STORE_BATCH_SIZE`` items or ``NEWSDESK_STORE_FLUSH_SECONDS``,
    and when the spider closes; a crash loses at most the batches not yet written, whose URLs stay
    not done in the frontier. Batches are written in a writer process of their own
    (``NEWSDESK_STORE_IN_PROCESS`` keeps them in the crawl process), at most
    ``MAX_BATCHES_IN_FLIGHT`` ahead of the crawl.

    With a feed configured (``scrapy crawl news -O items.jsonl``, ``FEEDS``), an article's item
    waits for its batch, so the feed holds exactly what the run stored or updated, with that outcome;
    without one, items go on at once and nothing waits on the database.
    """

    MAX_BATCHES_IN_FLIGHT = 4

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.database_url = resolve_database_url(settings.get("NEWSDESK_DATABASE_URL"))
        self.batch_size = max(1, settings.getint("NEWSDESK_STORE_BATCH_SIZE"))
        self.flush_seconds = settings.getfloat("NEWSDESK_STORE_FLUSH_SECONDS")
        threshold = settings.get("NEWSDESK_NEAR_DUPLICATE_THRESHOLD")
        self.threshold = float(threshold) if threshold is not None else None
        self.in_process = settings.getbool("NEWSDESK_STORE_IN_PROCESS")
        self.refuse_tdm_reserved = settings.getbool("NEWSDESK_REFUSE_TDM_RESERVED")
        self.site_profile = None
        if settings.getbool("NEWSDESK_SITE_PROFILES_ENABLED"):
            self.site_profile = ProfileSettings(
                min_pages=settings.getint("NEWSDESK_SITE_PROFILE_MIN_PAGES"),
                min_block_pages=settings.getint("NEWSDESK_SITE_PROFILE_MIN_BLOCK_PAGES"),
                min_share=settings.getfloat("NEWSDESK_SITE_PROFILE_MIN_SHARE"),
                max_stripped_share=settings.getfloat("NEWSDESK_SITE_PROFILE_MAX_STRIPPED_SHARE"),
                count_words=count_words,
            )
        self.log_options = {"level": settings.get("LOG_LEVEL"), "format": settings.get("LOG_FORMAT")}
        if settings.get("LOG_FILE"):
            self.log_options["filename"] = settings.get("LOG_FILE")
        self.stats = crawler.stats
        self.crawler = crawler
        self.pending: list[FetchResult] = []
        self.writing: list[asyncio.Future] = []
        self.writer: BatchWriter | None = None
        self.flush_timer = None
        self.last_flush = time.monotonic()
        self.run: CrawlRun | None = None
        self.feed_waits = bool(settings.getdict("FEEDS"))
        #: Items of a feed waiting for their batch, by ``id()`` of their FetchResult.
        self.waiting: dict[int, asyncio.Future[str | WriteFailed]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.run = CrawlRun.of(self.crawler)
        # The frontier scheduler starts the run; without it, the run starts here.
        run_id = self.run.begin()
        target = BatchTarget(
            self.database_url, self.run.source, run_id, self.threshold, self.site_profile, EXTRACTOR_VERSION
        )
        self.writer = BatchWriter(target, in_process=self.in_process, log_options=self.log_options)
        # A batch also goes out when no new item arrives: a stalled or trickling crawl must not
        # sit on results (another worker sharing the frontier waits for them to be marked done).
        self.flush_timer = create_looping_call(self._flush_if_due)
        self.flush_timer.start(max(0.5, self.flush_seconds / 2), now=False)

    def _flush_if_due(self) -> None:
        if self.pending and time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    async def process_item(self, item: Any) -> Any:
        try:
            result = self._record(item)
        finally:
            if len(self.writing) > self.MAX_BATCHES_IN_FLIGHT:
                # The database is behind: hold this item (and so the downloads) until it catches up.
                await self.writing[0]
        if isinstance(result, asyncio.Future):
            return await self._stored_item(item, result)
        return result

    async def _stored_item(self, item: PageItem, written: asyncio.Future[str | WriteFailed]) -> dict[str, Any]:
        """The feed's item for an article, once its batch said what became of it."""
        outcome = await written
        if isinstance(outcome, WriteFailed):
            raise NotWritten(f"not written: {outcome.error} <{item.page.url}>")
        if outcome not in ("stored", "updated"):
            raise NotStoredAgain(f"{outcome} <{item.page.url}>")
        return {**exported_article(item.article), "outcome": outcome}

    def _record(self, item: Any) -> Any:
        archive = self.run.archive
        if isinstance(item, FetchOutcome):
            if archive is not None:
                archive.capture_for(item.url)  # nothing to link it to
            self._queue(
                FetchResult(
                    item.url, item.status, item.size, item.outcome, item.reason, item.requested_url,
                    etag=item.etag, last_modified=item.last_modified, hub=item.hub,
                    template=" ".join(sorted(item.template)) if item.template else None,
                )
            )  # fmt: skip
            raise _DROPS.get(item.outcome, NotRead)(f"{item.outcome}: {item.reason} <{item.url}>")
        if not isinstance(item, PageItem):
            return item
        page = item.page
        fetch = FetchResult(
            page.url, page.status, len(page.body), "stored", None, item.requested_url, None, page.etag, page.last_modified
        )
        if archive is not None:
            fetch.capture_id = archive.capture_for(page.url)
        if item.article is not None:
            fetch.signals = capture_signals(item, self.run.site_tdm)
            if self.refuse_tdm_reserved and fetch.signals.tdm_reserved:
                fetch.outcome = "skipped"
                fetch.reason = f"TDM reserved by the publisher ({fetch.signals.tdm_origin}): not stored (NEWSDESK_REFUSE_TDM_RESERVED)"
                self._queue(fetch)
                raise RefusedByPublisher(f"{fetch.reason} <{page.url}>")
            fetch.article = item.article
            if self.feed_waits:
                written = self.waiting[id(fetch)] = asyncio.get_running_loop().create_future()
                self._queue(fetch)
                return written
            self._queue(fetch)
            # What later pipelines get: the article's fields, not the page's bytes.
            return exported_article(item.article)
        rejection = item.extraction
        # A Rejection is falsy: "if rejection" alone would drop every detail.
        if rejection is not None and rejection.detail:
            reason = f"{rejection.reason}: {rejection.detail}"
        else:
            reason = getattr(rejection, "reason", "unknown")
        fetch.reason = reason
        if getattr(rejection, "reason", None) in READING_FAILURES:
            fetch.outcome = "error"
            self._queue(fetch)
            if rejection.reason == READING_BUG:
                self.run.record_error("extraction", rejection.detail, page.url, log_row=False)
            raise ExtractionFailed(f"{reason} <{page.url}>")
        fetch.outcome = REJECTION_OUTCOMES.get(getattr(rejection, "reason", None), "not-an-article")
        self._queue(fetch)
        raise NotAnArticle(f"{reason} <{page.url}>")

    def _queue(self, fetch: FetchResult) -> None:
        self.pending.append(fetch)
        if len(self.pending) >= self.batch_size or time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        self.last_flush = time.monotonic()
        if batch:
            # Links found on these pages reach the frontier before the pages are marked done: the
            # scheduler hands them to its database thread, and the batch waits for that write.
            synced = [result for _, result in self.crawler.signals.send_catch_log(frontier_sync) if result is not None]
            written = asyncio.ensure_future(self._write(batch, synced))
            self.writing.append(written)
            written.add_done_callback(self.writing.remove)

    async def _write(self, batch: list[FetchResult], synced: list[Future[bool] | Failure] = ()) -> None:
        try:
            await self._write_batch(batch, synced)
        finally:
            # Every item waiting for this batch learns its fate, whatever happened to the batch.
            for fetch in batch:
                waiter = self.waiting.pop(id(fetch), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(WriteFailed("the batch was not written (see the errors of the run)"))

    async def _write_batch(self, batch: list[FetchResult], synced: list[Future[bool] | Failure]) -> None:
        for sync in synced:
            if isinstance(sync, Failure) or not await asyncio.wrap_future(sync):
                # Links found on these pages may be missing from the frontier: the pages are logged
                # but not marked done, so the next run fetches them (and finds the links) again.
                for fetch in batch:
                    fetch.frontier_url = None
                break
        await self._captures_written(batch)
        try:
            outcomes = await asyncio.wrap_future(self.writer.submit(batch))
        except Exception as exc:  # noqa: BLE001 - the writer process died (killed, out of memory) with the batch
            self.writer.write_here_from_now_on(exc)
            try:
                outcomes = await asyncio.wrap_future(self.writer.write_here(batch))
            except Exception as exc:  # noqa: BLE001 - each URL recorded as an error of the run
                logger.error("a batch of %d could not be written; its URLs are fetched again next run", len(batch))
                for fetch in batch:
                    self.run.record_error("writer", exc, fetch.url)
                return
        for fetch, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, WriteFailed):
                # Dead-lettered, with its crawl-log row and its frontier row failed (the next run
                # fetches it again) written by the writer in the same transaction.
                self.run.record_error("writer", outcome.error, fetch.url, log_row=False)
            else:
                self.stats.inc_value(f"newsdesk/outcome/{outcome}")
                if outcome in STORY_OUTCOMES:
                    self.run.note_story(fetch.frontier_url or fetch.url)
            waiter = self.waiting.pop(id(fetch), None)
            if waiter is not None:
                waiter.set_result(outcome)

    async def _captures_written(self, batch: list[FetchResult]) -> None:
        """Wait for the capture rows of the batch's archived fetches: a link needs its row."""
        for fetch in batch:
            if fetch.capture_id is not None and fetch.article is not None:
                if not await asyncio.wrap_future(self.run.archive.written(fetch.capture_id)):
                    fetch.capture_id = None
            else:
                fetch.capture_id = None

    async def close_spider(self) -> None:
        if self.flush_timer is not None and self.flush_timer.running:
            self.flush_timer.stop()
        self.flush()
        while self.writing:
            await asyncio.gather(*self.writing, return_exceptions=True)
        if self.writer is not None:
            self.writer.close()
