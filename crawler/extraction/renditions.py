"""Which rendition of its story a page is (canonical, AMP, print, view-all, mobile, lite, syndication).

Read from evidence the page and its URL give: the canonical URL it declares, ``<html amp>`` /
``<html ⚡>``, a print stylesheet applied to the screen or a ``window.print()`` on load, print,
view-all and page-number URLs, ``amp.`` / ``m.`` / ``lite.`` hosts. The kind tells storage that two
differing bodies are two copies of one story, not an edit (see ``storage.renditions``).

Pure: an lxml tree and a URL in, a kind out; no Scrapy, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from crawler.normalize import canonical_url, canonical_url_or_none, same_registered_site

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from crawler.extraction.records import Article

__all__ = ["MAX_DECLARED", "Rendition", "declared_renditions", "rendition_of", "renditions_to_store", "story_url_of"]


class Rendition(StrEnum):
    """The kinds ``storage.renditions.Rendition`` stores, named here because extraction imports
    no storage (tests/unit/test_renditions.py keeps the two equal)."""

    CANONICAL = "canonical"
    AMP = "amp"
    PRINT = "print"
    PAGINATED = "paginated"
    MOBILE = "mobile"
    LITE = "lite"
    SYNDICATION = "syndication"
    OTHER = "other"

#: Renditions read from one page's ``<link>`` elements at most.
MAX_DECLARED = 8
# First host labels naming a copy of the www site.
_HOST_KINDS = {
    "amp": Rendition.AMP,
    "m": Rendition.MOBILE,
    "mobile": Rendition.MOBILE,
    "mobil": Rendition.MOBILE,
    "touch": Rendition.MOBILE,
    "lite": Rendition.LITE,
    "text": Rendition.LITE,
    "print": Rendition.PRINT,
}
# Path segments naming a copy of the page they sit in (``/amp/…``, ``/story/print``, ``/…/all``).
_SEGMENT_KINDS = {
    "amp": Rendition.AMP,
    "print": Rendition.PRINT,
    "printable": Rendition.PRINT,
    "print-friendly": Rendition.PRINT,
    "all": Rendition.PAGINATED,
    "view-all": Rendition.PAGINATED,
    "viewall": Rendition.PAGINATED,
    "single-page": Rendition.PAGINATED,
    "singlepage": Rendition.PAGINATED,
    "m": Rendition.MOBILE,
    "mobile": Rendition.MOBILE,
    "lite": Rendition.LITE,
    "syndication": Rendition.SYNDICATION,
}
# Query parameters naming a copy; with these values when the name alone is not enough.
_PARAMETER_KINDS = {
    "amp": Rendition.AMP,
    "print": Rendition.PRINT,
    "printable": Rendition.PRINT,
    "viewall": Rendition.PAGINATED,
    "showall": Rendition.PAGINATED,
    "singlepage": Rendition.PAGINATED,
    "single_page": Rendition.PAGINATED,
    "lite": Rendition.LITE,
}
_VALUE_KINDS = {
    "amp": Rendition.AMP,
    "print": Rendition.PRINT,
    "printable": Rendition.PRINT,
    "all": Rendition.PAGINATED,
    "full": Rendition.PAGINATED,
    "single": Rendition.PAGINATED,
    "mobile": Rendition.MOBILE,
    "lite": Rendition.LITE,
    "text": Rendition.LITE,
    "syndication": Rendition.SYNDICATION,
}
_VALUE_PARAMETERS = frozenset({"view", "output", "outputtype", "format", "mode", "page", "version", "layout"})
# A page number: the page is one part of a story in parts.
_PAGE_PARAMETERS = frozenset({"page", "pg", "pagina", "seite"})  # not WordPress's ?p=<post id>
_PAGE_PATH = re.compile(r"/page/\d{1,3}/?$")
_DISABLED_FALSE = frozenset({"0", "false", "no", "off"})
_PRINTS_ON_LOAD = re.compile(r"\bprint\s*\(\s*\)")
_SCREEN_MEDIA = frozenset({"", "all", "screen"})
_SOURCE_NAMES = frozenset({"syndication-source", "original-source"})


def rendition_of(tree: HtmlElement, url: str, declared_canonical: str | None) -> Rendition:
    """What the page at ``url`` is to its story.

    A page declaring itself canonical is the canonical rendition whatever its URL says (an
    AMP-first or mobile-only site). Otherwise the page's own markup, then its URL, say which copy
    it is; a page declaring another canonical URL for no visible reason is "other", and a page
    declaring none and showing no sign of a copy is taken for the story's own URL.
    """
    if declared_canonical and canonical_url(declared_canonical) == canonical_url(url):
        return Rendition.CANONICAL
    kind = _from_markup(tree, url) or _from_url(url)
    if kind is Rendition.PAGINATED and _numbered_part(url) and not _links_to_another_part(tree, url):
        # ``/x/page/2`` or ``?page=2`` is a part of story ``/x`` only when it links to the story's
        # other parts, as a story in parts does; a URL alone also fits a story filed under a
        # numbered path, which must not be taken for another story's copy.
        kind = None
    if kind is not None:
        return kind
    return Rendition.OTHER if declared_canonical else Rendition.CANONICAL


def declared_renditions(tree: HtmlElement, url: str) -> tuple[tuple[str, str], ...]:
    """Other renditions the page names: its ``rel=amphtml``, and a ``rel=alternate`` for small
    screens (the separate mobile URL Google's guidelines ask for). Absolute URLs with their kind."""
    named: dict[str, str] = {}
    head = tree.find("head")
    for link in head.iterfind("link") if head is not None else ():
        rel = set((link.get("rel") or "").lower().split())
        href = (link.get("href") or "").strip()
        if not href:
            continue
        if "amphtml" in rel:
            kind = Rendition.AMP
        elif "alternate" in rel and "max-width" in (link.get("media") or "") and not link.get("hreflang"):
            kind = Rendition.MOBILE
        else:
            continue
        try:
            absolute = urljoin(url, href)
        except ValueError:
            continue
        if canonical_url_or_none(absolute) is None:  # no web address: a host with a space, a bad port
            continue
        if urlsplit(absolute).scheme in ("http", "https") and absolute != url:
            named.setdefault(absolute, kind)
            if len(named) == MAX_DECLARED:
                break  # a page naming thousands is hostile, not a story with that many copies
    return tuple(named.items())


def _from_markup(tree: HtmlElement, url: str) -> Rendition | None:
    if tree.get("amp") is not None or tree.get("\u26a1") is not None:
        return Rendition.AMP
    for meta in tree.iterfind(".//meta"):
        # A partner's copy names the original it was syndicated from (the original names itself).
        if (meta.get("name") or "").lower() in _SOURCE_NAMES:
            source = (meta.get("content") or "").strip()
            named = canonical_url_or_none(source) if source.startswith(("http://", "https://")) else None
            if named is not None and named != canonical_url(url):
                return Rendition.SYNDICATION
    body = tree.find("body")
    if body is not None and _PRINTS_ON_LOAD.search(body.get("onload") or ""):
        return Rendition.PRINT
    if _styled_for_print_on_screen(tree.iterfind(".//link")):
        return Rendition.PRINT
    return None


def _styled_for_print_on_screen(links: Iterable[HtmlElement]) -> bool:
    """A print stylesheet the screen gets too: a print copy (a story page has one for paper only)."""
    for link in links:
        if "stylesheet" not in (link.get("rel") or "").lower().split():
            continue
        stylesheet = urlsplit(link.get("href") or "").path.rsplit("/", 1)[-1].lower()
        media = {m.strip() for m in (link.get("media") or "").lower().split(",")}
        if "print" in stylesheet and media & _SCREEN_MEDIA:
            return True
    return False


def _from_url(url: str) -> Rendition | None:
    parts = urlsplit(url)
    labels = (parts.hostname or "").lower().split(".")
    if len(labels) > 2 and labels[0] in _HOST_KINDS:
        return _HOST_KINDS[labels[0]]
    path = parts.path.lower()
    for segment in path.split("/"):
        stem = segment.removesuffix(".html").removesuffix(".htm")
        if stem in _SEGMENT_KINDS:
            return _SEGMENT_KINDS[stem]
        if stem.endswith(".amp") or segment.endswith(".amp.html"):
            return Rendition.AMP
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        kind = _query_kind(name.lower(), value.lower())
        if kind is not None:
            return kind
    if _PAGE_PATH.search(path):
        return Rendition.PAGINATED
    return None


def _numbered_part(url: str) -> bool:
    """Whether only a page number in ``url`` makes it a part of a story."""
    parts = urlsplit(url)
    if _PAGE_PATH.search(parts.path.lower()):
        return True
    return any(
        name.lower() in _PAGE_PARAMETERS and value.isdigit()
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )


def _links_to_another_part(tree: HtmlElement, url: str) -> bool:
    """Whether the page links (``<a>`` or ``<link>``) to its story's URL or to another part of it."""
    story = canonical_url(story_url_of(url))
    own = canonical_url(url)
    for element in tree.iter("a", "link"):
        href = (element.get("href") or "").strip()
        if not href:
            continue
        try:
            target = canonical_url(urljoin(url, href))
        except ValueError:
            continue
        if target != own and canonical_url(story_url_of(target)) == story:
            return True
    return False


def _query_kind(name: str, value: str) -> Rendition | None:
    if name in _PARAMETER_KINDS and value not in _DISABLED_FALSE:
        return _PARAMETER_KINDS[name]
    if name in _VALUE_PARAMETERS and value in _VALUE_KINDS:
        return _VALUE_KINDS[value]
    if name in _PAGE_PARAMETERS and value.isdigit():
        return Rendition.PAGINATED
    return None


def renditions_to_store(extracted: Article, fetched_url: str, story_url: str) -> dict[str, Any]:
    """The stored article's story URL (``canonical_url``), what the fetched page is to that story,
    and the renditions it names on the same site, canonicalised.

    ``story_url`` is the canonical URL chosen from the page's declaration. A page whose declared
    canonical was not taken (another site's, a hub's) is the story's own URL; an AMP, print or
    view-all copy declaring none belongs to the URL it was made from (:func:`story_url_of`).
    """
    rendition = extracted.rendition
    if rendition == Rendition.OTHER and story_url == canonical_url(fetched_url):
        rendition = Rendition.CANONICAL
    if extracted.canonical_url is None and rendition in _TRIMMABLE:
        # A copy naming no canonical URL: its URL says where the story is.
        story_url = canonical_url(story_url_of(fetched_url))
    named = tuple(
        (canonical_url(url), kind)
        for url, kind in extracted.declared_renditions
        if same_registered_site(url, fetched_url) and canonical_url(url) != story_url
    )
    return {"canonical_url": story_url, "rendition": rendition, "declared_renditions": named}


# Copies whose URL is the story's with a marker added at its end or in its query.
_TRIMMABLE = frozenset({Rendition.AMP, Rendition.PRINT, Rendition.PAGINATED})
_TRAILING_MARKERS = frozenset(
    stem for stem, kind in _SEGMENT_KINDS.items() if kind in _TRIMMABLE
)


def story_url_of(url: str) -> str:
    """The story's URL a copy's URL was made from: ``/story/amp``, ``/story/print/``,
    ``/story.amp.html``, ``/story?print=1``, ``/story?view=all`` and ``/story/page/2`` all give
    ``/story``. Only markers at the end of the path or in the query are taken off (a leading
    ``/amp/`` or an ``amp.`` host may stand for a different path or host on the site)."""
    parts = urlsplit(url)
    path = parts.path
    if path.endswith(".amp.html"):
        path = path.removesuffix(".amp.html") + ".html"
    path = _PAGE_PATH.sub("", path)
    segments = path.rstrip("/").split("/")
    while len(segments) > 2 and segments[-1].lower().removesuffix(".html") in _TRAILING_MARKERS:
        segments.pop()
    path = "/".join(segments) or "/"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if _query_kind(name.lower(), value.lower()) not in _TRIMMABLE
    ]
    return parts._replace(path=path, query=urlencode(query), fragment="").geturl()
