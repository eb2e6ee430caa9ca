"""Canonical URLs and item normalisation: pure functions, no Scrapy.

A URL is canonicalised before it is scheduled (so variants collapse into one request) and again
before it is stored (so one story has one key). The page's own ``rel=canonical`` wins over the
fetched URL, but only when it points at the same site: a page cannot claim another site's URL.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = [
    "DEFAULT_TRACKING_PARAMETERS",
    "canonical_url",
    "choose_canonical_url",
    "same_site",
    "site_key",
]

#: Query parameters that only say how a reader arrived; glob patterns, matched case-insensitively.
DEFAULT_TRACKING_PARAMETERS: tuple[str, ...] = (
    "utm_*",
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "yclid",
    "igshid",
    "_ga",
    "ref",
    "ref_src",
    "ref_url",
    "cmpid",
    "ito",
    "ocid",
    "smid",
    "sr_share",
    "at_medium",
    "at_campaign",
    "amp",
    "outputtype",
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str, patterns: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in patterns)


@functools.lru_cache(maxsize=16384)
def canonical_url(url: str, tracking_parameters: tuple[str, ...] = DEFAULT_TRACKING_PARAMETERS) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters, sorted query.

    Cached: a crawl meets the same menu and footer links on every page of a site.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets (w3lib cannot parse it without)
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    patterns = tuple(p.lower() for p in tracking_parameters)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, patterns)]
    rebuilt = urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))
    # w3lib sorts the query and normalises percent-encoding; it keeps an explicit default port,
    # which we have already dropped above.
    return canonicalize_url(rebuilt, keep_fragments=False)


def site_key(url: str) -> str:
    """The host (with a non-default port) that identifies a site."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{parts.port}"
    return host


def same_site(a: str, b: str) -> bool:
    return site_key(a) == site_key(b)


def choose_canonical_url(
    fetched_url: str,
    declared_canonical: str | None,
    tracking_parameters: tuple[str, ...] = DEFAULT_TRACKING_PARAMETERS,
) -> str:
    """The page's declared canonical URL when it is on the fetched page's site, else the fetched URL.

    A canonical pointing at the site's root (``/``, or only a query) from another page is a CMS
    misconfiguration, not a claim that the page is the home page: five stories declaring it
    became one article at version 5. It is ignored. (A canonical that several different stories
    share is caught in storage, where the stories are: see ``storage.articles``.)
    """
    if declared_canonical and urlsplit(declared_canonical).scheme in ("http", "https"):
        if same_site(declared_canonical, fetched_url) and not _names_the_root_instead(declared_canonical, fetched_url):
            return canonical_url(declared_canonical, tracking_parameters)
    return canonical_url(fetched_url, tracking_parameters)


def _names_the_root_instead(declared_canonical: str, fetched_url: str) -> bool:
    return urlsplit(declared_canonical).path in ("", "/") and urlsplit(fetched_url).path not in ("", "/")
