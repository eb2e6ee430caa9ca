"""Multi-page articles: is a rel=next / rel=prev link another part of the same story?

A story split over ``/story``, ``/story?page=2`` (or ``/story/2``, ``/story/page/2``) is one
article; a section's ``/latest/2`` is not a part of anything (index pages never get here).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

__all__ = ["MAX_PARTS", "article_root", "next_part", "previous_part"]

#: A story in more parts than this is read up to here (a safeguard against endless "next" chains).
MAX_PARTS = 20
_PAGE_PARAMETERS = frozenset({"page", "p", "pg", "pagina", "seite", "part"})
_PAGE_SUFFIX = re.compile(r"(?:/page)?/\d{1,3}/?$")


def article_root(url: str) -> str:
    """The URL with its part number removed: the same for every part of one story."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _PAGE_PARAMETERS]
    path = _PAGE_SUFFIX.sub("", parts.path) or "/"
    return urlunsplit((parts.scheme, parts.netloc.lower(), path.rstrip("/") or "/", urlencode(query), ""))


def _related(selector: Selector, page_url: str, rel: str) -> str | None:
    for href in selector.xpath(f'//link[@rel="{rel}"]/@href | //a[@rel="{rel}"]/@href').getall():
        try:
            url = urljoin(page_url, href.strip())
        except ValueError:
            continue
        if url != page_url and article_root(url) == article_root(page_url):
            return url
    return None


def next_part(selector: Selector, page_url: str) -> str | None:
    """The URL of the story's next part, when the page links one."""
    return _related(selector, page_url, "next")


def previous_part(selector: Selector, page_url: str) -> str | None:
    """The URL of the story's previous part: this page is a continuation, not an article."""
    return _related(selector, page_url, "prev")
