"""The crawl run: the one object that holds a crawl's state, made once per crawl.

The spider parses its arguments into a :class:`CrawlPlan` (what to crawl) and only discovers and
yields. :class:`CrawlRun`, a Scrapy extension, holds the rest: the ``crawl_runs`` row, the plan,
the pool of page readers, the thread that does the crawl's database work, the worker id its
frontier leases carry and their heartbeat, and the accounting of every error. The scheduler,
pipelines and middlewares get it with ``CrawlRun.of(crawler)``.

No error can hide: an exception in a callback, errback, pipeline, middleware, the scheduler, the
writer, a signal handler (a feed exporter's, an extension's), an asyncio callback or a Twisted
Deferred nobody handled is logged with its URL, counted under ``newsdesk/errors``, written to
the crawl log when a URL is known, and settles the run as ``failed`` or ``finished-with-errors``.
A crawl that fetched no page because every request was refused, disallowed or failed is
``failed`` too, with a one-line reason.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import load_object
from twisted.logger import LogLevel, globalLogPublisher

from crawler.components.archive import CrawlArchive
from crawler.discovery.pagetype import SiteChrome, url_shape
from crawler.discovery.scope import CrawlScope
from crawler.normalize import site_key
from crawler.sources import Source, SourcesError, load_sources, parse_duration, resolve_sources_path
from crawler.workers import ReadingPool
from storage import frontier, hosts
from storage import runs as run_log
from storage.db import open_database, resolve_database_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from sqlalchemy.orm import Session, sessionmaker
    from twisted.internet.task import LoopingCall
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

__all__ = ["CrawlPlan", "CrawlRun", "RunError"]

#: Story URLs the run keeps as page-typing evidence (the latest; hubs link to recent stories).
MAX_KNOWN_STORIES = 2000
#: Hub templates the run keeps as page-typing evidence (earlier runs' and this one's), and of them
#: handed to the reading of one page (those of its URL shape).
MAX_KNOWN_HUBS = 500
MAX_HUBS_PER_SHAPE = 20
#: Pages an earlier run found the site's frame linking, kept as page-typing evidence.
MAX_CHROME_URLS = 1000
#: The longest gap between a run's heartbeats (storage.runs.SILENT_FOR says it was killed).
RUN_BEAT_SECONDS = 60.0
#: Outcomes that mean "no page came back" (a crawl with only these stored nothing and failed).
NOTHING_FETCHED_OUTCOMES = ("refused", "skipped-by-robots", "error")
#: Failures of the network or the site, not of newsdesk: recorded as the URL's outcome, not a fault.
_EXPECTED_FAILURES: tuple[type[BaseException], ...] = tuple(
    load_object(path)
    for path in (
        "twisted.internet.error.ConnectError",
        "twisted.internet.error.ConnectionClosed",
        "twisted.internet.error.ConnectingCancelledError",
        "twisted.web._newclient.ResponseFailed",
        "twisted.web._newclient.ResponseNeverReceived",
        "scrapy.exceptions.DownloadCancelledError",
        "scrapy.exceptions.UnsupportedURLSchemeError",
        "OpenSSL.SSL.Error",
    )
) + (IgnoreRequest, HttpError)


@dataclass(frozen=True)
class CrawlPlan:
    """What a crawl was asked to do: the spider's arguments, checked and resolved once."""

    source: str
    start_urls: tuple[str, ...]
    scope: CrawlScope
    definition: Source | None = None
    since: datetime | None = None
    recrawl_after: timedelta | None = None

    @classmethod
    def from_arguments(
        cls,
        start_urls: str | list[str] | None = None,
        source: str | None = None,
        sources: str | None = None,
        recrawl_after: str | None = None,
    ) -> CrawlPlan:
        """``source`` alone crawls a source from the sources file; start URLs crawl ad hoc, as a
        source named ``source`` or after the first URL's host."""
        urls = start_urls.split(",") if isinstance(start_urls, str) else list(start_urls or [])
        urls = [u.strip() for u in urls if u.strip()]
        definition = None
        if source and not urls:
            definition = load_sources(resolve_sources_path(sources)).get(source)
            if definition is None:
                raise SourcesError(f"no source named {source!r} in {resolve_sources_path(sources)}")
            urls = list(definition.start_urls)
        if not urls:
            raise ValueError("nothing to crawl: give -a start_urls=URL[,URL...] or -a source=NAME")
        recrawl = recrawl_after or (definition.recrawl_after if definition else None)
        return cls(
            source=source or site_key(urls[0]),
            start_urls=tuple(urls),
            scope=definition.scope if definition else CrawlScope.from_start_urls(urls),
            definition=definition,
            since=definition.since if definition else None,
            recrawl_after=parse_duration(recrawl) if recrawl else None,
        )

    def is_article_candidate(self, url: str) -> bool:
        """The source's URL rules (allow / deny): a URL they do not admit is only a hub."""
        return self.definition is None or self.definition.is_article_url(url)


