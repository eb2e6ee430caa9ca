"""Downloader middlewares for politeness and limits: robots.txt as RFC 9309 reads it, Retry-After.

* :class:`RobotsTxtPolicy` replaces Scrapy's ``RobotsTxtMiddleware``. Scrapy treats a robots.txt
  that fails (5xx, timeout, refused connection) as "allow everything"; RFC 9309 section 2.3.1.4
  says the opposite: the crawler must assume it may fetch nothing from that host. A 4xx robots.txt
  means no rules (allow all), and only the first ``NEWSDESK_ROBOTSTXT_MAX_BYTES`` are parsed
  (the RFC asks for at least 500 KiB).
* :class:`BodySizeLimit` gives a download cut at ``DOWNLOAD_MAXSIZE`` a reason the crawl log can
  show ("body over 10 MB"): Scrapy cancels a body without Content-Length with an empty message.
* :class:`RedirectScope` does not follow a redirect that leaves the crawl's scope (another site,
  or outside the start folder): links out of scope are not followed either.
* :class:`SharedHostPoliteness` keeps each host's delay, concurrency and Retry-After pause in the
  database (``storage.hosts``), so every crawl process sharing it keeps them together; with it,
  robots.txt is fetched by one process per host per ``NEWSDESK_ROBOTSTXT_KEEP_SECONDS``.
* :class:`RetryAfterMiddleware` honours ``Retry-After`` on 429 and 503: the host is paused for
  that long (capped by ``NEWSDESK_MAX_RETRY_AFTER``) and the request tried again, at most
  ``NEWSDESK_RETRY_AFTER_TIMES`` times, so a rate-limited page is late rather than lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from protego import Protego
from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured
from scrapy.http import Request, TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.components.archive import COPY_FLAG
from crawler.components.run import CrawlRun
from crawler.discovery.dates import to_utc
from crawler.normalize import canonical_url_or_none
from storage import hosts
from storage.db import OUTAGE_RETRIES, open_database, resolve_database_url, run_in_transaction

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

__all__ = [
    "BodySizeLimit",
    "PoliteHttpHandler",
    "RedirectScope",
    "RedirectToNoWebAddress",
    "RetryAfterMiddleware",
    "RobotsTxtPolicy",
    "SharedHostPoliteness",
    "cap_robots_body",
    "retry_after_seconds",
]


def cap_robots_body(body: bytes, max_bytes: int) -> bytes:
    """The first ``max_bytes`` of a robots.txt, cut back to the last whole line."""
    if len(body) <= max_bytes:
        return body
    head = body[:max_bytes]
    newline = head.rfind(b"\n")
    return head[: newline + 1] if newline >= 0 else head


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` if unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    when = to_utc(text)
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RobotsTxtPolicy(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309 error handling and a size cap.

    A host whose robots.txt is unavailable is refused for the rest of this crawl with
    ``IgnoreRequest("robots.txt unavailable (...): retry later")``; the frontier opens those URLs
    again in the next run, which asks for robots.txt again.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.max_bytes = crawler.settings.getint("NEWSDESK_ROBOTSTXT_MAX_BYTES")
        #: netloc -> why its robots.txt could not be read (HTTP 503, TimeoutError, ...)
        self.unavailable: dict[str, str] = {}
        #: netloc -> the status and body of its robots.txt as read for the rules, when shared
        #: politeness keeps robots.txt in the database (see :meth:`process_request`).
        self.copies: dict[str, tuple[int, bytes]] = {}

    async def process_request(self, request: Request) -> Response | None:
        if request.meta.get("dont_obey_robotstxt"):
            return None
        url = urlparse_cached(request)
        if url.scheme not in ("http", "https"):
            return None
        parser = await self.robot_parser(request)
        why = self.unavailable.get(url.netloc)
        if why is not None:
            self._stats.inc_value("newsdesk/robots/refused_unavailable")
            raise IgnoreRequest(f"robots.txt unavailable ({why}): retry later")
        copy = self.copies.get(url.netloc)
        if copy is not None and request.meta.get("kind") == "robots" and request.url == f"{url.scheme}://{url.netloc}/robots.txt":
            # The spider reads robots.txt for sitemaps: the copy read for the rules serves it, so
            # the host sees one robots.txt fetch per expiry, whatever the number of processes.
            self._stats.inc_value("newsdesk/robots/served_from_copy")
            status, body = copy
            return TextResponse(
                request.url, status=status, body=body, encoding="utf-8", request=request, flags=[COPY_FLAG]
            )
        self.process_request_2(parser, request)
        return None

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            waiting: Deferred = Deferred()
            self._parsers[netloc] = waiting
            try:
                shared = SharedHostPoliteness.of(self.crawler)
                if shared is None:
                    status, body, error = await self._download(url.scheme, netloc)
                else:
                    status, body, error = await self._shared_robots(shared, url.scheme, netloc)
                parser = await self._parser_from(status, body, error, netloc, request)
                if shared is not None and status is not None and error is None:
                    self.copies[netloc] = (status, body or b"")
            except BaseException as exc:
                self._parsers.pop(netloc, None)  # the next request of the host asks again
                waiting.errback(exc)
                waiting.addErrback(lambda _: None)  # the requests waiting have it; it is not lost
                raise
            self._parsers[netloc] = parser
            waiting.callback(parser)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _download(self, scheme: str, netloc: str) -> tuple[int | None, bytes | None, str | None]:
        """Fetches robots.txt: its status and body (cut to the size cap), or why it failed."""
        robots_request = Request(
            f"{scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        self._stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except Exception as exc:  # timeout, refused connection, DNS, size limits
            logger.info("robots.txt of %s failed: %s", netloc, exc)
            return None, None, type(exc).__name__
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status >= 500:
            return response.status, None, f"HTTP {response.status}"
        body = response.body
        if len(body) > self.max_bytes:
            logger.warning("robots.txt of %s is %d bytes; reading the first %d", netloc, len(body), self.max_bytes)
            self._stats.inc_value("newsdesk/robots/truncated")
            body = cap_robots_body(body, self.max_bytes)
        return response.status, body, None

    async def _shared_robots(
        self, shared: SharedHostPoliteness, scheme: str, netloc: str
    ) -> tuple[int | None, bytes | None, str | None]:
        """The host's robots.txt as another process fetched it, or fetched here for all of them."""
        while True:
            answer = await shared.run(
                hosts.claim_robots, netloc, owner=shared.owner,
                keep_seconds=shared.robots_keep_seconds, claim_seconds=shared.robots_claim_seconds,
            )  # fmt: skip
            if answer.fetch:
                status, body, error = await self._download(scheme, netloc)
                await shared.run(
                    hosts.store_robots, netloc, status=status, body=body, error=error,
                    crawl_delay=crawl_delay_of(body, self._robotstxt_useragent or "*") if status and status < 300 else None,
                )  # fmt: skip
                return status, body, error
            if answer.wait > 0:
                await asyncio.sleep(answer.wait)
                continue
            self._stats.inc_value("newsdesk/robots/shared_reused")
            return answer.status, answer.body, answer.error

    async def _parser_from(
        self, status: int | None, body: bytes | None, error: str | None, netloc: str, request: Request
    ) -> RobotParser | None:
        if error is not None:
            self._mark_unavailable(netloc, error)
            return None
        if status is None or status >= 300 or body is None:
            return None  # 4xx (and redirects past the limit): no rules, everything allowed
        parser = build_from_crawler(self._parserimpl, self.crawler, body)
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed, robotparser=parser, request=request)
        return parser

    def _mark_unavailable(self, netloc: str, why: str) -> None:
        logger.warning("robots.txt of %s unavailable (%s): refusing that host for this crawl", netloc, why)
        self._stats.inc_value("newsdesk/robots/unavailable")
        self.unavailable[netloc] = why


