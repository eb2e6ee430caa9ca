"""What a publisher says about the use of its pages, read from a capture: pure functions, no I/O.

Four families of signal, each from every place it can appear:

* **TDMRep** (W3C TDM Reservation Protocol, final report of 2024): ``/.well-known/tdmrep.json``
  for the site, the ``tdm-reservation`` / ``tdm-policy`` HTTP headers and ``<meta>`` tags of a page.
  The most specific place wins: the page's own ``<meta>``, then its headers, then the site file
  (headers override the well-known file; content metadata overrides both). A value that is not
  ``0`` or ``1`` is a protocol error, and the protocol treats it as unset.
* **Robots directives** for indexers and AI: ``X-Robots-Tag`` headers and ``<meta name="robots">``
  (noindex, noarchive, nosnippet, noai, noimageai); ``none`` means noindex and nofollow.
* **Content-Usage** (IETF aipref draft): the header value, kept as the publisher wrote it.
* **Paywall markup** (schema.org ``isAccessibleForFree`` and ``hasPart`` with ``cssSelector``),
  and whether the body served is cut short for the paywall.

Site-wide robots.txt rules for AI crawlers are read in :mod:`crawler.discovery.ai_agents`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.extraction.metadata.structured import json_ld_objects, meta_map

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = [
    "ROBOTS_DIRECTIVES",
    "PageSignals",
    "TdmDeclaration",
    "TdmRepFile",
    "header_signals",
    "html_signals",
    "parse_tdmrep_file",
    "resolve_tdm",
]

#: The directives kept from X-Robots-Tag and <meta name="robots">.
ROBOTS_DIRECTIVES = ("noindex", "noarchive", "nosnippet", "noai", "noimageai")
#: Headers a capture keeps for its signals (lower case), the rest of the response is not needed.
SIGNAL_HEADERS = ("tdm-reservation", "tdm-policy", "x-robots-tag", "content-usage")
#: A page marked not free with fewer words than this, and no marked section holding the rest,
#: is a body cut short for the paywall (a teaser); full stories run to hundreds of words.
TEASER_MAX_WORDS = 150
#: A tdmrep.json larger than this many rules is not a policy file (and is not read further).
MAX_TDMREP_RULES = 1_000


@dataclass(frozen=True, slots=True)
class TdmDeclaration:
    """A TDM reservation as found in one place: ``reserved`` None when unset (or malformed)."""

    reserved: bool | None
    policy: str | None
    #: Where it was found: ``meta``, ``header`` or ``well-known``.
    origin: str


@dataclass(frozen=True, slots=True)
class TdmRepFile:
    """A site's ``/.well-known/tdmrep.json``: its rules in order, or why it could not be read."""

    rules: tuple[tuple[str, bool | None, str | None], ...] = ()
    error: str | None = None

    def declaration_for(self, url: str) -> TdmDeclaration | None:
        """The first rule whose location matches the URL's path (and query), as the spec orders them."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for location, reserved, policy in self.rules:
            if _location_matches(location, path):
                return TdmDeclaration(reserved, policy, "well-known")
        return None

    def as_dict(self) -> dict[str, Any]:
        rules = [{"location": loc, "tdm-reservation": _bit(res), "tdm-policy": pol} for loc, res, pol in self.rules]
        return {"rules": rules, "error": self.error}


@dataclass(frozen=True, slots=True)
class PageSignals:
    """The signals of one capture. ``tdm`` is the declaration that applies after precedence."""

    tdm: TdmDeclaration | None = None
    #: Of :data:`ROBOTS_DIRECTIVES`, those the page or its headers state.
    robots: frozenset[str] = frozenset()
    content_usage: str | None = None
    #: schema.org ``isAccessibleForFree``: None when the page does not say.
    free: bool | None = None
    #: ``hasPart.cssSelector`` of the parts marked not free.
    paywalled_selectors: tuple[str, ...] = ()
    #: The body served stops where the paywall starts.
    truncated: bool = False

    @property
    def tdm_reserved(self) -> bool:
        return bool(self.tdm and self.tdm.reserved)

    def merged(self, other: PageSignals) -> PageSignals:
        """Signals of the page's HTML (self) joined with those of its headers (``other``)."""
        return replace(
            self,
            tdm=resolve_tdm(self.tdm, other.tdm),
            robots=self.robots | other.robots,
            content_usage=self.content_usage or other.content_usage,
        )


def _bit(reserved: bool | None) -> int | None:
    return None if reserved is None else int(reserved)


