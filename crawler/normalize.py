"""Canonical URLs and item normalisation: pure functions, no Scrapy.

A URL is canonicalised before it is scheduled (so variants collapse into one request) and again
before it is stored (so one story has one key). The page's own ``rel=canonical`` wins over the
fetched URL, but only when it points at the same site (the same registered domain: ``amp.``, ``m.``
and ``edition.`` copies declare ``www.``): a page cannot claim another site's URL.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tldextract
from w3lib.url import canonicalize_url

from crawler.discovery.dates import to_utc

if TYPE_CHECKING:
    from crawler.extraction import Article
    from storage.articles import ArticleIn
    from storage.dedup import Fingerprint

__all__ = [
    "DEFAULT_TRACKING_PARAMETERS",
    "article_to_store",
    "canonical_url",
    "canonical_url_or_none",
    "choose_canonical_url",
    "registered_site",
    "same_registered_site",
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

    Raises ValueError for what is no web address: a port out of range, a host with a space, ``<``,
    ``%2F`` or another code point no domain has, a malformed IPv4 address (w3lib 2.6 refuses the
    last two; pages link to such URLs, so callers reading a page use :func:`canonical_url_or_none`).
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


def canonical_url_or_none(url: str) -> str | None:
    """:func:`canonical_url`, or None for a URL that is no web address (one bad link or
    ``rel=canonical`` in a page costs that URL, never the page)."""
    try:
        return canonical_url(url)
    except ValueError:
        return None


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


# The public suffix list as the installed tldextract ships it: never fetched at run time (a crawl
# must not depend on a download), and with its private part, so that two blogs on one hosting
# domain (``alice.github.io``, ``bob.github.io``) stay two sites.
_split_host = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@functools.lru_cache(maxsize=4096)
def registered_site(url: str) -> str:
    """The registered domain (with a non-default port) a URL belongs to: ``m.bbc.co.uk`` and
    ``www.bbc.co.uk`` are both ``bbc.co.uk``. A host under no public suffix (an IP address,
    ``localhost``) is a site of its own, as :func:`site_key` says."""
    parts = urlsplit(url)
    domain = _split_host(parts.hostname or "").top_domain_under_public_suffix
    if not domain:
        return site_key(url)
    port = parts.port
    return f"{domain}:{port}" if port and port != _DEFAULT_PORTS.get(parts.scheme.lower()) else domain


def same_registered_site(a: str, b: str) -> bool:
    return registered_site(a) == registered_site(b)


def choose_canonical_url(
    fetched_url: str,
    declared_canonical: str | None,
    tracking_parameters: tuple[str, ...] = DEFAULT_TRACKING_PARAMETERS,
) -> str:
    """The page's declared canonical URL when it is on the fetched page's site, else the fetched URL.

    The site is the registered domain: an ``amp.``, ``m.`` or ``edition.`` page declaring its
    ``www.`` original is one story with it.

    A canonical pointing at the site's root (``/``, or only a query) or at a section above the page
    (``/world/`` from ``/world/2026/03/story-1``) is a CMS misconfiguration, not a claim that the
    page is that hub: five stories declaring it became one article at version 5. It is ignored.
    (A canonical that several different stories share is caught in storage, where the stories are:
    see ``storage.articles``.)
    """
    if declared_canonical and urlsplit(declared_canonical).scheme in ("http", "https"):
        if same_registered_site(declared_canonical, fetched_url) and not _names_a_hub_instead(
            declared_canonical, fetched_url
        ):
            return canonical_url(declared_canonical, tracking_parameters)
    return canonical_url(fetched_url, tracking_parameters)


#: Path segments that make a copy of the page above them (``/story/amp``, ``/story/print/``).
_RENDITION_SEGMENTS = frozenset({"amp", "print", "page", "all", "view-all", "viewall", "single-page", "lite", "mobile"})


def _names_a_hub_instead(declared_canonical: str, fetched_url: str) -> bool:
    """The canonical is the site's root, or a folder above the page that is not its story.

    ``/world/`` above ``/world/2026/03/story-1`` is a section; ``/story-1`` above
    ``/story-1/amp`` is the story (what lies below it only names a rendition), and so is
    ``/article/4711`` above ``/article/4711/its-slug`` (a story's number, which no section has).
    """
    declared = [s for s in urlsplit(declared_canonical).path.split("/") if s]
    fetched = [s for s in urlsplit(fetched_url).path.split("/") if s]
    if not declared:
        return bool(fetched)
    if len(declared) >= len(fetched) or [s.lower() for s in fetched[: len(declared)]] != [s.lower() for s in declared]:
        return False
    below = fetched[len(declared) :]
    if all(s.lower() in _RENDITION_SEGMENTS or s.isdigit() for s in below):
        return False  # /story/amp, /story/print, /story/page/2 ... (a page number), the story itself
    return not _names_a_story(declared[-1])


_DATE_SEGMENT = re.compile(r"(?:19|20)\d\d|\d{1,2}")


def _names_a_story(segment: str) -> bool:
    """A path segment holding a story's number (``4711``, ``a-20417``), not a date archive's."""
    return any(c.isdigit() for c in segment) and not _DATE_SEGMENT.fullmatch(segment)



def article_to_store(
    extracted: Article,
    *,
    source: str,
    url: str,
    fetched_at: datetime,
    fingerprint: Fingerprint | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> ArticleIn:
    """The row to store for an article read from ``url``: the same fields whether the page was
    crawled or taken from a WARC file (dates as aware UTC, the story's URL and what this page is
    to it, the Markdown of the same extraction)."""
    # Imported here: renditions reads canonical URLs from this module, and reading (which uses
    # this module's URL functions) must not load storage.
    from crawler.extraction.renditions import renditions_to_store
    from storage.articles import ArticleIn

    return ArticleIn(
        source=source,
        url=url,
        title=extracted.title,
        text=extracted.text,
        markdown=extracted.markdown or None,
        authors=tuple(extracted.authors),
        published_at=to_utc(extracted.published_at),
        modified_at=to_utc(extracted.modified_at),
        language=extracted.language,
        description=extracted.description,
        section=extracted.section,
        tags=tuple(extracted.tags),
        image_url=extracted.image_url,
        word_count=extracted.word_count,
        fetched_at=fetched_at,
        etag=etag,
        last_modified=last_modified,
        fingerprint=fingerprint,
        fetched_canonical_url=canonical_url(url),
        **renditions_to_store(extracted, url, choose_canonical_url(url, extracted.canonical_url)),
    )