@dataclass(frozen=True)
class RunError:
    """One error of the crawl: where it happened, the URL it concerns (if any) and what it was."""

    where: str
    url: str | None
    error: str

    def line(self) -> str:
        return f"{self.where}: {self.error}" + (f" <{self.url}>" if self.url else "")


def describe(error: BaseException | Failure | str) -> str:
    """``ExceptionType: message`` on one line, for logs, the crawl log and the run's error."""
    if isinstance(error, str):
        return error
    value = getattr(error, "value", error)  # a Twisted Failure carries the exception as .value
    text = " ".join(str(value).split())
    return f"{type(value).__name__}: {text}" if text else type(value).__name__


class CrawlRun:
    """The state of one crawl; built by Scrapy as an extension (``EXTENSIONS``).

    The ``crawl_runs`` row is started by :meth:`begin` (the scheduler opens first and calls it)
    and settled when the spider closes, from the outcomes counted and the errors recorded here.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = resolve_database_url(settings.get("NEWSDESK_DATABASE_URL"))
        recrawl = settings.get("NEWSDESK_RECRAWL_AFTER")
        self.default_recrawl_after = parse_duration(recrawl) if recrawl else None
        #: What Scrapy retries is the network's failure, as are :data:`_EXPECTED_FAILURES`.
        self.expected_failures = _EXPECTED_FAILURES + tuple(
            load_object(path) if isinstance(path, str) else path for path in settings.getlist("RETRY_EXCEPTIONS")
        )
        self.readers = ReadingPool(
            workers=settings.getint("NEWSDESK_EXTRACT_WORKERS") or os.cpu_count() or 1,
            timeout=settings.getfloat("NEWSDESK_EXTRACT_TIMEOUT"),
            max_rss_mb=settings.getint("NEWSDESK_WORKER_MAX_RSS_MB"),
        )
        #: How long a frontier lease lasts without a heartbeat; renewed every third of it.
        self.lease_seconds = settings.getfloat("NEWSDESK_FRONTIER_LEASE_SECONDS")
        self.heartbeat: LoopingCall | None = None
        #: Every response as WARC, written by a thread of its own (None: NEWSDESK_ARCHIVE is off).
        self.archive = CrawlArchive.from_settings(settings, self.database_url)
        self.run_id: int | None = None
        #: Who holds this crawl's frontier leases (host, process, run): see ``storage.frontier``.
        self.worker_id: str | None = None
        self.sessions: sessionmaker[Session] | None = None
        #: The crawl's database work (frontier, error rows) runs in this one thread, off the reactor.
        self.database = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="newsdesk-db", initializer=self._in_database_thread
        )
        self.database_thread: int | None = None
        self.database_closed = False
        self.error_rows: list[Future] = []
        self.errors: list[RunError] = []
        #: Responses that brought a page back (anything but an HTTP error), robots.txt aside.
        self.pages_answered = 0
        #: Each site's /.well-known/tdmrep.json, read before its first page (components/site_signals.py).
        self.site_tdm: dict[str, Any] = {}
        self.status: str | None = None
        self.status_reason: str | None = None
        #: Canonical URLs of the source stored as stories (earlier runs' and this one's), in order.
        self._known_stories: dict[str, None] = {}
        self._known_snapshot: frozenset[str] | None = None
        #: Templates of the source's hubs by URL shape, then URL (earlier runs' and this one's).
        self._known_hubs: dict[str, dict[str, frozenset[str]]] = {}
        self._hub_count = 0
        #: The links of each host's first pages (this run's), and the pages earlier runs found its
        #: frame linking: an undated, unsigned page so linked is a service page.
        self._site_chrome = SiteChrome()
        self._stored_chrome: set[str] = set()
        self._read_later: list[Request] = []
        self._chrome_kept: set[str] = set()
        self._previous_asyncio_handler = None
        self._signal_errors = _SignalHandlerErrors(self)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRun:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlRun:
        """The run of this crawler (the one ``CrawlRun`` extension it built)."""
        run = crawler.get_extension(cls)
        if run is None:
            raise RuntimeError("crawler.components.run.CrawlRun is not enabled in EXTENSIONS")
        return run

    # -- the run's facts -------------------------------------------------------------------------

    @property
    def plan(self) -> CrawlPlan | None:
        """What the crawl was asked to do: the plan the spider made of its arguments."""
        return getattr(self.crawler.spider, "plan", None)

    @property
    def source(self) -> str | None:
        return self.plan.source if self.plan else None

    @property
    def scope(self) -> CrawlScope | None:
        return self.plan.scope if self.plan else None

    @property
    def since(self) -> datetime | None:
        return self.plan.since if self.plan else None

    @property
    def recrawl_after(self) -> timedelta | None:
        return (self.plan.recrawl_after if self.plan else None) or self.default_recrawl_after

    def begin(self) -> int:
        """Start the ``crawl_runs`` row once (whoever opens first calls it) and return its id."""
        if self.run_id is None:
            self.sessions = open_database(self.database_url)
            with self.sessions.begin() as session:
                settled = run_log.settle_abandoned_runs(session)
                self.run_id = run_log.start_run(session, self.source, worker=frontier.worker_name())
                if self.source is not None:
                    earlier = frontier.story_urls(session, self.source, limit=MAX_KNOWN_STORIES)
                    self._known_stories.update(dict.fromkeys(reversed(earlier)))
                    for url, template in frontier.hub_templates(session, source=self.source, limit=MAX_KNOWN_HUBS):
                        self.note_hub(url, frozenset(template.split()))
                    self._stored_chrome.update(frontier.chrome_urls(session, source=self.source, limit=MAX_CHROME_URLS))
            self.worker_id = frontier.lease_owner(self.run_id)
            if settled:
                logger.warning("runs %s had stopped without closing (killed?): marked interrupted", settled)
            logger.info("crawl run %s of %s writing to %s", self.run_id, self.source, self.database_url)
        return self.run_id

    # -- the heartbeat of the frontier leases ----------------------------------------------------

    def _start_heartbeat(self) -> None:
        """Renew the leases every third of their life, so only a worker that stopped loses them,
        and say the run is alive at least once a minute (``storage.runs.SILENT_FOR``)."""
        from twisted.internet import task

        self.heartbeat = task.LoopingCall(self._beat)
        self.heartbeat.start(min(self.lease_seconds / 3, RUN_BEAT_SECONDS), now=False)

    def _beat(self) -> None:  # on the reactor: the renewal itself waits its turn in the database thread
        if not self.database_closed:
            self.database.submit(self._renew_leases)

    def _renew_leases(self) -> None:  # in the database thread
        try:
            with self.sessions.begin() as session:
                run_log.beat(session, self.run_id)
                renewed = frontier.renew(session, self.source, self.worker_id, lease_seconds=self.lease_seconds)
        except Exception as exc:  # noqa: BLE001 - the next beat tries again; expiry is 3 beats away
            logger.warning("could not renew the frontier leases of %s: %s", self.worker_id, describe(exc))
            self.stats.inc_value("newsdesk/frontier/renew_failed")
            return
        self.stats.inc_value("newsdesk/frontier/renewals")
        self.stats.max_value("newsdesk/frontier/max_leases_renewed", renewed)
        try:  # apart: a host-table hiccup must not undo the frontier's renewal
            with self.sessions.begin() as session:
                hosts.renew(session, self.worker_id, lease_seconds=self.lease_seconds)
        except Exception as exc:  # noqa: BLE001 - the rows outlive a beat; the next one tries again
            logger.warning("could not renew the host slots of %s: %s", self.worker_id, describe(exc))
            self.stats.inc_value("newsdesk/hosts/renew_failed")

    # -- what the crawl has learnt of the site ----------------------------------------------------

    def note_story(self, url: str) -> None:
        """A page was stored as a story: pages that link to many such are hubs (page typing)."""
        if url in self._known_stories:
            return
        self._known_stories[url] = None
        if len(self._known_stories) > MAX_KNOWN_STORIES:
            del self._known_stories[next(iter(self._known_stories))]
        self._known_snapshot = None

    @property
    def known_stories(self) -> frozenset[str]:
        """The story URLs known now, as the evidence handed to page reading (made once per change)."""
        if self._known_snapshot is None:
            self._known_snapshot = frozenset(self._known_stories)
        return self._known_snapshot

    def note_hub(self, url: str, template: frozenset[str]) -> None:
        """A page was read as a hub: pages of its URL shape built like it are hubs (page typing)."""
        alike = self._known_hubs.setdefault(url_shape(url), {})
        if url in alike or self._hub_count < MAX_KNOWN_HUBS:
            self._hub_count += url not in alike
            alike[url] = template

    def hubs_shaped_like(self, url: str) -> tuple[tuple[str, frozenset[str]], ...]:
        """(URL, template) of the known hubs with the URL shape of ``url``: the evidence handed to its reading."""
        alike = self._known_hubs.get(url_shape(url), {})
        return tuple(item for item in alike.items() if item[0] != url)[:MAX_HUBS_PER_SHAPE]

    def note_links(self, url: str, links: tuple[str, ...]) -> None:
        """A page was read with these links: the first pages of a host tell its frame's links,
        kept in the frontier for later runs and ``newsdesk extract --db`` once the sample is full."""
        if self._site_chrome.add(url, links):
            self._keep_chrome()

    def _keep_chrome(self) -> None:
        """Writes the frame's links found since the last call to the frontier."""
        found = set(self._site_chrome.chrome_links()) - self._chrome_kept
        if found and self.source is not None:
            self._chrome_kept |= found
            self.database.submit(self._mark_chrome, sorted(found))

    def is_site_chrome(self, url: str) -> bool:
        """Whether the site's frame (menu, footer) links ``url`` from nearly every page."""
        return url in self._stored_chrome or self._site_chrome.links_to(url)

    def site_chrome_of(self, url: str) -> bool | None:
        """:meth:`is_site_chrome`, or None while the host's first pages are still being read and
        all of them link ``url`` (the crawl cannot tell yet)."""
        if self.is_site_chrome(url):
            return True
        return None if self._site_chrome.may_link(url) else False

    def read_later(self, request: Request) -> None:
        """A page to read again once the crawl has nothing else to do (it knows the site's frame by
        then); its URL stays leased in the frontier until then."""
        self._read_later.append(request)
        self.stats.inc_value("newsdesk/pagetype/read_later")

    def spider_idle(self, spider) -> None:
        self._keep_chrome()  # a host of fewer pages than the sample: what its pages said
        if self._read_later:
            waiting, self._read_later = self._read_later, []
            for request in waiting:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    def _mark_chrome(self, urls: list[str]) -> None:  # in the database thread
        try:
            with self.sessions.begin() as session:
                frontier.mark_chrome(session, self.source, urls)
        except Exception as exc:  # noqa: BLE001 - evidence for later runs only: this run has it in memory
            self.record_error("site-chrome", exc, log_row=False)

    # -- errors ------------------------------------------------------------------------------------

    def record_error(
        self, where: str, error: BaseException | Failure | str, url: str | None = None, *, log_row: bool = True
    ) -> None:
        """Log, count and keep an error; with a URL (and ``log_row``), also write it to the crawl log
        as outcome ``error``. ``log_row=False`` when the crawl log gets the URL's row elsewhere."""
        found = RunError(where, url, describe(error))
        self.errors.append(found)
        self.stats.inc_value("newsdesk/errors")
        self.stats.inc_value(f"newsdesk/errors/{where}")
        logger.error("error in %s on %s: %s", where, url or "(no URL)", found.error)
        if url and log_row and self.run_id is not None:
            reason = f"{where}: {found.error}"
            if threading.get_ident() == self.database_thread or self.database_closed:
                self._write_error_row(url, reason)  # in the database thread already, or after it stopped
            else:
                self.error_rows.append(self.database.submit(self._write_error_row, url, reason))

    def _in_database_thread(self) -> None:
        self.database_thread = threading.get_ident()

    def _write_error_row(self, url: str, reason: str) -> None:
        try:
            with self.sessions.begin() as session:
                run_log.record_fetch(session, self.run_id, url=url, status=None, bytes=None, outcome="error", reason=reason)
        except Exception:
            logger.exception("could not write the error of %s to the crawl log", url)

    def note_request_failure(self, failure: Failure, url: str) -> None:
        """A request ended in its errback: a fault of newsdesk's own code (a middleware raised) is
        an error of the run; the network's and the site's failures are only the URL's outcome."""
        if not failure.check(*self.expected_failures):
            self.record_error("request", failure, url, log_row=False)

    def spider_error(self, failure: Failure, response: Response, spider) -> None:
        url = getattr(response, "url", None) or getattr(getattr(failure, "request", None), "url", None)
        self.record_error("callback", failure, url)

    def item_error(self, item: Any, response: Response | None, spider, failure: Failure) -> None:
        url = _item_url(item) or getattr(response, "url", None)
        self.record_error("pipeline", failure, url)

    def _asyncio_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's "Exception in callback" / "Task exception was never retrieved"."""
        if self._previous_asyncio_handler is not None:
            self._previous_asyncio_handler(loop, context)
        else:
            loop.default_exception_handler(context)
        self.record_error("asyncio", context.get("exception") or context.get("message", "unknown error"))

    def _twisted_event(self, event: dict[str, Any]) -> None:
        """Twisted's "Unhandled error in Deferred" and the other failures it logs as errors."""
        failure = event.get("log_failure")
        if failure is not None and event.get("log_level") in (LogLevel.error, LogLevel.critical):
            self.record_error("twisted", failure)

    # -- signals -----------------------------------------------------------------------------------

    def response_received(self, response: Response, request, spider) -> None:
        # robots.txt and the site-wide signal files say nothing of whether the site's pages answer.
        if request.meta.get("kind") not in ("robots", "site-signals") and (response.status < 400 or response.status == 304):
            self.pages_answered += 1

    def spider_opened(self, spider) -> None:
        self.readers.start()
        if self.run_id is not None:
            self._start_heartbeat()
        if self.archive is not None:
            self.archive.start()
        globalLogPublisher.addObserver(self._twisted_event)
        logging.getLogger("scrapy.utils.signal").addHandler(self._signal_errors)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
        # Chained to the handler before it (another crawl's in the same process, or asyncio's own).
        self._previous_asyncio_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._asyncio_error)

    def spider_closed(self, spider, reason: str) -> None:
        self.readers.close()
        if self.archive is not None:
            self.archive.close()
            self.stats.set_value("newsdesk/archive/records", self.archive.records)
            if self.archive.failure is not None:
                self.record_error("archive", self.archive.failure)
        globalLogPublisher.removeObserver(self._twisted_event)
        logging.getLogger("scrapy.utils.signal").removeHandler(self._signal_errors)
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        for row in self.error_rows:
            row.result()
        self.database_closed = True
        self.database.shutdown(wait=True)
        counts = self.outcome_counts()
        self.status, self.status_reason = self.settle(reason, counts)
        self.stats.set_value("newsdesk/run/status", self.status)
        if self.status_reason:
            self.stats.set_value("newsdesk/run/reason", self.status_reason)
            log = logger.error if self.failed else logger.warning
            log("crawl run %s of %s %s: %s", self.run_id, self.source, self.status, self.status_reason)
        if self.sessions is None or self.run_id is None:
            return
        with self.sessions.begin() as session:
            run_log.finish_run(session, self.run_id, status=self.status, counts=counts, error=self.status_reason)

    def outcome_counts(self) -> dict[str, int]:
        stats = self.stats.get_stats()
        counts = {
            key.removeprefix("newsdesk/outcome/"): value for key, value in stats.items() if key.startswith("newsdesk/outcome/")
        }
        counts["requests"] = stats.get("downloader/request_count", 0)
        counts["exceptions"] = len(self.errors)
        return counts

    def settle(self, reason: str, counts: dict[str, int]) -> tuple[str, str | None]:
        """The run's status and, unless it simply finished, a one-line reason."""
        if reason == "shutdown":
            return "interrupted", "stopped by a signal (Ctrl-C or kill)"
        if reason != "finished" and not reason.startswith("closespider_"):
            status = "failed"
            why = f"crawl closed: {reason}"
            return status, why + (f"; {self._errors_line()}" if self.errors else "")
        if self.errors:
            stored = counts.get("stored", 0) + counts.get("updated", 0)
            return ("finished-with-errors" if stored else "failed"), self._errors_line()
        failed_requests = {outcome: counts.get(outcome, 0) for outcome in NOTHING_FETCHED_OUTCOMES}
        if not self.pages_answered and any(failed_requests.values()):
            parts = [f"{n} {outcome}" for outcome, n in failed_requests.items() if n]
            # A first crawl of a site on this machine is refused by the address guard: name the way out.
            fix = "; refused: loopback or private addresses (NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false crawls them)"
            return "failed", (
                f"no page could be fetched ({', '.join(parts)}){fix if failed_requests['refused'] else ''};"
                f" see newsdesk runs show {self.run_id}"
            )
        if reason.startswith("closespider_") and (left := self._left_in_frontier()):
            # The limit asked for, not a failure; but "finished" alone would read as "nothing left".
            return "finished", (
                f"stopped early ({reason}) with {left:,} URL{'' if left == 1 else 's'} left in the frontier: the next crawl of"
                f" {self.source} goes on from there"
            )
        return "finished", None

    def _left_in_frontier(self) -> int:
        """URLs of the source still to fetch (pending, or leased by a worker that stopped)."""
        if self.sessions is None or self.source is None:
            return 0
        with self.sessions() as session:
            counts = frontier.frontier_counts(session, self.source)
        return counts.get(frontier.PENDING, 0) + counts.get(frontier.LEASED, 0)

    def _errors_line(self) -> str:
        by_place = Counter(error.where for error in self.errors)
        places = ", ".join(f"{where} {n}" for where, n in by_place.most_common())
        return f"{len(self.errors)} errors ({places}); first: {self.errors[0].line()}"

    @property
    def failed(self) -> bool:
        """Whether the run ended in a status that should make the crawl command exit non-zero."""
        return self.status not in (None, "finished")


class _SignalHandlerErrors(logging.Handler):
    """Scrapy only logs an exception raised by a signal handler ("Error caught on signal handler",
    e.g. a feed exporter that cannot write its item): here it becomes an error of the run whose
    spider the signal was sent for."""

    def __init__(self, run: CrawlRun):
        super().__init__(level=logging.ERROR)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "spider", None) is not self.run.crawler.spider:
            return
        error = record.exc_info[1] if record.exc_info else record.getMessage()
        self.run.record_error("signal", error)


def _item_url(item: Any) -> str | None:
    page = getattr(item, "page", None)
    return getattr(page, "url", None) or getattr(item, "url", None)
