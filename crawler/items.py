"""Items the spider yields: a fetched page on its way to extraction, or a fetch that ended early.

Every request ends as one of these, so the crawl log can say what happened to every URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.articles import ArticleIn

    from crawler.extraction import Article, Rejection
    from crawler.pages import Page

__all__ = ["FetchOutcome", "PageItem"]


@dataclass
class PageItem:
    """An HTML page fetched with status 200; the pipelines fill in the later stages."""

    source: str
    page: Page
    #: The URL as the frontier holds it (before redirects); marked done once the page is stored.
    requested_url: str
    #: Later parts of a multi-page article, joined to the first page's text by extraction.
    continuation: tuple[Page, ...] = ()
    extraction: Article | Rejection | None = None
    article: ArticleIn | None = None


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
