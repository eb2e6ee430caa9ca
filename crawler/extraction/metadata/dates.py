"""Publication and modification dates: parsing what pages state, and the fallbacks when they state nothing."""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from copy import deepcopy
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml import etree

from .structured import MODIFIED_META_KEYS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

__all__ = ["date_from_url", "first_date", "first_time_element", "htmldate_published", "parse_date"]

_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)"
)


def parse_date(
    value: Any, *, now: datetime | None = None, written: bool = True
) -> datetime | None:
    """An aware datetime in the date's own offset (UTC when it states none); None when unparseable or in the future.

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
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
    if parsed is None and written:
        parsed = _parse_written_date(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:
        # "0001-01-01T00:00:00+01:00" (a .NET CMS's unset date), "9999-12-31T23:59-05:00":
        # a day that does not exist in UTC is no date at all.
        return None
    if instant > now + timedelta(days=1) or instant.year < 1990:
        return None
    # The page's own offset is kept: its day is the day its readers were told (storage keeps UTC).
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
        try:
            return parsed.replace(tzinfo=timezone(sign * offset))
        except ValueError:  # an offset of a day or more ("+99:00")
            return None
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


def first_time_element(tree: HtmlElement, now: datetime, url: str = "") -> datetime | None:
    """The first ``<time datetime>`` holding a machine-readable date, of a kind the page has once.

    The attribute is markup for machines, as a meta tag is, and a page shows its
    own date before related articles and comments; htmldate, going by class
    names, may pick a sidebar's "date" instead. A class several ``<time>``
    elements share marks repeated items (teaser cards, comments), not the page's date;
    one inside a teaser link to another page or a quotation is that page's or that statement's.
    """
    own_paths = _own_paths(tree, url)
    elements = [
        element
        for element in tree.iter("time")
        if element.get("datetime") and not _borrowed(element, url, own_paths)
    ]
    classes = Counter((element.get("class") or "").strip() for element in elements)
    for element in elements:
        kind = (element.get("class") or "").strip()
        if kind and classes[kind] > 1:
            continue
        found = parse_date(element.get("datetime"), now=now, written=False)
        if found is not None:
            return found
    return None


def htmldate_published(
    tree: HtmlElement, url: str, modified_values: list[Any], now: datetime
) -> datetime | None:
    """htmldate's publication date, not the modification date it falls back on.

    Asked for the original date, htmldate still answers with a modified-time
    meta tag when the head names no publication date, before reading the page.
    When its answer is a day the page's modified dates state, it is asked again
    without those tags: an earlier date then found is the publication; else the
    modified day stays, the only date the page gives. It never sees links to other
    pages (teasers, whose text and URLs carry their own dates) or quotations.
    """
    tree = _without_borrowed_dates(tree, url)
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


# Where a date belongs to something else: a quoted statement, or the page a teaser leads to.
_QUOTATIONS = frozenset({"blockquote", "q"})
# A link whose whole label is a date this short ("May 18, 2023") is the byline's date linked to
# an archive or topic page, not a teaser, which carries its story's headline as well.
_DATE_LABEL_CHARS = 40
_BORROWED_DATE_HOLDERS = etree.XPath("//body//blockquote | //body//q | //body//a[@href]")


def _borrowed(element: HtmlElement, url: str, own_paths: set[str]) -> bool:
    """Whether ``element`` sits inside a quotation or a teaser link to another page."""
    for ancestor in element.iterancestors():
        if ancestor.tag in _QUOTATIONS:
            return True
        if ancestor.tag == "a" and _is_teaser(ancestor, url, own_paths):
            return True
    return False


def _without_borrowed_dates(tree: HtmlElement, url: str) -> HtmlElement:
    """A copy of the page without quotations and teaser links (their text and URLs included)."""
    own_paths = _own_paths(tree, url)
    copy = deepcopy(tree)
    for element in _BORROWED_DATE_HOLDERS(copy):
        if element.tag in _QUOTATIONS or _is_teaser(element, url, own_paths):
            if element.getparent() is not None:
                element.drop_tree()
    return copy


def _own_paths(tree: HtmlElement, url: str) -> set[str]:
    """The paths this page is known under: its URL's and its canonical URL's."""
    paths = {_path(url)}
    for href in tree.xpath("//head/link[@rel='canonical']/@href")[:1]:
        try:
            paths.add(_path(urljoin(url, href)))
        except ValueError:  # "http://[broken": no second path to know the page by
            pass
    return paths


def _is_teaser(anchor: HtmlElement, url: str, own_paths: set[str]) -> bool:
    """A link to another page labelled with more than a date: a headline, an image."""
    if not _links_elsewhere(anchor.get("href"), url, own_paths):
        return False
    label = " ".join(anchor.text_content().split())
    return len(label) > _DATE_LABEL_CHARS or not any(map(str.isdigit, label))


def _links_elsewhere(href: str | None, url: str, own_paths: set[str]) -> bool:
    """A link to another page: not one to this page itself (a permalink around the byline's date)."""
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:")):
        return False
    try:
        return _target_path(url, href) not in own_paths
    except ValueError:
        return True


@functools.lru_cache(maxsize=4096)
def _target_path(url: str, href: str) -> str:
    """The path ``href`` leads to from ``url``: cached, as a page repeats its links (menus,
    a teaser's picture and headline) and each is read twice (its ``<time>`` and htmldate's copy).
    """
    return _path(urljoin(url, href))


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def _without_modified_tags(tree: HtmlElement) -> HtmlElement:
    """A copy of the page without its modified-time meta tags."""
    copy = deepcopy(tree)
    for meta in list(copy.iterfind(".//meta")):
        keys = {
            (meta.get(attribute) or "").strip().lower()
            for attribute in ("property", "name", "itemprop", "http-equiv")
        }
        if keys.intersection(MODIFIED_META_KEYS):
            meta.drop_tree()
    return copy


def first_date(
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
