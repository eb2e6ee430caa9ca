"""Reading RSS and Atom feeds from response bytes, and finding feeds a page advertises."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

import feedparser
from lxml import html as lxml_html

from crawler.discovery.dates import to_utc

logger = logging.getLogger(__name__)

__all__ = ["FeedEntry", "advertised_feeds", "read_feed"]

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml"})


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    published_at: datetime | None = None
    title: str | None = None


class FeedRefused(ValueError):
    """Bytes that are not a feed newsdesk will read."""


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    """The entry's date as aware UTC: its own text first, which keeps what it says exactly;
    feedparser's UTC tuple when only feedparser can read the text (dates in other languages)."""
    # Looked up by key only when present: feedparser warns when it falls back from one to the other.
    for key in ("published", "updated"):
        found = to_utc(dict.get(entry, key)) or to_utc(dict.get(entry, f"{key}_parsed"))
        if found is not None:
            return found
    return None


def read_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """The entries of an RSS/Atom feed.

    Always parsed from bytes: feedparser given a string that looks like a path or ``file://``
    URL would open it. A feed that declares XML entities is refused outright: no real feed needs
    them, and they are how XXE and entity-expansion attacks arrive.
    """
    head = body[:65536].lower()
    if b"<!entity" in head:
        raise FeedRefused("feed declares XML entities")
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    if parsed.bozo and not parsed.entries:
        raise FeedRefused(f"not a feed: {parsed.get('bozo_exception')}")
    entries = []
    for entry in parsed.entries:
        link = entry.get("link")
        if link:
            entries.append(FeedEntry(url=urljoin(base_url, link), published_at=_entry_time(entry), title=entry.get("title")))
    return entries


def advertised_feeds(document: lxml_html.HtmlElement, base_url: str) -> list[str]:
    """Feed URLs from ``<link rel="alternate" type="application/rss+xml">`` and the like."""
    urls = []
    for link in document.iterfind(".//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower().strip() in FEED_TYPES:
            try:
                urls.append(urljoin(base_url, link.get("href").strip()))
            except ValueError:  # a hostile href: broken IPv6 literal and the like
                continue
    return urls
