"""What a fetched body is, whatever it was served or queued as: a feed, a sitemap, or neither.

Sites serve feeds as ``application/rss+xml``, ``text/xml``, ``application/xml`` or even
``text/html``, and a feed's URL is often met first as a plain link. The root element decides;
a feed content type decides only when no root element is found in the first bytes.
"""

from __future__ import annotations

import re

from crawler.discovery.feeds import FEED_TYPES

__all__ = ["document_kind"]

#: Root elements (local names, lower case) of RSS 0.9x/2.0, RSS 1.0 (rdf:RDF), Atom, and sitemaps.
FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
#: The prolog (declaration, comments, doctype, stylesheet) of a real feed fits well within this.
HEAD_BYTES = 8192

_ROOT_NAME = re.compile(rb"(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def _root_name(body: bytes) -> str | None:
    head = body[:HEAD_BYTES].removeprefix(b"\xef\xbb\xbf")
    position = 0
    while (start := head.find(b"<", position)) >= 0:
        if head.startswith(b"<!--", start):
            end = head.find(b"-->", start + 4)
            position = end + 3
        elif head[start + 1 : start + 2] in (b"?", b"!"):
            end = head.find(b">", start + 2)
            position = end + 1
        else:
            match = _ROOT_NAME.match(head, start + 1)
            return match.group(1).decode("ascii").lower() if match else None
        if end < 0:
            return None
    return None


def document_kind(body: bytes, content_type: str | None) -> str | None:
    """``"feed"`` or ``"sitemap"`` when the body is one, else None (an HTML page, an image...)."""
    root = _root_name(body)
    if root in FEED_ROOTS:
        return "feed"
    if root in SITEMAP_ROOTS:
        return "sitemap"
    if root is None and content_type in FEED_TYPES:
        return "feed"
    return None
