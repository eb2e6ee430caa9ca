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
* :class:`RetryAfterMiddleware` honours ``Retry-After`` on 429 and 503: the host is paused for
  that long (capped by ``NEWSDESK_MAX_RETRY_AFTER``) and the request tried again, at most
  ``NEWSDESK_RETRY_AFTER_TIMES`` times, so a rate-limited page is late rather than lost.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.components.run import CrawlRun
from crawler.discovery.dates import to_utc

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

__all__ = ["BodySizeLimit", "RedirectScope", "RetryAfterMiddleware", "RobotsTxtPolicy", "cap_robots_body", "retry_after_seconds"]


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

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        if urlparse_cached(request).scheme not in ("http", "https"):
            return
        parser = await self.robot_parser(request)
        why = self.unavailable.get(urlparse_cached(request).netloc)
        if why is not None:
            self._stats.inc_value("newsdesk/robots/refused_unavailable")
            raise IgnoreRequest(f"robots.txt unavailable ({why}): retry later")
        self.process_request_2(parser, request)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            waiting: Deferred = Deferred()
            self._parsers[netloc] = waiting
            robots_request = Request(
                f"{url.scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True},
                callback=NO_CALLBACK,
            )
            parser = None
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except Exception as exc:  # timeout, refused connection, DNS, size limits
                logger.info("robots.txt of %s failed: %s", netloc, exc)
                self._mark_unavailable(netloc, type(exc).__name__)
            else:
                parser = await self._read_response(response, netloc, request)
            self._stats.inc_value("robotstxt/request_count")
            self._parsers[netloc] = parser
            waiting.callback(parser)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _read_response(self, response: Response, netloc: str, request: Request) -> RobotParser | None:
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status >= 500:
            self._mark_unavailable(netloc, f"HTTP {response.status}")
            return None
        if response.status >= 300:
            return None  # 4xx (and redirects past the limit): no rules, everything allowed
        body = response.body
        if len(body) > self.max_bytes:
            logger.warning("robots.txt of %s is %d bytes; reading the first %d", netloc, len(body), self.max_bytes)
            self._stats.inc_value("newsdesk/robots/truncated")
            body = cap_robots_body(body, self.max_bytes)
        parser = build_from_crawler(self._parserimpl, self.crawler, body)
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed, robotparser=parser, request=request)
        return parser

    def _mark_unavailable(self, netloc: str, why: str) -> None:
        logger.warning("robots.txt of %s unavailable (%s): refusing that host for this crawl", netloc, why)
        self._stats.inc_value("newsdesk/robots/unavailable")
        self.unavailable[netloc] = why


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
