"""Site-wide publishers' signals, read once per site and crawl, before the site's first page.

:class:`SiteSignalsMiddleware` (a downloader middleware, after robots.txt) asks each site for its
``/.well-known/tdmrep.json`` before any other request to it goes out, so every page of the site is
judged with its site's rules; it also reads the site's robots.txt, as parsed for the crawl, for
the known AI crawlers (``crawler.discovery.ai_agents``). What it learns is kept on the crawl run
(``CrawlRun.site_tdm``) for the store pipeline, and written to ``site_signals``.

:func:`capture_signals` joins a page's signals (its <meta>, its headers, its site's file) into
what is stored with the article, with TDMRep's precedence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.components.run import CrawlRun
from crawler.discovery.ai_agents import verdicts_of
from crawler.extraction.signals import PageSignals, TdmRepFile, header_signals, parse_tdmrep_file, resolve_tdm
from storage import signals as signal_store
from storage.signals import SignalsIn, SiteSignalsIn, site_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.items import PageItem

logger = logging.getLogger(__name__)

__all__ = ["SITE_SIGNALS_KIND", "SiteSignalsMiddleware", "capture_signals", "joined_signals"]

#: ``meta["kind"]`` of the middleware's own requests (never a page of the crawl).
SITE_SIGNALS_KIND = "site-signals"
TDMREP_PATH = "/.well-known/tdmrep.json"


class SiteSignalsMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.our_agent = crawler.settings.get("USER_AGENT") or "newsdesk"
        #: site -> its tdmrep.json, or the Deferred of the request asking for it.
        self.files: dict[str, TdmRepFile | Deferred] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteSignalsMiddleware:
        return cls(crawler)

    @property
    def run(self) -> CrawlRun:
        return CrawlRun.of(self.crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("kind") == SITE_SIGNALS_KIND or request.meta.get("dont_obey_robotstxt"):
            return
        if urlparse_cached(request).scheme not in ("http", "https"):
            return
        site = site_of(request.url)
        known = self.files.get(site)
        if known is None:
            waiting: Deferred = Deferred()
            self.files[site] = waiting
            found = await self._read_tdmrep(site)
            self.files[site] = found
            self.run.site_tdm[site] = found
            self._keep(SiteSignalsIn(site, self.run.source, tdmrep=found.as_dict(), tdmrep_error=found.error))
            waiting.callback(found)
        elif isinstance(known, Deferred):
            await maybe_deferred_to_future(known)  # the site's first request is reading its file

    async def _read_tdmrep(self, site: str) -> TdmRepFile:
        request = Request(site + TDMREP_PATH, meta={"kind": SITE_SIGNALS_KIND}, callback=NO_CALLBACK)
        try:
            response: Response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as exc:
            return TdmRepFile(error=f"not fetched: {exc}"[:200])
        except Exception as exc:  # noqa: BLE001 - the network's failure: no file read, said so
            logger.info("tdmrep.json of %s failed: %s", site, exc)
            return TdmRepFile(error=f"not fetched: {type(exc).__name__}")
        if response.status == 404 or response.status == 410:
            return TdmRepFile()  # no file: the site declares nothing site-wide
        if response.status >= 300:
            return TdmRepFile(error=f"HTTP {response.status}")
        if response.body.lstrip()[:1] == b"<":
            return TdmRepFile()  # an HTML page served for any unknown path (a "soft 404"): no file
        return parse_tdmrep_file(response.body)

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        rules = getattr(robotparser, "rp", None)
        if rules is None:
            return  # not the Protego parser: its groups cannot be asked for other agents
        site = site_of(request.url)
        verdicts = verdicts_of(rules, site + "/", self.our_agent)
        self._keep(SiteSignalsIn(site, self.run.source, robots=verdicts.as_dict()))

    def _keep(self, found: SiteSignalsIn) -> None:
        """Written in the crawl's database thread, off the reactor; a failure is an error of the run."""
        run = self.run
        if run.sessions is None or run.database_closed:
            return

        def write() -> None:
            try:
                with run.sessions.begin() as session:
                    signal_store.record_site_signals(session, found, datetime.now(UTC))
            except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
                run.record_error("site-signals", exc, found.site + TDMREP_PATH, log_row=False)

        run.database.submit(write)


def capture_signals(item: PageItem, site_files: dict[str, TdmRepFile]) -> SignalsIn:
    """A capture's signals as stored: its HTML's, its headers', and its site file's TDM rule."""
    return joined_signals(item.page.url, item.signals, item.page.signal_header_map, site_files)


def joined_signals(
    url: str, page_signals: PageSignals | None, headers: Mapping[str, Iterable[str]], site_files: Mapping[str, Any]
) -> SignalsIn:
    """What :func:`capture_signals` stores, from plain values (``import-warc`` has no crawl item).

    ``headers``: the signal headers, lower-case names with their values in order.
    """
    found = (page_signals or PageSignals()).merged(header_signals(headers))
    site_file = site_files.get(site_of(url))
    site_rule = site_file.declaration_for(url) if isinstance(site_file, TdmRepFile) else None
    tdm = resolve_tdm(found.tdm, site_rule)
    return SignalsIn(
        tdm_reserved=tdm.reserved if tdm else None,
        tdm_policy=tdm.policy if tdm else None,
        tdm_origin=tdm.origin if tdm else None,
        robots=found.robots,
        content_usage=found.content_usage,
        free=found.free,
        paywall_selectors=found.paywalled_selectors,
        paywall_truncated=found.truncated,
    )