def _reservation(value: Any) -> bool | None:
    """``1`` reserved, ``0`` not; anything else is a protocol error, read as unset."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    return {"1": True, "0": False}.get(text) if text is not None else None


def _policy(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def _declaration(reservation: Any, policy: Any, origin: str) -> TdmDeclaration | None:
    if reservation is None and policy is None:
        return None
    reserved = _reservation(reservation)
    # A policy only qualifies a reservation: without tdm-reservation=1 it means nothing.
    return TdmDeclaration(reserved, _policy(policy) if reserved else None, origin)


def resolve_tdm(*declarations: TdmDeclaration | None) -> TdmDeclaration | None:
    """The declaration that applies: the first given that is set, most specific first.

    Call with (meta, header, well-known). A place whose value is malformed does not hide a
    less specific place that is well formed.
    """
    found = [declaration for declaration in declarations if declaration is not None]
    for declaration in found:
        if declaration.reserved is not None:
            return declaration
    return found[0] if found else None


def _location_matches(location: str, path: str) -> bool:
    """A tdmrep.json location: a path pattern with ``*`` for any characters and ``$`` for the end."""
    anchored = location.endswith("$")
    pattern = "".join(".*" if char == "*" else re.escape(char) for char in location.rstrip("$"))
    return re.match(pattern + ("$" if anchored else ""), path) is not None


def parse_tdmrep_file(body: bytes) -> TdmRepFile:
    """The rules of a tdmrep.json. A malformed file (or rule) is reported and read as no rule."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        return TdmRepFile(error=f"not JSON: {error}"[:200])
    if not isinstance(data, list):
        return TdmRepFile(error=f"not a JSON array but {type(data).__name__}")
    rules = []
    skipped = 0
    for entry in data[:MAX_TDMREP_RULES]:
        location = entry.get("location") if isinstance(entry, dict) else None
        if not isinstance(location, str) or not location.startswith(("/", "*")):
            skipped += 1
            continue
        reserved = _reservation(entry.get("tdm-reservation"))
        if reserved is None:
            skipped += 1
        rules.append((location, reserved, _policy(entry.get("tdm-policy")) if reserved else None))
    error = f"{skipped} malformed rules" if skipped else None
    return TdmRepFile(rules=tuple(rules), error=error)


def _directives(values: Iterable[str]) -> frozenset[str]:
    found: set[str] = set()
    for value in values:
        for part in value.split(","):
            words = part.strip().lower().split(":")
            # "googlebot: noindex" speaks to one crawler only; a bare directive to every one.
            if len(words) > 1 and words[0].strip() not in ("", "*", "robots"):
                continue
            word = words[-1].strip()
            if word == "none":
                found.add("noindex")
            elif word in ROBOTS_DIRECTIVES:
                found.add(word)
    return frozenset(found)


def header_signals(headers: Mapping[str, Iterable[str]]) -> PageSignals:
    """Signals of a response's headers (names lower case, each with its values in order)."""
    reservation = next(iter(headers.get("tdm-reservation", ())), None)
    policy = next(iter(headers.get("tdm-policy", ())), None)
    usage = [value.strip() for value in headers.get("content-usage", ()) if value.strip()]
    return PageSignals(
        tdm=_declaration(reservation, policy, "header"),
        robots=_directives(headers.get("x-robots-tag", ())),
        content_usage=", ".join(usage) or None,
    )


def html_signals(tree: HtmlElement, word_count: int | None = None) -> PageSignals:
    """Signals of a parsed page: TDMRep and robots <meta>, paywall markup, a teaser body.

    ``word_count``: the words of the body extracted, to tell a teaser from a full story.
    """
    meta = meta_map(tree)
    reservation = (meta.get("tdm-reservation") or [None])[0]
    policy = (meta.get("tdm-policy") or [None])[0]
    free, selectors = _paywall(json_ld_objects(tree))
    truncated = False
    if free is False and word_count is not None:
        marked_text = sum(len(_selected_text(tree, selector).split()) for selector in selectors)
        # The marked part is served (for search engines, or to us): the body is whole.
        truncated = word_count < TEASER_MAX_WORDS and marked_text < TEASER_MAX_WORDS
    return PageSignals(
        tdm=_declaration(reservation, policy, "meta"),
        robots=_directives(meta.get("robots", [])),
        free=free,
        paywalled_selectors=selectors,
        truncated=truncated,
    )


def _paywall(objects: list[dict[str, Any]]) -> tuple[bool | None, tuple[str, ...]]:
    free: bool | None = None
    selectors: list[str] = []
    for obj in objects:
        value = _free_value(obj.get("isAccessibleForFree"))
        if value is not None:
            free = value if free is None else free and value
        parts = obj.get("hasPart")
        for part in parts if isinstance(parts, list) else [parts]:
            if not isinstance(part, dict) or _free_value(part.get("isAccessibleForFree")) is not False:
                continue
            free = False
            selector = part.get("cssSelector")
            if isinstance(selector, str) and selector.strip():
                selectors.append(selector.strip())
    return free, tuple(dict.fromkeys(selectors))


def _free_value(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _selected_text(tree: HtmlElement, selector: str) -> str:
    """The text of the elements a ``cssSelector`` names (a selector lxml cannot read: none)."""
    try:
        elements = tree.cssselect(selector)
    except Exception:  # noqa: BLE001 - a publisher's selector is untrusted input; unreadable is no match
        return ""
    return " ".join(element.text_content() for element in elements)
