"""Renditions: the copies of one story a site serves under other URLs (AMP, print, mobile, ...).

A rendition is not a version: two renditions of a story differ (an AMP page drops a figure, a
print page adds a footer) without the story having changed. The write path (``storage.articles``)
records each URL of a story with its kind, keeps the body of the best rendition it has read
(:func:`outranks`), and makes a new version only when that rendition's own text changes.

Pure: no database, no HTML; the crawler names the kind, storage decides what it means.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Rendition", "outranks"]


class Rendition(StrEnum):
    """What one URL of a story is; stored in ``article_urls.rendition``."""

    #: The story's own URL: the page declares itself canonical, or declares nothing and shows
    #: no sign of being a copy.
    CANONICAL = "canonical"
    AMP = "amp"
    PRINT = "print"
    #: A view-all copy of a story in parts, or one of its pages declaring the story canonical.
    PAGINATED = "paginated"
    MOBILE = "mobile"
    #: A text-only or low-bandwidth edition.
    LITE = "lite"
    #: A copy made for partners (a syndication feed's page, ``syndication-source`` metadata).
    SYNDICATION = "syndication"
    #: A URL that leads to the story for no stated reason: a tracking variant, an old URL, an
    #: alias with the same body, a page declaring the story canonical without saying why.
    OTHER = "other"


def outranks(kind: str, word_count: int, body_kind: str | None, body_word_count: int) -> bool:
    """Whether a rendition's body should replace the story's stored body.

    The canonical rendition's body is the story's; without it, the fullest rendition's (an AMP or
    print copy often lacks a box or a paragraph of the story, rarely has more of it).
    """
    if kind == Rendition.CANONICAL:
        return body_kind != Rendition.CANONICAL
    if body_kind == Rendition.CANONICAL:
        return False
    return word_count > body_word_count
