"""Reading a fetched page: everything the crawl wants from its HTML, from one parse, off the reactor.

A page is parsed once, in an extraction worker, and read for what discovery needs (in-scope links,
advertised feeds, page type, the parts of a multi-page story) and, when it may be an article, for
the article itself and its dedup fingerprint. The crawl process only schedules and stores: parsing
100-200 KB pages and canonicalising their links there cost more CPU than Scrapy's own work and
capped what the worker pool could add.

Pure functions over bytes: no Scrapy, no database; the records cross the process boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import version

from parsel import Selector

from crawler.discovery.continuation import next_part, previous_part
from crawler.discovery.feeds import advertised_feeds
from crawler.discovery.interstitials import detect_interstitial
from crawler.discovery.links import page_links
from crawler.discovery.pagetype import PageKind, PageType, page_template, type_page
from crawler.discovery.scope import CrawlScope
from crawler.extraction import Article, Rejection, count_words, extract_article, parse_page_html
from crawler.extraction.signals import PageSignals, html_signals
from crawler.normalize import canonical_url
from storage.dedup import Fingerprint, fingerprint

logger = logging.getLogger(__name__)

#: What read a page: the newsdesk release, which pins trafilatura exactly. Stored stories are
#: noted as read by it, and ``reextract`` reads again those a newer one could change.
EXTRACTOR_VERSION = version("newsdesk")

__all__ = [
    "EXTRACTOR_VERSION", "INTERSTITIAL", "REJECTION_OUTCOMES", "PageReading", "ReadRequest", "join_parts", "read_page",
]

#: The rejection reason of a page standing in front of the story (consent, paywall, bot check).
INTERSTITIAL = "interstitial"
#: The crawl-log outcome of a page rejected for these reasons (any other: ``not-an-article``);
#: the crawl and import-warc log alike.
REJECTION_OUTCOMES = {"published-before-since": "skipped", INTERSTITIAL: "interstitial"}

#: ``<`` characters allowed per element of ``ReadRequest.max_elements`` before the bytes are cut
#: unparsed: an element has an opening and a closing tag, and scripts and comments add more (up
#: to 3.5 per element on 714 real news pages).
TAGS_PER_ELEMENT = 4


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """What the crawl asks of one page."""

    url: str
    scope: CrawlScope
    http_charset: str | None = None
    #: Anchors read for links (0: all); what is left unread is counted.
    max_anchors: int = 0
    #: A start page is also read for the feeds it advertises.
    want_feeds: bool = False
    #: The source's URL rules allow an article here; otherwise the page is read for links only.
    may_be_article: bool = True
    #: The page was fetched as a later part of a story, not found on its own.
    is_part: bool = False
    #: False: read for discovery only (after extraction of the page timed out or crashed).
    extract: bool = True
    #: Article text beyond this many characters is cut at a paragraph break (0: no cap).
    max_text_chars: int = 0
    #: A page with more HTML elements is read for links only, from its first elements (0: no cap).
    max_elements: int = 0
    #: Canonical URLs the crawl has stored as stories: a short page linking to many is a hub.
    known_stories: frozenset[str] = frozenset()
    #: (URL, template) of hubs the crawl knows on the page's host and of its URL shape: a short
    #: page built like them is a hub (see :func:`crawler.discovery.pagetype.type_page`).
    known_hubs: tuple[tuple[str, frozenset[str]], ...] = ()
    #: The site's frame (menu, footer) links the page from nearly every page: undated and
    #: unsigned, it is a service page. None: the crawl cannot tell yet (the page is then not
    #: extracted when it would be one, and read again later: ``PageType.awaits_site_evidence``).
    site_chrome: bool | None = False


@dataclass(frozen=True, slots=True)
class PageReading:
    """The crawl's view of a page. ``extraction`` is None when the page was never a candidate
    (``not_article_reason`` says why); ``fingerprint`` is set for an extracted article."""

    links: tuple[str, ...] = ()
    unread_anchors: int = 0
    feeds: tuple[str, ...] = ()
    next_part: str | None = None
    not_article_reason: str | None = None
    #: What the page is (story, hub, media, service) and why; None when it was read for links only.
    page_type: PageType | None = None
    extraction: Article | Rejection | None = None
    fingerprint: Fingerprint | None = field(default=None, repr=False)
    #: The length of the article text before it was cut to ``max_text_chars`` (0: not cut).
    text_cut_from: int = 0
    #: What the page's HTML says of its use (TDMRep and robots <meta>, paywall), for an article.
    signals: PageSignals | None = None
    #: The template of a hub (typed so, or read as one: a start URL), which the crawl keeps as
    #: evidence for the pages built like it.
    template: frozenset[str] | None = field(default=None, repr=False)

    @property
    def over_element_cap(self) -> bool:
        """Read for links only: too many elements to type or extract (NEWSDESK_MAX_PAGE_ELEMENTS)."""
        return self.page_type is None and self.not_article_reason is not None


def read_page(html: bytes, request: ReadRequest) -> PageReading:
    """Never raises for bad input: a page that cannot be read is a Rejection."""
    try:
        return _read(html, request)
    except Exception as error:
        logger.warning("reading failed on %s", request.url, exc_info=True)
        return PageReading(extraction=Rejection("extraction-failed", f"{type(error).__name__}: {error}"[:200]))


def _read(html: bytes, request: ReadRequest) -> PageReading:
    url = request.url
    html, cut = _cut_at_tags(html, request.max_elements * TAGS_PER_ELEMENT)
    tree = parse_page_html(html, request.http_charset)
    if isinstance(tree, Rejection):
        return PageReading(extraction=tree)
    selector = Selector(root=tree, type="html")
    if request.scope.prefixes:
        anchors, unread = page_links(selector, url, max_anchors=request.max_anchors)
        # dict: de-duplicated, in page order.
        links = tuple(dict.fromkeys(link for link in map(canonical_url, anchors) if link in request.scope))
    else:  # no link can be in an empty scope (import-warc, reextract, extract): none is read
        links, unread = (), 0
    feeds = tuple(feed for feed in advertised_feeds(tree, url) if feed in request.scope) if request.want_feeds else ()
    if cut or 0 < request.max_elements < int(tree.xpath("count(//*)")):
        # Page-type rules and extraction over such a tree took minutes and most of a gigabyte.
        reason = f"over {request.max_elements:,} HTML elements (NEWSDESK_MAX_PAGE_ELEMENTS): read for links only"
        return PageReading(links=links, unread_anchors=unread, feeds=feeds, not_article_reason=reason)
    own_url = canonical_url(url)
    linked_stories = sum(1 for link in links if link in request.known_stories and link != own_url)
    page_type = type_page(
        tree, url, linked_stories=linked_stories, known_hubs=request.known_hubs, site_chrome=request.site_chrome
    )
    following = next_part(selector, url) if page_type.has_article_markup else None
    reading = PageReading(links=links, unread_anchors=unread, feeds=feeds, next_part=following, page_type=page_type)
    if not request.extract or page_type.awaits_site_evidence:
        return reading
    reason = _why_not_an_article(selector, request, page_type)
    if reason is not None:
        # A hub's template, or a start page's (read as a hub, whatever its structure says).
        is_hub = page_type.kind is PageKind.HUB or (page_type.is_story and not request.may_be_article)
        return replace(reading, not_article_reason=reason, template=page_template(tree) if is_hub else None)
    wall = detect_interstitial(tree)
    if wall is not None:
        # Not the story but a page in front of it: no article, and the URL is tried again later.
        return replace(reading, extraction=Rejection(INTERSTITIAL, f"{wall.kind}: {wall.evidence}"[:200]))
    extraction = extract_article(tree, url)
    if not isinstance(extraction, Article):
        return replace(reading, extraction=extraction)
    full_length = len(extraction.text)
    if 0 < request.max_text_chars < full_length:
        extraction = _cut(extraction, request.max_text_chars)
    else:
        full_length = 0
    return replace(
        reading,
        extraction=extraction,
        fingerprint=fingerprint(extraction.text),
        text_cut_from=full_length,
        signals=html_signals(tree, extraction.word_count),
    )


def _cut_at_tags(html: bytes, max_tags: int) -> tuple[bytes, bool]:
    """``html`` cut before its ``max_tags``-th ``<`` (0: no cap); and whether it was cut.

    Cut on the bytes, before parsing: 5 MB of ``<i>x</i>`` is 700,000 elements, a tree of over
    200 MB before anything reads it.
    """
    if max_tags <= 0 or html.count(b"<") <= max_tags:
        return html, False
    position = -1
    for _ in range(max_tags):
        position = html.find(b"<", position + 1)
    return html[:position], True


def _cut(article: Article, max_chars: int) -> Article:
    """The article with its text cut at the last paragraph break (else space) before ``max_chars``.

    A hostile or broken page can yield millions of characters of "article"; no news story is that
    long, and every copy of such a text (worker, crawl process, writer, database) costs memory.
    """
    text = _cut_text(article.text, max_chars)
    return replace(article, text=text, word_count=count_words(text), markdown=_cut_text(article.markdown, max_chars))


def _cut_text(text: str, max_chars: int) -> str:
    text = text[:max_chars]
    end = text.rfind("\n\n")
    if end < max_chars // 2:
        end = text.rfind(" ")
    return text[: end if end > 0 else max_chars].rstrip()


def _why_not_an_article(selector: Selector, request: ReadRequest, page_type: PageType) -> str | None:
    if request.is_part:
        return None  # a part of a story is read as part of it, whatever its own URL and markup say
    if not page_type.is_story:
        return page_type.describe()
    if not request.may_be_article:
        return "URL matches no article rule"
    if previous_part(selector, request.url):
        return "a later part of a multi-page article"
    return None


def join_parts(readings: Sequence[PageReading]) -> tuple[Article | Rejection | None, Fingerprint | None]:
    """A multi-page story: the first part's metadata, every extracted part's text in order.

    A joined text gets no fingerprint here (storage computes it): stories in parts are rare.
    """
    first = readings[0].extraction
    if not isinstance(first, Article):
        return first, readings[0].fingerprint
    parts = [first, *(r.extraction for r in readings[1:] if isinstance(r.extraction, Article))]
    if len(parts) == 1:
        return first, readings[0].fingerprint
    text = "\n\n".join(part.text for part in parts)
    markdown = "\n\n".join(part.markdown for part in parts)
    return replace(first, text=text, word_count=count_words(text), markdown=markdown), None
