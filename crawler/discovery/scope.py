"""Which URLs belong to a crawl: the start URLs' sites, below the start URLs' folders."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.normalize import canonical_url, site_key

__all__ = ["CrawlScope", "InvalidStartUrl"]


class InvalidStartUrl(ValueError):
    """A start URL newsdesk will not fetch (not http or https, no host, or no web address)."""


def _folder(path: str) -> str:
    """``/news/`` for ``/news/`` and ``/news/index.html``: a start page's own folder."""
    if not path:
        return "/"
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class CrawlScope:
    """Pairs of (site, path prefix); a URL is in scope when it matches one of them.

    Starting at ``https://example.com/business/`` keeps the crawl inside that section, as a site
    hosted below a folder expects; starting at the root takes the whole site.
    """

    prefixes: tuple[tuple[str, str], ...]

    @classmethod
    def from_start_urls(cls, urls: Iterable[str]) -> CrawlScope:
        prefixes = []
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidStartUrl(f"not an http(s) URL: {url!r}")
            try:
                canonical_url(url)
            except ValueError as error:  # a port out of range, a host with a space or "%2F"
                raise InvalidStartUrl(f"not a web address: {url!r} ({error})") from None
            prefixes.append((site_key(url), _folder(parts.path)))
        if not prefixes:
            raise InvalidStartUrl("no start URL given")
        return cls(tuple(prefixes))

    def __contains__(self, url: str) -> bool:
        return _in_scope(self.prefixes, url)


@functools.lru_cache(maxsize=16384)
def _in_scope(prefixes: tuple[tuple[str, str], ...], url: str) -> bool:
    """Cached: a crawl asks about the same menu and footer links on every page."""
    try:
        parts = urlsplit(url)
        site = site_key(url) if parts.scheme in ("http", "https") else None
    except ValueError:  # a hostile link: bad port, broken IPv6 literal
        return False
    if site is None:
        return False
    path = parts.path or "/"
    return any(site == s and path.startswith(p) for s, p in prefixes)
