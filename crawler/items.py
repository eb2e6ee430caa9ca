"""Items the spider yields: a fetched page on its way to extraction, or a fetch that ended early.

Every request ends as one of these, so the crawl log can say what happened to every URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.articles import ArticleIn
    from storage.dedup import Fingerprint

    from crawler.extraction import Article, Rejection
    from crawler.extraction.signals import PageSignals
    from crawler.pages import Page

__all__ = ["EXPORTED_FIELDS", "FetchOutcome", "PageItem", "exported_article"]


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
    #: The hub's template (see ``crawler.discovery.pagetype.page_template``), for the frontier.
    template: frozenset[str] | None = None


#: What ``scrapy crawl news -O items.jsonl`` (any Scrapy feed) writes for each article sent to the
#: store: the article's plain fields, never the page's bytes, in this order.
EXPORTED_FIELDS = (
    "source", "url", "canonical_url", "title", "published_at", "modified_at", "authors", "language",
    "section", "tags", "description", "image_url", "word_count", "fetched_at", "text",
)  # fmt: skip


def exported_article(article: ArticleIn) -> dict[str, Any]:
    """The item a stored article leaves the pipelines as: JSON-ready values only (dates as ISO
    8601 text, lists for tuples), so every feed format writes it and logs stay short."""
    record: dict[str, Any] = {}
    for name in EXPORTED_FIELDS:
        value = getattr(article, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        record[name] = value
    return record
