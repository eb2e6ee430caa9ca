"""Reading sitemaps safely: gzip capped in size, XML parsed without entities or network access."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from scrapy.utils.gz import gunzip

from crawler.discovery.dates import to_utc

logger = logging.getLogger(__name__)

__all__ = ["SitemapEntry", "SitemapRefused", "read_sitemap"]

GZIP_MAGIC = b"\x1f\x8b"


class SitemapRefused(ValueError):
    """Bytes that are a sitemap newsdesk will not read (they declare XML entities)."""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>``; its dates are aware UTC, ``None`` when absent or unreadable."""

    url: str
    lastmod: datetime | None = None
    news_publication_date: datetime | None = None
    news_title: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedSitemap:
    is_index: bool
    entries: tuple[SitemapEntry, ...]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return None


def read_sitemap(body: bytes, *, max_size: int) -> ParsedSitemap | None:
    """Parse a sitemap or sitemap index; ``None`` when the bytes are not one.

    The parser resolves no entities and touches no network, so XXE and billion-laughs payloads
    come out as plain text or nothing; gzip is inflated only up to ``max_size``. A sitemap that
    declares entities raises :class:`SitemapRefused`: no real sitemap needs them, and libxml2 stops
    at an entity loop, silently dropping the entries after it.
    """
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, ValueError) as exc:
            logger.warning("sitemap gzip refused: %s", exc)
            return None
    if b"<!entity" in body[:65536].lower():
        raise SitemapRefused("sitemap declares XML entities")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, remove_comments=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        logger.warning("sitemap not parsed: %s", exc)
        return None
    if root is None or _local(root.tag) not in ("sitemapindex", "urlset"):
        return None
    entries = []
    for element in root:
        loc = _child_text(element, "loc")
        if not loc:
            continue
        news = next((child for child in element if _local(child.tag) == "news"), None)
        entries.append(
            SitemapEntry(
                url=loc,
                lastmod=to_utc(_child_text(element, "lastmod")),
                news_publication_date=to_utc(_child_text(news, "publication_date")) if news is not None else None,
                news_title=_child_text(news, "title") if news is not None else None,
            )
        )
    return ParsedSitemap(is_index=_local(root.tag) == "sitemapindex", entries=tuple(entries))

