"""Author names from JSON-LD, meta tags and bylines, cleaned of prefixes, dates and site names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .structured import first_meta, json_ld_names, json_ld_types
from .text import MONTHS, clean_text, name_key

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["json_ld_authors", "split_authors", "twitter_byline"]

_BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:(?:written|posted|reported|words|story|text|reviewed|edited|compiled)\s+)?by\s*:?|author(?:ed by)?\s*:?|(?:\w+\s*)?:)\s+",
    re.IGNORECASE,
)
# Degrees and credentials after a name: "Jane Roe, Ph.D.", "John Doe, MD, FACLM".
_CREDENTIAL = re.compile(
    r"(?:[A-Z]{2,6}|[A-Z](?:\.[A-Z])+\.?|Ph\.?\s?D\.?|M\.?D\.?|Jr\.?|Sr\.?|[A-Z]-[A-Z]{2,4}(?:\s\d+)?|M\.?S\.?|B\.?S\.?|R\.?N\.?)"
)
_AUTHOR_SPLIT = re.compile(
    r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\|)\s*", re.IGNORECASE
)
_AUTHOR_NOISE = re.compile(
    r"(?:\b(?:updated|published|posted|am|pm|gmt|utc|edt|est|bst|cet|min read|minutes? ago|hours? ago)\b"
    r"|\d|@|https?:|www\.|\.com\b)",
    re.IGNORECASE,
)
# A Person's name in the publisher's own structured data may hold digits
# ("Reporter 7", "Team 11"): only timestamps and addresses rule it out there.
_STRUCTURED_AUTHOR_NOISE = re.compile(
    r"(?:\b(?:updated|published|posted|min read|minutes? ago|hours? ago)\b"
    r"|\d{1,2}:\d{2}|@|https?:|www\.|\.com\b)",
    re.IGNORECASE,
)
_TRAILING_DATE = re.compile(
    rf"\s*(?:[,|–—-]\s*)?(?:on\s+)?(?:{MONTHS}\s+\d|\d{{1,4}}[./-]\d).*$",
    re.IGNORECASE,
)


def split_authors(
    values: Iterable[str],
    *,
    exclude: Iterable[str | None] = (),
    hosts: Iterable[str] = (),
    structured: bool = False,
) -> tuple[str, ...]:
    """Clean person names: no "By", no dates or handles, "A and B" split, site names dropped.

    ``exclude`` holds site names; ``hosts`` host-derived keys, which only rule out
    one-word names ("Acme" on acme.com) since a personal site is often named
    after its author ("Jane Roe" on janeroe.com). ``structured`` says the values
    are Person names from the publisher's JSON-LD: a digit does not disqualify them.
    """
    excluded = {name_key(x) for x in exclude if x}
    host_keys = {name_key(h) for h in hosts if h}
    names: dict[str, str] = {}
    for value in values:
        value = clean_text(value)
        if not value:
            continue
        value = _BYLINE_PREFIX.sub("", value)
        value = _TRAILING_DATE.sub("", value) if not value[:1].isdigit() else ""
        for part in _AUTHOR_SPLIT.split(value):
            name = _clean_author(part, structured=structured)
            if not name:
                continue
            key = name_key(name)
            if (
                key in excluded
                or key in names
                or (key in host_keys and len(name.split()) == 1)
            ):
                continue
            names[key] = name
    return tuple(names.values())


def _clean_author(part: str, *, structured: bool = False) -> str | None:
    name = _BYLINE_PREFIX.sub("", part).strip(" \t-–—|:,.;·•\"'“”‘’()[]")
    noise = _STRUCTURED_AUTHOR_NOISE if structured else _AUTHOR_NOISE
    if not name or noise.search(name) or _is_credential(name):
        return None
    words = name.split()
    if len(words) > 5 or len(name) > 60 or not any(ch.isalpha() for ch in name):
        return None
    if name.lower() in {
        "staff",
        "admin",
        "editor",
        "editors",
        "unknown",
        "author",
        "the author",
        "by",
        "and",
        "guest",
    }:
        return None
    if name.isupper() or name.islower():
        name = name.title() if len(words) > 1 or len(name) > 3 else name
    return name


def _is_credential(part: str) -> bool:
    """ "MD", "Ph.D.", "M.D. FACLM" — but not a name in capitals like "ANNA BERG"."""
    words = part.split()
    if len(words) == 1:
        return bool(_CREDENTIAL.fullmatch(part))
    return all(_CREDENTIAL.fullmatch(word) for word in words) and any(
        "." in word or "-" in word for word in words
    )


def twitter_byline(meta: dict[str, list[str]]) -> list[str]:
    """Twitter card label/value pairs: ``twitter:label1 = "Written by"``, ``twitter:data1 = name``."""
    for index in "12345":
        label = first_meta(meta, f"twitter:label{index}") or ""
        if label.strip().casefold() in {"written by", "author", "by"}:
            value = first_meta(meta, f"twitter:data{index}")
            return [value] if value else []
    return []


def json_ld_authors(
    value: Any, site_names: list[str], host_keys: set[str]
) -> tuple[str, ...]:
    """Authors named in JSON-LD: a string, a dict with ``name``, or a list of them.

    A Person is taken at its word: a personal site is named after its author,
    and a name with a digit ("Reporter 7") is still a name. Anything else
    (an Organization, a bare string) must not be the site itself.
    """
    items = value if isinstance(value, list) else [value]
    names: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and "person" in json_ld_types(item):
            found = split_authors(json_ld_names(item), structured=True)
        else:
            found = split_authors(json_ld_names(item), exclude=site_names, hosts=host_keys)
        for name in found:
            names.setdefault(name_key(name), name)
    return tuple(names.values())
