"""The one generic news spider: robots.txt, sitemaps and same-site links lead to pages.

Every page fetched becomes a :class:`~crawler.items.PageItem` (the pipelines decide whether it is
an article); every request that yields no page becomes a :class:`~crawler.items.FetchOutcome`
with its reason, so nothing leaves the crawl unexplained.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import scrapy
from protego import Protego
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.components.run import CrawlPlan, CrawlRun
from crawler.discovery.continuation import MAX_PARTS
from crawler.discovery.documents import document_kind
from crawler.discovery.pagetype import PageKind
from crawler.discovery.feeds import FeedRefused, read_feed
from crawler.discovery.scope import CrawlScope
from crawler.discovery.sitemaps import SitemapRefused, read_sitemap
from crawler.items import FetchOutcome, PageItem
from crawler.middlewares import RefusedAddress
from crawler.normalize import canonical_url
from crawler.pages import Page, page_from_response
from crawler.reading import PageReading, ReadRequest, join_parts
from crawler.sources import Source

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.workers import ReadingPool

logger = logging.getLogger(__name__)

#: Sitemaps and feeds are fetched before the pages they list.
HUB_PRIORITY = 10


def _read_again(request: scrapy.Request) -> scrapy.Request:
    """The request of a page to fetch and read again later in the crawl, unconditionally."""
    headers = request.headers.copy()
    for name in ("If-None-Match", "If-Modified-Since"):
        headers.pop(name, None)
    return request.replace(dont_filter=True, headers=headers, meta={**request.meta, "read_again": True})


@dataclass(frozen=True, slots=True)
class _Story:
    """A page being read as an article, with the parts of a multi-page story read so far."""

    first_page: Page
    #: The frontier's URL for the first part: marked done once the story is stored.
    first_url: str
    readings: tuple[PageReading, ...]

    def with_part(self, reading: PageReading) -> _Story:
        return _Story(self.first_page, self.first_url, (*self.readings, reading))

    def item(self, source: str) -> PageItem:
        extraction, fingerprint = join_parts(self.readings)
        return PageItem(
            source=source,
            page=self.first_page,
            requested_url=self.first_url,
            extraction=extraction,
            fingerprint=fingerprint,
            signals=self.readings[0].signals,
        )


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        start_urls: str | list[str] | None = None,
        source: str | None = None,
        sources: str | None = None,
        recrawl_after: str | None = None,
        **kwargs: Any,
    ):
        """``-a source=NAME`` crawls a source from the sources file (``-a sources=PATH``, env
        ``NEWSDESK_SOURCES``, else ``./sources.toml``); ``-a start_urls=A,B`` crawls ad hoc, as
        a source named ``source`` or after the first URL's host."""
        super().__init__(**kwargs)
        #: The crawl's arguments, resolved; the crawl run (crawler.components.run) takes it over.
        self.plan = CrawlPlan.from_arguments(start_urls, source, sources, recrawl_after)
        self.start_urls = list(self.plan.start_urls)
        self.definition: Source | None = self.plan.definition
        # Canonical URLs this crawl has already turned into link requests: menus and footers
        # repeat the same links on every page, and a request costs far more than a set look-up.
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        definition = spider.definition
        if definition is not None:
            # Settings are still open here (Scrapy applies them after creating the spider).
            crawler.settings.setdict(dict(definition.settings), priority="spider")
            if definition.max_depth is not None:
                crawler.settings.set("DEPTH_LIMIT", definition.max_depth, priority="spider")
            if definition.max_pages is not None:
                crawler.settings.set("CLOSESPIDER_PAGECOUNT", definition.max_pages, priority="spider")
        settings = crawler.settings
        spider.max_html_bytes = settings.getint("NEWSDESK_MAX_HTML_BYTES")
        spider.max_text_chars = settings.getint("NEWSDESK_MAX_ARTICLE_CHARS")
        spider.max_url_length = settings.getint("URLLENGTH_LIMIT")
        spider.max_elements = settings.getint("NEWSDESK_MAX_PAGE_ELEMENTS")
        return spider

    @property
    def run(self) -> CrawlRun:
        """The crawl run: its reading pool, and the errors it accounts for."""
        return CrawlRun.of(self.crawler)

    @property
    def readers(self) -> ReadingPool:
        return self.run.readers

    # The plan's facts under the names discovery uses (the spider's own reading, no state of its own).
    @property
    def scope(self) -> CrawlScope:
        return self.plan.scope

    @property
    def source_name(self) -> str:
        return self.plan.source

    @property
    def since(self) -> datetime | None:
        return self.plan.since

    def is_article_candidate(self, url: str) -> bool:
        return self.plan.is_article_candidate(url)

    # -- discovery ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        robots_seen = set()
        for url in self.start_urls:
            robots_url = urljoin(url, "/robots.txt")
            if robots_url not in robots_seen:
                robots_seen.add(robots_url)
                yield self.request_for(robots_url, kind="robots", priority=HUB_PRIORITY)
            # A start URL is a hub, whatever an earlier run made of it: fetched again every run.
            yield self.request_for(canonical_url(url), kind="page", hub=True)
        if self.definition is not None:
            for sitemap_url in self.definition.sitemaps:
                yield self.request_for(sitemap_url, kind="sitemap", priority=HUB_PRIORITY)
            for feed_url in self.definition.feeds:
                yield self.request_for(feed_url, kind="feed", priority=HUB_PRIORITY)

    def request_for(
        self,
        url: str,
        *,
        kind: str = "page",
        depth: int | None = None,
        priority: int = 0,
        lastmod: datetime | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        hub: bool = False,
        frontier: bool = False,
    ) -> scrapy.Request:
        """The request for a URL of a given kind; the frontier scheduler rebuilds requests with it.

        ``frontier=True`` marks a request that came out of the frontier (it is completed there once
        its result is stored); conditional headers let an unchanged page, feed or sitemap answer
        304. ``hub``: the page lists stories; it is read for links only, never stored.
        """
        meta: dict[str, Any] = {"kind": kind}
        if hub:
            meta["hub"] = True
        if depth is not None:
            meta["depth"] = depth
        if lastmod is not None:
            meta["lastmod"] = lastmod
        if frontier:
            meta["frontier_url"] = url
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return scrapy.Request(
            url,
            callback=self._callbacks[kind],
            errback=self.on_error,
            meta=meta,
            headers=headers or None,
            priority=priority,
        )

    @property
    def _callbacks(self) -> dict[str, Any]:
        return {"page": self.parse_page, "sitemap": self.parse_sitemap, "feed": self.parse_feed, "robots": self.parse_robots}

    def page_request(self, url: str, lastmod: datetime | None = None) -> scrapy.Request | FetchOutcome:
        """The request for a page found in a sitemap, feed or link; a URL over URLLENGTH_LIMIT is
        an outcome in the crawl log instead (Scrapy would drop its request with a stats count)."""
        url = canonical_url(url)
        if 0 < self.max_url_length < len(url):
            reason = f"URL of {len(url):,} characters, over URLLENGTH_LIMIT ({self.max_url_length:,})"
            return self.outcome(url, "skipped", reason)
        return self.request_for(url, kind="page", lastmod=lastmod)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request | FetchOutcome]:
        robots = Protego.parse(response.text if isinstance(response, TextResponse) else "")
        sitemaps = [url for url in robots.sitemaps if url in self.scope]
        for sitemap_url in sitemaps:
            yield self.request_for(sitemap_url, kind="sitemap", priority=HUB_PRIORITY)
        yield self.hub_done(response, f"robots.txt listing {len(sitemaps)} sitemaps")

    def hub_done(
        self, response: Response, reason: str, *, lists_stories: bool = False, template: frozenset[str] | None = None
    ) -> FetchOutcome:
        """The last output of a robots, sitemap or feed callback (or of a page read for links
        only, which ``lists_stories`` keeps a hub): everything it listed has been queued by now,
        so the store pipeline may log it and mark it done in the frontier, with its validators."""
        done = self.outcome(response.url, "not-an-article", reason, response.status, len(response.body), response.meta)
        page = page_from_response(response)
        done.etag, done.last_modified, done.hub = page.etag, page.last_modified, lists_stories
        done.template = template if lists_stories else None
        return done

    def on_robots_error(self, failure: Failure) -> None:
        logger.info("no robots.txt sitemaps for %s: %s", failure.request.url, failure.getErrorMessage())

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request | FetchOutcome]:
        try:
            sitemap = read_sitemap(response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        except SitemapRefused as exc:
            yield self.outcome(response.url, "error", str(exc), response.status, len(response.body), response.meta)
            return
        if sitemap is None:
            if document_kind(response.body, None) == "feed":
                # Search engines take a feed as a sitemap, so robots.txt files name feeds too.
                yield from self.parse_feed(response)
                return
            yield self.outcome(response.url, "error", "not a sitemap", response.status, len(response.body), response.meta)
            return
        if sitemap.is_index:
            limit = self.settings.getint("NEWSDESK_MAX_SITEMAPS_PER_INDEX")
        else:
            limit = self.settings.getint("NEWSDESK_MAX_URLS_PER_SITEMAP")
        entries = [entry for entry in sitemap.entries if entry.url in self.scope]
        entries = self._capped(entries, limit, "sitemaps_per_index" if sitemap.is_index else "urls_per_sitemap", response.url)
        for entry in entries:
            if sitemap.is_index:
                yield self.request_for(entry.url, kind="sitemap", priority=HUB_PRIORITY)
                continue
            published = entry.news_publication_date
            if self.since and published and published < self.since:
                # News sitemaps date their entries: old articles are skipped without a fetch.
                yield self.outcome(entry.url, "skipped", f"published {published:%Y-%m-%d}, before since")
                continue
            yield self.page_request(entry.url, lastmod=entry.lastmod or published)
        kind = "sitemap index" if sitemap.is_index else "sitemap"
        yield self.hub_done(response, f"{kind} listing {len(entries)} URLs in scope")

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request | FetchOutcome]:
        if document_kind(response.body, None) == "sitemap":
            # A feed link that leads to a sitemap: read as what it is.
            yield from self.parse_sitemap(response)
            return
        try:
            entries = read_feed(response.body, response.url)
        except FeedRefused as exc:
            yield self.outcome(response.url, "error", str(exc), response.status, len(response.body), response.meta)
            return
        entries = [entry for entry in entries if entry.url in self.scope]
        limit = self.settings.getint("NEWSDESK_MAX_FEED_ENTRIES")
        entries = self._capped(entries, limit, "feed_entries", response.url)
        for entry in entries:
            yield self.page_request(entry.url, lastmod=entry.published_at)
        yield self.hub_done(response, f"feed listing {len(entries)} entries in scope")

    def _capped(self, items: list, limit: int, what: str, document_url: str, unread: int = 0) -> list:
        """The first ``limit`` items (0: no limit); what is cut (plus ``unread`` entries never
        looked at) is counted in stats and logged once for the document."""
        cut = max(0, len(items) - limit) + unread if limit > 0 else 0
        if not cut:
            return items
        self.crawler.stats.inc_value(f"newsdesk/capped/{what}", cut)
        logger.warning("%s: %s capped at %d (%d cut)", document_url, what.replace("_", " "), limit, cut)
        return items[:limit]

    async def parse_page(self, response: Response) -> AsyncIterator[scrapy.Request | PageItem | FetchOutcome]:
        page = page_from_response(response)
        document = document_kind(page.body, page.content_type)
        if document is not None and response.meta.get("story") is None:
            # A feed or sitemap fetched as a page (first met as a link, or served as text/html):
            # read as what it is, and recorded as such in the frontier for the next runs.
            url = response.meta.get("frontier_url") or response.url
            yield self.request_for(url, kind=document, priority=HUB_PRIORITY)
            read = self.parse_feed if document == "feed" else self.parse_sitemap
            for output in read(response):
                yield output
            return
        if not page.is_html:
            yield self.outcome(
                page.url, "skipped", f"content type {page.content_type}", page.status, len(page.body), response.meta
            )
            return
        html = page.body
        if 0 < self.max_html_bytes < len(html):
            # Read (links, page type, article) only this much: a 20 MB page would otherwise be a
            # tree of several hundred MB.
            self.crawler.stats.inc_value("newsdesk/html_cut")
            html = html[: self.max_html_bytes]
        story = response.meta.get("story")
        limit = self.settings.getint("NEWSDESK_MAX_LINKS_PER_PAGE")
        own_url = canonical_url(page.url)
        may_be_article = not response.meta.get("hub") and self.is_article_candidate(page.url)
        if story is not None or not may_be_article:
            site_chrome: bool | None = False  # read as a part, or as a hub, whatever the frame links
        elif response.meta.get("read_again"):
            site_chrome = self.run.is_site_chrome(own_url)  # as the crawl knows it now: no more waiting
        else:
            site_chrome = self.run.site_chrome_of(own_url)
        reading = await self.readers.read(
            html,
            ReadRequest(
                url=page.url,
                scope=self.scope,
                http_charset=page.http_charset,
                max_anchors=limit * 5 if limit > 0 else 0,
                want_feeds=response.meta.get("depth", 0) == 0,
                may_be_article=may_be_article,
                is_part=story is not None,
                max_text_chars=self.max_text_chars,
                max_elements=self.max_elements,
                known_stories=self.run.known_stories,
                known_hubs=self.run.hubs_shaped_like(own_url),
                site_chrome=site_chrome,
            ),
        )
        self.run.note_links(own_url, reading.links)
        if reading.text_cut_from:
            self.crawler.stats.inc_value("newsdesk/text_cut")
            logger.warning(
                "%s: article text cut at %d of %d characters (NEWSDESK_MAX_ARTICLE_CHARS)",
                page.url, self.max_text_chars, reading.text_cut_from,
            )  # fmt: skip
        following = reading.next_part
        if following is not None:
            # The next part is read as part of this story, never crawled as a page of its own.
            self.requested.add(canonical_url(following))
        # Links first: they are in the frontier before this page can be marked done.
        for feed_url in reading.feeds:
            yield self.request_for(feed_url, kind="feed", priority=HUB_PRIORITY)
        fresh = [link for link in reading.links if link not in self.requested]
        for link_url in self._capped(fresh, limit, "links_per_page", page.url, unread=reading.unread_anchors):
            self.requested.add(link_url)
            yield self.page_request(link_url)
        if reading.page_type is not None and reading.page_type.awaits_site_evidence:
            # Undated, unsigned, and linked from every page read so far: a service page if the
            # site's frame links it, which the crawl knows once it has read more of the site.
            self.run.read_later(_read_again(response.request))
            return
        if reading.not_article_reason is not None:
            # A page read for links only (a home, section or tag page) stays a hub; a media or
            # service page is only not a story (asked again next run, as every non-story is).
            page_type = reading.page_type
            typed_story = page_type is None or page_type.is_story
            reason = "hub, read for links" if response.meta.get("hub") and typed_story else reading.not_article_reason
            lists_stories = typed_story or page_type.kind is PageKind.HUB
            if lists_stories and reading.template:
                self.run.note_hub(own_url, reading.template)
            yield self.hub_done(response, reason, lists_stories=lists_stories, template=reading.template)
            return
        if story is None:
            first_url = response.meta.get("frontier_url") or response.url
            story = _Story(page, first_url, ())
        story = story.with_part(reading)
        if following is not None and len(story.readings) < MAX_PARTS:
            # dont_filter: the part is fetched for this story even though the crawl knows its URL.
            yield scrapy.Request(
                following,
                callback=self.parse_page,
                errback=self.on_error,
                dont_filter=True,
                meta={"kind": "page", "story": story},
            )
            return
        yield story.item(self.source_name)

    # -- failures ----------------------------------------------------------------------------

    def outcome(
        self, url: str, outcome: str, reason: str, status: int | None = None, size: int | None = None, meta=None
    ) -> FetchOutcome:
        return FetchOutcome(
            source=self.source_name,
            url=url,
            outcome=outcome,
            reason=reason,
            status=status,
            size=size,
            requested_url=(meta or {}).get("frontier_url"),
        )

    def on_error(self, failure: Failure) -> Iterator[FetchOutcome | PageItem]:
        url = failure.request.url
        meta = failure.request.meta
        story = meta.get("story")
        if story is not None:
            # A later part of a multi-page article failed: the story is stored from the parts read.
            yield story.item(self.source_name)
        if failure.check(HttpError) and failure.value.response.status == 304:
            if _sent_a_validator(failure.request):
                yield self.outcome(url, "unchanged", "HTTP 304 not modified", 304, 0, meta)
            else:
                # A broken server or cache: "unchanged" would mean a story never stored is never asked for again.
                yield self.outcome(url, "error", "HTTP 304 to a request without a validator", 304, 0, meta)
        elif failure.check(RefusedAddress) or "refused private address" in failure.getErrorMessage():
            yield self.outcome(url, "refused", failure.getErrorMessage(), meta=meta)
        elif failure.check(HttpError):
            response = failure.value.response
            yield self.outcome(url, "error", f"HTTP {response.status}", response.status, len(response.body), meta)
        elif failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            # "Forbidden by robots.txt", or "robots.txt unavailable (HTTP 503): retry later".
            yield self.outcome(url, "skipped-by-robots", failure.getErrorMessage(), meta=meta)
        elif failure.check(IgnoreRequest):
            yield self.outcome(url, "skipped", failure.getErrorMessage() or "request ignored", meta=meta)
        else:
            self.run.note_request_failure(failure, url)
            yield self.outcome(url, "error", f"{failure.type.__name__}: {failure.getErrorMessage()}", meta=meta)


def _sent_a_validator(request: scrapy.Request) -> bool:
    """Whether the request was conditional: only then does a 304 say that nothing changed."""
    return bool(request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"))
