"""Items the spider yields: a fetched page on its way to extraction, or a fetch that ended early.

Every request ends as one of these, so the crawl log can say what happened to every URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.articles import ArticleIn
    from storage.dedup import Fingerprint

    from crawler.extraction import Article, Rejection
    from crawler.extraction.signals import PageSignals
    from crawler.pages import Page

__all__ = ["FetchOutcome", "PageItem"]


@dataclass
class PageItem:
    """An HTML page fetched and read (for a multi-page story, its first page); the pipelines
    normalise and store it."""

    source: str
    page: Page
    #: The URL as the frontier holds it (before redirects); marked done once the page is stored.
    requested_url: str
    extraction: Article | Rejection | None = None
    #: The body's dedup fingerprint, computed where the page was read.
    fingerprint: Fingerprint | None = None
    article: ArticleIn | None = None
    #: What the first page's HTML says of its use (its headers are on ``page``).
    signals: PageSignals | None = None


@dataclass
class FetchOutcome:
    """A URL that produced no page to extract: an HTTP error, a non-HTML body, a robots refusal."""

    source: str
    url: str
    outcome: str
    reason: str
    status: int | None = None
    size: int | None = None
    requested_url: str | None = None
    #: HTTP validators of a hub (feed, sitemap, home page), for the next run's conditional fetch.
    etag: str | None = None
    last_modified: str | None = None
    #: The page lists stories: the frontier keeps it a hub.
    hub: bool = False