def crawl_delay_of(body: bytes | None, user_agent: str) -> float | None:
    """The ``Crawl-delay`` a robots.txt sets for ``user_agent`` (its group, else ``*``), if any."""
    if not body:
        return None
    delay = Protego.parse(body.decode("utf-8", errors="replace")).crawl_delay(user_agent)
    return float(delay) if delay is not None else None


class SharedHostPoliteness:
    """Every crawl process on one database keeps each host's pace together (``storage.hosts``).

    A request starts only once the host's row says so: no sooner than the floor after the previous
    start by any process (``DOWNLOAD_DELAY``, raised by robots.txt's ``Crawl-delay``), fewer than
    ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests on the wire, and no Retry-After pause; a 429 or 503
    with ``Retry-After`` seen here pauses the host for every process. The start is taken by
    :class:`PoliteHttpHandler` as the request leaves, after Scrapy's download slot has kept this
    process's own pace: AutoThrottle stays per process and can only slow it further (its start
    delay is never the shared floor). :class:`RobotsTxtPolicy` uses it to fetch each robots.txt
    once for all processes.

    ``NEWSDESK_HOST_POLITENESS_ENABLED``: ``None`` (the default) turns it on for PostgreSQL, the
    store several processes share; on SQLite one crawl process writes at a time and Scrapy's own
    slots already keep its pace, so it is off there unless set to true.
    """

    #: How long a fetch row outlives its request's DOWNLOAD_TIMEOUT before it is taken for dead
    #: (at most a frontier lease: the run's heartbeat renews the rows of a live process).
    FETCH_GRACE_SECONDS = 30.0
    #: A start written longer ago than this when the request could leave is given back and asked
    #: again (at most LATE_TRIES times, then taken as it is): the request would leave later than
    #: the start the other processes pace themselves from.
    START_SLACK_SECONDS = 0.1
    LATE_TRIES = 3

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.database_url = resolve_database_url(settings.get("NEWSDESK_DATABASE_URL"))
        if settings.get("NEWSDESK_HOST_POLITENESS_ENABLED") in (None, ""):
            enabled = self.database_url.startswith("postgresql")
        else:
            enabled = settings.getbool("NEWSDESK_HOST_POLITENESS_ENABLED")
        if not enabled:
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.retry_after = settings.getbool("NEWSDESK_RETRY_AFTER_ENABLED")
        self.max_retry_after = settings.getfloat("NEWSDESK_MAX_RETRY_AFTER")
        self.robots_keep_seconds = settings.getfloat("NEWSDESK_ROBOTSTXT_KEEP_SECONDS")
        self.lease_seconds = settings.getfloat("NEWSDESK_FRONTIER_LEASE_SECONDS")
        self.robots_claim_seconds = self.row_life(self.timeout)
        #: One thread of its own: a start waits for no frontier write.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-hosts")
        self.sessions = self.start_sessions = None
        #: One request per host at a time asks the table (per process); the others queue here.
        self.turns: dict[str, asyncio.Lock] = {}
        self.closed = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedHostPoliteness:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Crawler) -> SharedHostPoliteness | None:
        """This crawler's instance, or ``None`` when shared politeness is off."""
        return crawler.get_extension(cls)

    @property
    def owner(self) -> str:
        return CrawlRun.of(self.crawler).worker_id

    def row_life(self, download_timeout: float) -> float:
        """How long a fetch row or robots claim lives unrenewed: the request's timeout and a grace,
        but no longer than a lease, so a killed process frees its host when its URLs free."""
        return min(download_timeout + self.FETCH_GRACE_SECONDS, self.lease_seconds)

    async def run(self, function, *args, **kwargs):
        """``function(session, *args, **kwargs)`` in one transaction, in its own thread."""
        return await asyncio.wrap_future(self.executor.submit(self._in_transaction, function, *args, **kwargs))

    async def try_start(self, *args, **kwargs) -> hosts.Admission:
        """:func:`storage.hosts.try_start` in its own thread, on :func:`storage.hosts.start_sessions`."""
        return await asyncio.wrap_future(self.executor.submit(self._start, *args, **kwargs))

    def _in_transaction(self, function, *args, **kwargs):
        self._open()
        return run_in_transaction(self.sessions, lambda session: function(session, *args, **kwargs), retries=OUTAGE_RETRIES)

    def _start(self, *args, **kwargs) -> hosts.Admission:
        self._open()
        return run_in_transaction(
            self.start_sessions, lambda session: hosts.try_start(session, *args, **kwargs), retries=OUTAGE_RETRIES
        )

    def _open(self) -> None:
        if self.sessions is None:
            self.sessions = open_database(self.database_url)
            self.start_sessions = hosts.start_sessions(self.sessions)

    async def start(self, request: Request) -> int:
        """Waits until the host's row lets this request start, records the start and returns its
        fetch row (for :meth:`finish`). Called by :class:`PoliteHttpHandler` as the request leaves,
        after Scrapy's own slot has kept this process's pace (DOWNLOAD_DELAY, AutoThrottle)."""
        host = hosts.host_of(request.url)
        turn = self.turns.setdefault(host, asyncio.Lock())
        timeout = self.row_life(request.meta.get("download_timeout", self.timeout))
        late = 0
        async with turn:
            while True:
                asked = time.monotonic()
                admission = await self.try_start(
                    host, owner=self.owner, delay=self.delay, concurrency=self.concurrency, timeout=timeout
                )
                if admission.fetch_id is not None:
                    if time.monotonic() - asked <= self.START_SLACK_SECONDS or late >= self.LATE_TRIES:
                        return admission.fetch_id
                    # This process ran late (a busy machine, a slow commit): the start written is
                    # older than the request would be, and others pace themselves from it. Ask again.
                    late += 1
                    self.stats.inc_value("newsdesk/hosts/late_starts")
                    await self.run(hosts.finish, [admission.fetch_id])
                    continue
                self.stats.inc_value("newsdesk/hosts/waits")
                await asyncio.sleep(admission.wait)

    async def finish(self, request: Request, fetch_id: int, response: Response | None) -> None:
        """The request is back: a 429 or 503 with Retry-After pauses the host for every process
        (before its slot is freed, so none starts in between), then the slot is freed."""
        seconds = None
        if response is not None and self.retry_after and response.status in RetryAfterMiddleware.CODES:
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
        try:
            if seconds is not None:
                host = hosts.host_of(request.url)
                await self.run(hosts.pause, host, min(seconds, self.max_retry_after))
                self.stats.inc_value("newsdesk/hosts/paused")
                logger.info("HTTP %d Retry-After %s from %s: every crawl process pauses it", response.status, seconds, host)
        finally:
            if not self.closed:  # after close, finish_owner has freed them all
                self.executor.submit(self._finish_quietly, fetch_id, request.url)

    def _finish_quietly(self, fetch_id: int, url: str) -> None:  # in the thread
        try:
            self._in_transaction(hosts.finish, [fetch_id])
        except Exception as exc:  # noqa: BLE001 - the slot frees itself when its row expires
            logger.warning("could not free the host slot of %s (it expires by itself): %s", url, exc)
            self.stats.inc_value("newsdesk/hosts/finish_failed")

    def spider_closed(self, spider) -> None:
        """Slots this process still holds are freed (a crash leaves them to expire)."""
        self.closed = True
        if self.sessions is not None and CrawlRun.of(self.crawler).worker_id is not None:
            try:
                self.executor.submit(self._in_transaction, hosts.finish_owner, self.owner).result()
            except Exception as exc:  # noqa: BLE001 - they expire by themselves
                logger.warning("could not free the host slots of %s: %s", self.owner, exc)
        self.executor.shutdown(wait=True)


class PoliteHttpHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, with each request's start taken from the shared host table
    (:class:`SharedHostPoliteness`) when that is on.

    Here rather than in a middleware: a request leaves the middlewares, then waits in Scrapy's
    download slot for this process's own delay; a start recorded before that wait would be early
    by it, and another process could start too soon after the real one.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.crawler = crawler

    async def download_request(self, request: Request) -> Response:
        shared = SharedHostPoliteness.of(self.crawler)
        if shared is None:
            return await super().download_request(request)
        fetch_id = await shared.start(request)
        response = None
        try:
            response = await super().download_request(request)
            return response
        finally:
            await shared.finish(request, fetch_id, response)


class RetryAfterMiddleware:
    """Pauses a host that answers 429/503 with ``Retry-After``, then sends the request again.

    Sits just above Scrapy's RetryMiddleware (it sees responses first). Without a Retry-After
    header, or once ``NEWSDESK_RETRY_AFTER_TIMES`` is used up, the response goes on as it is
    (Scrapy's own retries are then skipped too: the cap is the cap). The pause holds the host's
    requests in ``process_request``; a crawl of one site simply waits.
    """

    CODES = (429, 503)

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSDESK_RETRY_AFTER_ENABLED"):
            raise NotConfigured  # NEWSDESK_RETRY_AFTER_ENABLED is off (no message: Scrapy would log one as a warning)
        self.max_wait = settings.getfloat("NEWSDESK_MAX_RETRY_AFTER")
        self.max_times = settings.getint("NEWSDESK_RETRY_AFTER_TIMES")
        self.stats = crawler.stats
        #: netloc -> time.monotonic() before which no request goes to it
        self.paused_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        until = self.paused_until.get(urlparse_cached(request).netloc)
        wait = until - time.monotonic() if until is not None else 0.0
        if wait > 0:
            from twisted.internet import reactor, task

            await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.CODES:
            return response
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None:
            return response
        times = request.meta.get("newsdesk_retry_after_times", 0)
        if times >= self.max_times:
            logger.warning("giving up on %s: HTTP %d after %d Retry-After waits", request.url, response.status, times)
            self.stats.inc_value("newsdesk/retry_after/gave_up")
            request.meta["dont_retry"] = True
            return response
        wait = min(seconds, self.max_wait)
        netloc = urlparse_cached(request).netloc
        self.paused_until[netloc] = max(self.paused_until.get(netloc, 0.0), time.monotonic() + wait)
        logger.info("HTTP %d Retry-After %s from %s: pausing it %.1f s", response.status, seconds, netloc, wait)
        self.stats.inc_value("newsdesk/retry_after/paused")
        retry = request.replace(dont_filter=True)
        retry.meta["newsdesk_retry_after_times"] = times + 1
        return retry


