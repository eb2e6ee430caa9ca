"""The two values extraction returns: an Article, or a Rejection saying why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Article", "Rejection"]


@dataclass(frozen=True, slots=True)
class Article:
    """A news article as read from one page.

    ``published_at`` and ``modified_at`` are timezone-aware, in the offset the page states, so
    their ``date()`` is the day the publisher's readers were told; they compare as instants across
    publishers, and the crawl stores them in UTC (``to_utc``). A date stated without a time, or a
    time without an offset, is read as UTC, which keeps the stated day.
    """

    url: str
    title: str | None
    text: str
    authors: tuple[str, ...]
    published_at: datetime | None
    modified_at: datetime | None
    language: str | None
    description: str | None
    section: str | None
    tags: tuple[str, ...]
    image_url: str | None
    canonical_url: str | None
    word_count: int
    # Metadata fields the page states but that could not be read, left empty ("field: error").
    notes: tuple[str, ...] = ()
    #: What this page is to its story: canonical, amp, print, ... (``storage.renditions.Rendition``).
    rendition: str = "canonical"
    #: Other renditions the page names (rel=amphtml, a mobile alternate): (absolute URL, kind).
    declared_renditions: tuple[tuple[str, str], ...] = ()
    # The same body with its sub-headings, lists, quotes and tables as Markdown.
    markdown: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a page is not an article; falsy so callers can write ``if result:``.

    ``reason`` is a short stable slug (counted in crawl stats), ``detail`` is for humans.
    """

    reason: str
    detail: str = ""

    def __bool__(self) -> bool:
        return False
