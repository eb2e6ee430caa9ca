"""Article metadata from a parsed page: JSON-LD first, then meta tags, then trafilatura's guesses.

Every function here is pure over an lxml tree (plus the page URL); nothing is site-specific.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from trafilatura import metadata as trafilatura_metadata

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

__all__ = [
    "PageMetadata",
    "choose_title",
    "clean_title",
    "parse_date",
    "read_metadata",
    "split_authors",
]

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "askpublicnewsarticle",
        "liveblogposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "posting",
        "socialmediaposting",
        "discussionforumposting",
        "medicalwebpage",
        "review",
    }
)
_VIDEO_TYPES = frozenset({"videoobject", "clip", "episode", "movie", "tvepisode"})

# " | Site", " - Site", " — Site", ": Site" ... between a headline and a site name.
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—·•»«:~/]|::)\s+")
# "Site: Headline": a colon-ended label before the headline, itself without a colon or pipe.
_LEADING_LABEL = re.compile(r"(?P<label>[^:|]{2,40}?):\s+(?=\S)")
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)"
)
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
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_TRAILING_DATE = re.compile(
    rf"\s*(?:[,|–—-]\s*)?(?:on\s+)?(?:{_MONTHS}\s+\d|\d{{1,4}}[./-]\d).*$",
    re.IGNORECASE,
)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


@dataclass(slots=True)
class PageMetadata:
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    description: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    is_article_typed: bool = False
    is_video_typed: bool = False
    json_ld_body: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def clean_text(value: Any) -> str | None:
    """One line of metadata text: NFC, no zero-width characters, single spaces."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if "&" in value and ";" in value:
        import html

        value = html.unescape(value)
    value = unicodedata.normalize("NFC", value).translate(_ZERO_WIDTH)
    value = " ".join(value.split())
    return value or None


# --------------------------------------------------------------------------- JSON-LD


def _json_ld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        data = _loads_lenient(raw)
        if data is not None:
            objects.extend(_flatten_json_ld(data))
    return objects


def _loads_lenient(raw: str) -> Any:
    if raw.startswith("<!--"):
        raw = raw.removeprefix("<!--").removesuffix("-->").strip()
    try:
        return json.loads(raw, strict=False)
    except ValueError:
        pass
    # Trailing commas and a stray ";" are the usual hand-written mistakes.
    repaired = re.sub(r",\s*([}\]])", r"\1", raw.rstrip(";").strip())
    try:
        return json.loads(repaired, strict=False)
    except ValueError:
        logger.debug("unparseable JSON-LD block of %d chars", len(raw))
        return None


def _flatten_json_ld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten_json_ld(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _flatten_json_ld(graph, depth + 1)
        main = data.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _flatten_json_ld(main, depth + 1)


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    if isinstance(value, str):
        return {value.lower()}
    if isinstance(value, list):
        return {v.lower() for v in value if isinstance(v, str)}
    return set()


def _names(value: Any) -> list[str]:
    """Names of JSON-LD persons/organisations given as a string, dict, or list of them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str):
            return [name]
        if isinstance(name, list):
            return [n for n in name if isinstance(n, str)]
        given, family = value.get("givenName"), value.get("familyName")
        if isinstance(given, str) and isinstance(family, str):
            return [f"{given} {family}"]
    return []


def _resolve(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    """Replace ``{"@id": ...}`` references (a Yoast-style @graph) with the objects they name."""
    if isinstance(value, list):
        return [_resolve(item, by_id) for item in value]
    if isinstance(value, dict) and "@type" not in value:
        target = by_id.get(value.get("@id"))  # type: ignore[arg-type]
        if target is not None:
            return {**target, **value}
    return value


def _first_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in value:
            url = _first_url(item)
            if url:
                return url
    if isinstance(value, dict):
        return _first_url(
            value.get("url") or value.get("contentUrl") or value.get("@id")
        )
    return None


def _first_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item.strip():
                return item
    return None


# --------------------------------------------------------------------------- meta tags


def _meta_map(tree: HtmlElement) -> dict[str, list[str]]:
    """All <meta> values keyed by lowercased property/name/itemprop/http-equiv."""
    found: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        content = meta.get("content")
        if content is None:
            continue
        content = content.strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _meta(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = meta.get(key)
        if values:
            return values[0]
    return None


# Meta tags naming when a page was last modified, in trust order.
_MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "article:modified",
    "datemodified",
    "modified_time",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
)


def _meta_values(meta: dict[str, list[str]], *keys: str) -> list[str]:
    """Every value of ``keys``, in key order: a later one stands in when an earlier is unreadable."""
    return [value for key in keys for value in meta.get(key, ())]


# --------------------------------------------------------------------------- dates


def parse_date(
    value: Any, *, now: datetime | None = None, written: bool = True
) -> datetime | None:
    """An aware UTC datetime from a metadata date; None when unparseable or in the future.

    ISO 8601 and RFC 2822, and unless ``written`` is False the dates CMSs write
    for people ("Feb 08, 2022", "Thu, 09/25/2025 - 11:38"), which meta tags and
    JSON-LD carry too. Text with no offset is read as UTC, which keeps a
    date-only value on its stated day.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\"'").strip()
    if not text:
        return None
    now = now or datetime.now(UTC)
    parsed = _parse_iso(text)
    # RFC 2822 has no am/pm: its lenient parser reads "9:06 pm" as 09:06.
    if parsed is None and not _MERIDIEM.search(text):
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None and written:
        parsed = _parse_written_date(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed > now + timedelta(days=1) or parsed.year < 1990:
        return None
    return parsed


_ISO_LOOSE = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?)?"
)


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(
            text.replace("Z", "+00:00") if text.endswith("Z") else text
        )
    except ValueError:
        pass
    match = _ISO_LOOSE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return parsed.replace(tzinfo=timezone(sign * offset))
    return parsed.replace(tzinfo=UTC)