class BodySizeLimit:
    """Turns a download cancelled at ``DOWNLOAD_MAXSIZE`` into ``IgnoreRequest("body over N MB ...")``.

    Scrapy enforces the limit while receiving (and, for Content-Encoding, while inflating: that
    refusal already names DOWNLOAD_MAXSIZE); this only names the reason, so the crawl log records
    "skipped: body over 10 MB" instead of a bare cancellation.
    """

    def __init__(self, crawler: Crawler):
        self.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodySizeLimit:
        return cls(crawler)

    def process_exception(self, request: Request, exception: BaseException) -> None:
        if not isinstance(exception, DownloadCancelledError):
            return None
        detail = str(exception)
        if detail and "max size" not in detail:
            return None
        limit = request.meta.get("download_maxsize", self.max_size)
        self.stats.inc_value("newsdesk/body_over_max_size")
        raise IgnoreRequest(f"body over {limit / (1024 * 1024):g} MB (DOWNLOAD_MAXSIZE){': ' + detail if detail else ''}")


class RedirectToNoWebAddress:
    """Refuses a redirect to what is no web address (``Location: http://a b.example/``), recorded as
    the page's ``skipped`` outcome. Scrapy's RedirectMiddleware (600) raises ValueError building the
    request for it (w3lib 2.6 refuses such hosts), which would be an error of the run, not the page's."""

    REDIRECTS = frozenset({301, 302, 303, 307, 308})

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location") if response.status in self.REDIRECTS else None
        if location is None:
            return response
        target = location.decode("latin-1").strip()
        try:
            resolved = urljoin(request.url, target)
        except ValueError:  # a broken IPv6 literal
            resolved = None
        if resolved is None or canonical_url_or_none(resolved) is None:
            raise IgnoreRequest(f"redirect to {target[:300]!r}, which is no web address")
        return response


class RedirectScope:
    """Refuses a redirect whose target is outside the crawl run's scope (recorded as skipped)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectScope:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("redirect_urls"):
            return
        scope = CrawlRun.of(self.crawler).scope
        if scope is not None and request.url not in scope:
            self.stats.inc_value("newsdesk/redirect_out_of_scope")
            raise IgnoreRequest(f"redirect out of the crawl's scope to {request.url}")
