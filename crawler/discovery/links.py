"""Links a page offers to the crawl: absolute, web-only, without obvious non-page files.

Scrapy's LinkExtractor normalises every link several times over and was most of the crawl
process's CPU on link-heavy pages (menus, footers, most-read lists repeat on every page), so this
keeps to one pass: resolve, filter, and let the caller de-duplicate by canonical URL.
"""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.normalize import canonical_url_or_none

__all__ = ["NON_PAGE_EXTENSIONS", "page_links"]

#: Files that are never article pages.
NON_PAGE_EXTENSIONS = frozenset(
    "jpg jpeg png gif webp svg ico bmp tif tiff avif mp3 mp4 m4a wav ogg webm mov avi mkv flv pdf doc docx "
    "xls xlsx ppt pptx odt zip gz tgz rar 7z exe dmg apk iso css js json woff woff2 ttf".split()
)
_SKIPPED_SCHEMES = ("#", "javascript:", "mailto:", "tel:", "data:", "sms:", "ftp:", "file:")


def page_links(selector: Selector, page_url: str, max_anchors: int = 0) -> tuple[list[str], int]:
    """Absolute http(s) URLs of the page's ``<a>``/``<area>`` links, honouring ``<base href>``,
    from at most ``max_anchors`` anchors (0: all); also how many anchors were left unread."""
    # lxml directly: parsel would wrap each of thousands of attribute strings in a Selector.
    root = selector.root
    base = root.xpath("string(//base/@href)")
    base_url = urljoin(page_url, base.strip()) if base else page_url
    anchors = "//a/@href | //area/@href"
    unread = 0
    if max_anchors > 0:
        unread = max(0, int(root.xpath(f"count({anchors})")) - max_anchors)
        anchors = f"({anchors})[position() <= {max_anchors}]"
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    urls = []
    for href in root.xpath(anchors):
        href = str(href).strip()
        # Root-relative links (menus, footers) resolve the same on every page of a site.
        url = _resolve(origin if href.startswith("/") and not href.startswith("//") else base_url, href)
        if url is not None:
            urls.append(url)
    return urls, unread


@functools.lru_cache(maxsize=16384)
def _resolve(base_url: str, href: str) -> str | None:
    """The absolute URL of a link, or None when it is no web page to crawl."""
    if not href or href.lower().startswith(_SKIPPED_SCHEMES):
        return None
    try:
        url = urljoin(base_url, href)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # a hostile link: broken IPv6 literal, bad port and the like
        return None
    if parts.scheme not in ("http", "https"):
        return None
    if posixpath.splitext(parts.path)[1][1:].lower() in NON_PAGE_EXTENSIONS:
        return None
    if canonical_url_or_none(url) is None:  # a host no domain can have: "a b.example", "999.1.1.1"
        return None
    return url