_MERIDIEM = re.compile(r"\d\s*[ap]\.?m\b", re.IGNORECASE)
_WRITTEN_DATE_SETTINGS = {
    "PARSERS": ["absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
}


def _parse_written_date(text: str) -> datetime | None:
    """A date written for readers ("Feb 08, 2022", "Thu, 09/25/2025 - 11:38"), read by dateparser.

    Month names are English. A numeric date readable both ways ("03-09-2026") is
    left to a later source rather than guessed: it is read day-first and
    month-first, and the two readings must agree.
    """
    import dateparser  # loaded on first use, like htmldate loads it: importing it takes a while

    readings = {
        dateparser.parse(text, languages=["en"], settings={**_WRITTEN_DATE_SETTINGS, "DATE_ORDER": order})
        for order in ("DMY", "MDY")
    }
    return readings.pop() if len(readings) == 1 else None


def _htmldate(tree: HtmlElement, url: str) -> str | None:
    """htmldate's guess from the page's text and markup (it works on its own copy of the tree)."""
    try:
        return find_date(
            tree, extensive_search=True, original_date=True, url=url or None
        )
    except Exception as error:  # noqa: BLE001 — an htmldate bug must not lose the article
        logger.debug("htmldate failed on %s: %r", url, error)
        return None


def _first_time_element(tree: HtmlElement, now: datetime) -> datetime | None:
    """The first ``<time datetime>`` holding a machine-readable date, of a kind the page has once.

    The attribute is markup for machines, as a meta tag is, and a page shows its
    own date before related articles and comments; htmldate, going by class
    names, may pick a sidebar's "date" instead. A class several ``<time>``
    elements share marks repeated items (teaser cards, comments), not the page's date.
    """
    elements = [element for element in tree.iter("time") if element.get("datetime")]
    classes = Counter((element.get("class") or "").strip() for element in elements)
    for element in elements:
        kind = (element.get("class") or "").strip()
        if kind and classes[kind] > 1:
            continue
        found = parse_date(element.get("datetime"), now=now, written=False)
        if found is not None:
            return found
    return None


def _htmldate_published(
    tree: HtmlElement, url: str, modified_values: list[Any], now: datetime
) -> datetime | None:
    """htmldate's publication date, not the modification date it falls back on.

    Asked for the original date, htmldate still answers with a modified-time
    meta tag when the head names no publication date, before reading the page.
    When its answer is a day the page's modified dates state, it is asked again
    without those tags: an earlier date then found is the publication; else the
    modified day stays, the only date the page gives.
    """
    guess = _htmldate_day(tree, url, now)
    if guess is None or guess.date() not in _stated_days(modified_values):
        return guess
    earlier = _htmldate_day(_without_modified_tags(tree), url, now)
    return earlier if earlier is not None and earlier < guess else guess


def _htmldate_day(tree: HtmlElement, url: str, now: datetime) -> datetime | None:
    """htmldate's date, unless January 1st: its answer when all it found was a year (a © line)."""
    found = parse_date(_htmldate(tree, url), now=now)
    if found is None or (found.month, found.day) == (1, 1):
        return None
    return found


def _stated_days(values: list[Any]) -> set[date]:
    """The calendar days ISO ``values`` name in their own offsets, as htmldate reads them."""
    days = set()
    for value in values:
        parsed = _parse_iso(value.strip()) if isinstance(value, str) else None
        if parsed is not None:
            days.add(parsed.date())
    return days


def _without_modified_tags(tree: HtmlElement) -> HtmlElement:
    """A copy of the page without its modified-time meta tags."""
    copy = deepcopy(tree)
    for meta in list(copy.iterfind(".//meta")):
        keys = {
            (meta.get(attribute) or "").strip().lower()
            for attribute in ("property", "name", "itemprop", "http-equiv")
        }
        if keys.intersection(_MODIFIED_META_KEYS):
            meta.drop_tree()
    return copy


def _first_date(
    values: Iterable[Any], now: datetime, *, written: bool = True
) -> datetime | None:
    """The first of ``values``, in trust order, that :func:`parse_date` reads."""
    return next(
        (d for d in (parse_date(v, now=now, written=written) for v in values) if d),
        None,
    )


def date_from_url(url: str) -> datetime | None:
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    return parse_date("-".join(match.groups()))


# --------------------------------------------------------------------------- authors


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
    excluded = {_key(x) for x in exclude if x}
    host_keys = {_key(h) for h in hosts if h}
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
            key = _key(name)
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


def _key(value: str) -> str:
    return re.sub(r"\W+", "", value.casefold())


# --------------------------------------------------------------------------- titles


def clean_title(
    raw: str | None,
    *,
    site_names: Iterable[str | None],
    headlines: Iterable[str | None],
    host: str,
    masthead_names: Callable[[], Iterable[str]] | None = None,
    visible_headlines: Iterable[str] = (),
) -> str | None:
    """Strip a site-name suffix (or prefix) from a <title>-like string.

    A part is removed when it matches a known site name or the host, or when a
    headline seen elsewhere on the page (h1, og:title, JSON-LD) is what remains.
    ``masthead_names`` gives the logo texts, weaker witnesses (only an exact
    match counts), looked up only when nothing else settles the title.
    ``visible_headlines`` (h1s) equal to a prefix also show where the headline
    ends, except before a colon: "Index funds" is a label in "Index Funds: How to Invest".
    A site name written as a label ("Town Gazette: Pool stays open") goes too.
    """
    title = clean_text(raw)
    if not title:
        return None
    sites = {_key(s) for s in site_names if s} | _host_keys(host)
    sites.discard("")
    # Exactly the site: "Teaching Online:" on teaching.example is a topic, not the site.
    label = _LEADING_LABEL.match(title)
    if label and _key(label.group("label")) in sites:
        title = title[label.end() :]
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    # A declared site name at either end settles it, even when another tag
    # repeats the whole title (og:title is often the <title> verbatim).
    if _key(parts[-1]) in sites:
        return _join_parts(title, len(parts) - 1)
    if _key(parts[0]) in sites:
        return _tail_parts(title, len(parts) - 1)
    heads = {_key(h) for h in headlines if h}
    if _key(title) in heads:
        return title
    visible = {_key(h) for h in visible_headlines if h}
    separators = list(_TITLE_SEPARATORS.finditer(title))
    for count in range(len(parts) - 1, 0, -1):
        head = _join_parts(title, count)
        if _key(head) in heads or (
            _key(head) in visible and separators[count - 1].group().strip() != ":"
        ):
            return head
    logos: set[str] | None = None

    def is_site(part: str) -> bool:
        nonlocal logos
        if _is_site(part, sites):
            return True
        if logos is None:
            logos = {_key(s) for s in (masthead_names() if masthead_names else ())}
            logos.discard("")
        return _key(part) in logos

    # Suffix: "Headline | Section | Site".
    kept = list(parts)
    while len(kept) > 1 and is_site(kept[-1]):
        kept.pop()
    if len(kept) < len(parts):
        return _join_parts(title, len(kept))
    # Prefix: "Site | Headline".
    if is_site(parts[0]):
        return _tail_parts(title, len(parts) - 1)
    return title


def _join_parts(title: str, count: int) -> str:
    """The first ``count`` separator-delimited parts of ``title``, original separators kept."""
    separators = list(_TITLE_SEPARATORS.finditer(title))
    return title[: separators[count - 1].start()].strip()


def _tail_parts(title: str, count: int) -> str:
    separators = list(_TITLE_SEPARATORS.finditer(title))
    return title[separators[len(separators) - count].end() :].strip()


def _is_site(part: str, sites: set[str]) -> bool:
    key = _key(part)
    if not key:
        return False
    if key in sites:
        return True
    # "Site" vs "Sitecom", "Site Blog", "Site Online": a site name with a short tail.
    return any(
        len(site) >= 4
        and (
            (key.startswith(site) and len(key) - len(site) <= 8)
            or (site.startswith(key) and len(key) >= 6)
        )
        for site in sites
    )


_GENERIC_SUBDOMAINS = frozenset(
    {
        "www",
        "m",
        "amp",
        "news",
        "blog",
        "blogs",
        "edition",
        "en",
        "mobile",
        "web",
        "home",
    }
)


def _host_keys(host: str) -> set[str]:
    host = host.lower().split(":")[0]
    host = host.removeprefix("www.")
    labels = [label for label in host.split(".") if label]
    while len(labels) > 2 and labels[0] in _GENERIC_SUBDOMAINS:
        labels = labels[1:]
    keys = {_key(host)}
    if labels:
        keys.add(_key(labels[0]))
        if len(labels) >= 2:
            keys.add(_key(labels[-2]))
    return {k for k in keys if len(k) >= 3}


# --------------------------------------------------------------------------- the whole record


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Gather metadata in trust order: JSON-LD > meta tags > trafilatura/htmldate > URL.

    trafilatura's and htmldate's own readers are fallbacks, run only when the
    page's structured data leaves a field empty: htmldate alone costs about as
    much as extracting the text.
    """
    meta = _meta_map(tree)
    objects = _json_ld_objects(tree)
    article = next((o for o in objects if _types(o) & ARTICLE_TYPES), None)
    web_page = next((o for o in objects if _types(o) & {"webpage", "itempage"}), None)
    ld = article or {}
    result = PageMetadata()
    result.is_article_typed = (
        article is not None or (_meta(meta, "og:type") or "").lower() == "article"
    )
    result.is_video_typed = any(_types(o) & _VIDEO_TYPES for o in objects) or (
        (_meta(meta, "og:type") or "").lower().startswith("video")
    )
    base = url

    # Site name: needed to clean titles and authors.
    by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}
    publisher = _resolve(ld.get("publisher"), by_id)
    # A personal site's publisher is its author, a Person: not a site name to strip.
    publisher_names = [
        name
        for item in (publisher if isinstance(publisher, list) else [publisher])
        if not (isinstance(item, dict) and "person" in _types(item))
        for name in _names(item)
    ]
    website = next(
        (
            o
            for o in objects
            if "website" in _types(o)
            or "organization" in _types(o)
            or "newsmediaorganization" in _types(o)
        ),
        None,
    )
    site_names = [
        _meta(meta, "og:site_name"),
        *publisher_names,
        *(_names(website) if website else []),
        _meta(meta, "application-name", "apple-mobile-web-app-title", "twitter:site"),
        # Not trafilatura's sitename: it falls back to the page title.
    ]
    site_names = [clean_text(s.lstrip("@")) for s in site_names if s]
    result.site_name = next((s for s in site_names if s), None)
    host = urlsplit(url).hostname or ""

    # Title. The masthead's logo names the site on pages that declare no site name.
    title_tag = tree.find(".//title")
    metadata_titles = [
        clean_text(_first_str(ld.get("headline")) or _first_str(ld.get("name"))),
        clean_text(_meta(meta, "og:title")),
        clean_text(_meta(meta, "twitter:title")),
        clean_text(title_tag.text_content()) if title_tag is not None else None,
    ]
    # trafilatura's guess (often the h1 itself): only for a page with no title of its own.
    metadata_titles.append(
        None
        if any(metadata_titles)
        else clean_text(trafilatura_metadata.extract_title(tree))
    )
    result.title = choose_title(
        h1_texts=[clean_text(_text_with_breaks(h)) for h in tree.iterfind(".//h1")][:5],
        metadata_titles=metadata_titles,
        site_names=site_names,
        host=host,
        masthead_names=functools.cache(lambda: _masthead_names(tree)),
    )

    # Dates: JSON-LD > meta > <time datetime> > htmldate > URL.
    now = datetime.now(UTC)
    modified_values = [
        ld.get("dateModified"),
        *_meta_values(meta, *_MODIFIED_META_KEYS),
        (web_page or {}).get("dateModified"),
    ]
    result.modified_at = _first_date(
        modified_values, now, written=False
    ) or _first_date(modified_values, now)
    published_values = [
        ld.get("datePublished"),
        ld.get("dateCreated"),
        *_meta_values(
            meta,
            "article:published_time",
            "og:article:published_time",
            "article:published",
            "datepublished",
            "published_time",
            "publishdate",
            "publish-date",
            "pubdate",
            "parsely-pub-date",
            "sailthru.date",
            "dc.date.issued",
            "dcterms.issued",
            "dc.date",
            "dcterms.date",
            "date",
            "citation_publication_date",
            "og:published_time",
            "article.published",
            "cxenseparse:recs:publishtime",
        ),
        (web_page or {}).get("datePublished"),
    ]
    # schema.org and Open Graph dates are ISO 8601: one written for readers
    # ("Jun 24, 2025") comes from a template printing a display field, often the
    # last re-publication, so htmldate's reading of the page goes first.
    result.published_at = (
        _first_date(published_values, now, written=False)
        or _first_time_element(tree, now)
        or _htmldate_published(tree, url, modified_values, now)
        or _first_date(published_values, now)
        or date_from_url(url)
    )
    if (
        result.modified_at
        and result.published_at
        and result.modified_at < result.published_at
    ):
        result.modified_at = None

    # Authors.
    ld_authors = ld.get("author") or ld.get("creator")
    result.authors = _json_ld_authors(
        _resolve(ld_authors, by_id), site_names, _host_keys(host)
    )
    if not result.authors:
        raw_authors = [
            v
            for key in (
                "author",
                "article:author",
                "dc.creator",
                "parsely-author",
                "sailthru.author",
                "byl",
            )
            for v in meta.get(key, [])
            if not v.startswith("http")
        ]
        if not raw_authors:
            raw_authors = _twitter_byline(meta)
        if not raw_authors:
            raw_authors = (trafilatura_metadata.extract_author(tree) or "").split(";")
        result.authors = split_authors(
            raw_authors, exclude=site_names, hosts=_host_keys(host)
        )

    # Language.
    result.language = _language(tree, meta, ld)

    result.description = clean_text(
        _meta(
            meta,
            "og:description",
            "description",
            "twitter:description",
            "dc.description",
        )
        or _first_str(ld.get("description"))
    )
    section = _first_str(ld.get("articleSection")) or _meta(
        meta, "article:section", "section", "parsely-section"
    )
    result.section = clean_text(section)
    result.tags = _tags(meta, ld)

    image = _first_url(ld.get("image")) or _meta(
        meta,
        "og:image",
        "og:image:url",
        "og:image:secure_url",
        "twitter:image",
        "twitter:image:src",
    )
    result.image_url = _absolute(base, image)

    canonical = None
    for link in tree.iterfind(".//link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href")
            break
    main_entity = ld.get("mainEntityOfPage")
    if isinstance(main_entity, dict):
        main_entity = main_entity.get("@id") or main_entity.get("url")
    ld_url = (
        main_entity
        if isinstance(main_entity, str) and main_entity.startswith("http")
        else None
    )
    result.canonical_url = _absolute(base, canonical or _meta(meta, "og:url") or ld_url)

    body = ld.get("articleBody")
    if isinstance(body, str) and body.strip():
        result.json_ld_body = body
    return result


def _text_with_breaks(element: HtmlElement) -> str:
    """An element's text with each <br> read as a space: "Head<br>Subhead" is not "HeadSubhead"."""
    return "".join(
        node if isinstance(node, str) else " "
        for node in element.xpath(".//text() | .//br")
    )


# Where pages put the site's own name: the logo, the masthead, the home link.
_MASTHEAD_XPATH = (
    ".//*[contains(@class, 'logo') or contains(@id, 'logo') or contains(@class, 'Logo')"
    " or contains(@class, 'masthead') or contains(@id, 'masthead') or contains(@class, 'brand')"
    " or contains(@class, 'site-title') or contains(@class, 'site-name') or @rel = 'home']"
)
_MASTHEAD_MAX_WORDS = 6


def _masthead_names(tree: HtmlElement) -> list[str]:
    """Short texts and image alts of logo/masthead elements: the site's name as the page shows it."""
    names: list[str] = []
    for element in tree.xpath(_MASTHEAD_XPATH)[:8]:
        texts = [element.text_content()]
        texts.extend(img.get("alt") or "" for img in element.iter("img"))
        for text in texts:
            text = clean_text(text)
            if text and len(text.split()) <= _MASTHEAD_MAX_WORDS:
                names.append(text)
    return names


def _twitter_byline(meta: dict[str, list[str]]) -> list[str]:
    """Twitter card label/value pairs: ``twitter:label1 = "Written by"``, ``twitter:data1 = name``."""
    for index in "12345":
        label = _meta(meta, f"twitter:label{index}") or ""
        if label.strip().casefold() in {"written by", "author", "by"}:
            value = _meta(meta, f"twitter:data{index}")
            return [value] if value else []
    return []


def _json_ld_authors(
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
        if isinstance(item, dict) and "person" in _types(item):
            found = split_authors(_names(item), structured=True)
        else:
            found = split_authors(_names(item), exclude=site_names, hosts=host_keys)
        for name in found:
            names.setdefault(_key(name), name)
    return tuple(names.values())


def choose_title(
    *,
    h1_texts: list[str | None],
    metadata_titles: list[str | None],
    site_names: list[str | None],
    host: str,
    masthead_names: Callable[[], Iterable[str]] | None = None,
) -> str | None:
    """The visible headline when the page's metadata agrees with it, else the cleaned metadata title.

    ``metadata_titles`` is in trust order and ends with trafilatura's guess.

    The h1 is what readers see and carries no site suffix, but pages also use
    h1 for logos and section names; metadata titles (JSON-LD headline,
    og:title, <title>) are reliable about *what* the headline is but often
    carry a " | Site" suffix or an SEO rewrite.
    """
    site_names = _drop_page_titles(site_names, metadata_titles)
    sites = {_key(s) for s in site_names if s} | _host_keys(host)
    sites.discard("")
    # Some CMSs put the site suffix in the h1 too ("Headline – Site"); a repeated
    # h1 (mobile and desktop layouts) is one witness.
    h1s = list(
        dict.fromkeys(
            clean_title(h, site_names=site_names, headlines=(), host=host) or h
            for h in h1_texts
            if h and len(h.split()) <= 40 and not _is_site(h, sites)
        )
    )
    metadata = [m for m in metadata_titles if m]
    # The last metadata title is trafilatura's, itself cut from <title>: not an
    # independent witness of where the headline ends.
    witnesses = metadata_titles[:-1]
    cleaned = [
        clean_title(
            m,
            site_names=site_names,
            headlines=[o for o in witnesses if o and o is not m],
            visible_headlines=[h for h in h1s if _key(h) != _key(m)],
            host=host,
            masthead_names=masthead_names,
        )
        for m in metadata
    ]
    cleaned = _uncut([c for c in cleaned if c and not _is_site(c, sites)])
    # A blog theme's masthead h1 ("example.com") names the site, unseparated,
    # in a <title> such as "example.com Headline".
    masthead_h1s = [h for h in h1_texts if h and _is_site(h, sites)]
    cleaned = [_without_site_name(c, masthead_h1s) for c in cleaned]

    return _ascii_fullwidth(_strip_pipe_suffix(_pick_title(h1s, cleaned)))


def _without_site_name(title: str, site_names: list[str]) -> str:
    """``title`` without a site name at its start or end that no separator sets apart."""
    folded = title.casefold()
    for name in site_names:
        name = name.casefold()
        if len(folded) <= len(name) + 1:
            continue
        if folded.startswith(name + " "):
            return title[len(name) + 1 :]
        if folded.endswith(" " + name):
            return title[: -len(name) - 1]
    return title


def _drop_page_titles(
    site_names: list[str | None], metadata_titles: list[str | None]
) -> list[str | None]:
    """Site names but the page's own "Headline | Site" title, which some CMSs copy into og:site_name."""
    titles = {_key(t) for t in metadata_titles if t and _TITLE_SEPARATORS.search(t)}
    return [s for s in site_names if s and _key(s) not in titles]


# Fullwidth "？", "！", "：" (U+FF01-FF5E) and the ASCII they stand for.
_FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _ascii_fullwidth(title: str | None) -> str | None:
    """ "Headline？" typed with a CJK input method reads as "Headline?"; CJK titles keep their forms."""
    if not title or _CJK.search(title):
        return title
    return title.translate(_FULLWIDTH_TO_ASCII)


_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)$")
_SEPARATOR_START = re.compile(r"^\s+(?:[|\-–—·•»«:~/]|::)\s")


def _uncut(titles: list[str]) -> list[str]:
    """Replace a title cut short by a length limit ("… (Including", "Headline...")
    with the longer title from another tag that continues it, unless what
    follows is a separator (then the longer one carries a suffix)."""
    result = []
    for title in titles:
        stem = _ELLIPSIS.sub("", title)
        longer = next(
            (
                other
                for other in titles
                if other != title
                and len(other) > len(stem)
                and other.startswith(stem)
                and not _SEPARATOR_START.match(other[len(stem) :])
                and len(stem.split()) >= 3
            ),
            None,
        )
        result.append(longer or title)
    return result


def _pick_title(h1s: list[str], cleaned: list[str]) -> str | None:
    best, best_overlap = None, 0.0
    for h1 in h1s:
        overlap = max((_agreement(h1, c) for c in cleaned), default=0.0)
        if overlap > best_overlap:
            best, best_overlap = h1, overlap
    if best is not None and best_overlap >= 0.6:
        best_key = _key(best)
        if best.isupper():
            # An h1 typed in capitals is styled as a label: the metadata spelling reads better.
            return next((c for c in cleaned if not c.isupper()), best)
        if any(_key(c) == best_key for c in cleaned):
            return best  # what readers see, word for word in the metadata
        for candidate in cleaned:
            if _is_damaged_copy(best, candidate) or _is_padded_copy(best, candidate):
                return candidate
        return best
    if len(h1s) == 1 and len(h1s[0].split()) >= 3 and not h1s[0].isupper():
        return h1s[0]
    return cleaned[0] if cleaned else (h1s[0] if h1s else None)


def _is_padded_copy(h1: str, candidate: str) -> bool:
    """Whether the h1 is the metadata headline with a dateline, byline or label glued on.

    "Headline Posted on May 1 by x", "Headline (example.com) 87", "Blog: Headline",
    "Dec 18 2025 Headline": the metadata title inside is the clean version. Text
    before it counts only as a label (it ends in ":" or a separator) or a date, as
    "The" or "2025" in front is part of the headline. A metadata title that is only
    the h1's beginning is more often cut short (length limits, "... and k") than
    the h1 is padded, so what follows it must be a dateline, byline or source.
    """
    h1_key, candidate_key = _key(h1), _key(candidate)
    if (
        len(candidate_key) >= len(h1_key)
        or candidate_key not in h1_key
        or len(candidate.split()) < 3
    ):
        return False
    if h1_key.startswith(candidate_key):
        return bool(_GLUED_TAIL.search(h1[len(candidate) :]))
    start = h1.casefold().find(candidate.casefold())
    return start > 0 and bool(_LABEL_BEFORE_HEADLINE.search(h1[:start]))


# What a CMS glues after a headline inside its h1: a dateline, a byline, or the
# source's domain in parentheses as link aggregators show it.
_GLUED_TAIL = re.compile(
    rf"^\W*(?:(?:posted|published|updated|written)\b|by\s|on\s+{_MONTHS}|{_MONTHS}\s+\d"
    rf"|\d{{1,2}}\s+{_MONTHS}|(?:19|20)\d\d\b|\d{{1,2}}[./]\d{{1,2}}[./]\d"
    r"|(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\s*\))",
    re.IGNORECASE,
)
# What goes before a headline inside its h1: a label ending in a separator, or a date.
_LABEL_BEFORE_HEADLINE = re.compile(
    rf"(?:[:|–—·•»-]\s*$"
    rf"|^\W*(?:{_MONTHS}\s+\d{{1,2}}\b|\d{{1,2}}\s+{_MONTHS}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d))",
    re.IGNORECASE,
)
_LOST_CHARACTER = frozenset("?\ufffd")


def _is_damaged_copy(h1: str, candidate: str) -> bool:
    """Whether the h1 is the candidate with characters lost to "?" or U+FFFD.

    A page saved through a narrower charset shows "Planning? Beginner? Guide"
    where its metadata still says "Planning: Beginner's Guide".
    """
    if h1 == candidate or not _LOST_CHARACTER.intersection(h1):
        return False
    pattern = "".join(
        r"\S{1,3}" if char in _LOST_CHARACTER else re.escape(char) for char in h1
    )
    return re.fullmatch(pattern, candidate) is not None


# "Headline | Section", "Headline • Site": a pipe or bullet almost never belongs to a headline.
_PIPE_SUFFIX = re.compile(r"\s+[|•·»]\s+(?P<tail>[^|•·»]{1,40})$")


def _strip_pipe_suffix(title: str | None) -> str | None:
    while title:
        match = _PIPE_SUFFIX.search(title)
        if (
            not match
            or len(match.group("tail").split()) > 4
            or len(title[: match.start()].split()) < 3
        ):
            break
        title = title[: match.start()].rstrip()
    return title


_TITLE_WORD = re.compile(r"\w+")


def _overlap(a: str, b: str) -> float:
    """Overlap coefficient of the two titles' word sets."""
    left = set(_TITLE_WORD.findall(a.casefold()))
    right = set(_TITLE_WORD.findall(b.casefold()))
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


def _content_words(text: str) -> set[str]:
    """Words of three letters or more ("to", "in", "of" agree by chance), and numbers."""
    return {
        w for w in _TITLE_WORD.findall(text.casefold()) if len(w) >= 3 or w.isdigit()
    }


def _agreement(h1: str, title: str) -> float:
    """How well an h1 and a metadata title tell the same headline.

    Their overlap coefficient (so a dateline glued to either side does not
    count against it), unless the h1 covers less than half of the title: a
    section label ("Index funds") inside a longer headline ("Index Funds: How
    to Invest") is not the headline.
    """
    left = _content_words(h1)
    right = _content_words(title)
    if not left or not right:
        return 0.0
    shared = len(left & right)
    if shared <= 0.5 * len(right):
        return 0.0
    return shared / min(len(left), len(right))


def _language(
    tree: HtmlElement, meta: dict[str, list[str]], ld: dict[str, Any]
) -> str | None:
    values = [
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        tree.get("xml:lang"),
        _meta(meta, "content-language", "language", "dc.language", "og:locale"),
        _first_str(ld.get("inLanguage")),
    ]
    for value in values:
        if not value:
            continue
        code = re.split(r"[-_,;\s]", value.strip().lower(), maxsplit=1)[0]
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    return None


def _tags(meta: dict[str, list[str]], ld: dict[str, Any]) -> tuple[str, ...]:
    raw: list[str] = list(meta.get("article:tag", []))
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        raw.extend(keywords.split(","))
    elif isinstance(keywords, list):
        raw.extend(k for k in keywords if isinstance(k, str))
    if not raw:
        for key in ("news_keywords", "keywords"):
            for value in meta.get(key, []):
                raw.extend(value.split(","))
    tags: dict[str, str] = {}
    for tag in raw:
        cleaned = clean_text(tag)
        if cleaned and len(cleaned) <= 80:
            tags.setdefault(cleaned.casefold(), cleaned)
    return tuple(tags.values())


def _absolute(base: str, value: str | None) -> str | None:
    value = clean_text(value)
    if not value or value.startswith(("data:", "javascript:")):
        return None
    try:
        return urljoin(base, value)
    except ValueError:
        return None
