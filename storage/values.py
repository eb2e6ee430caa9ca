"""Values made fit for storage: the one place text from the open web is cleaned before a write.

A web page can hold anything, and a database refuses some of it: PostgreSQL rejects NUL in text
and JSON, and lone surrogates in JSON; SQLite cannot encode a lone surrogate at all; a btree index
row holds about 2.7 KB, and a tsvector 1 MB. Every write path calls these functions, so no value
can fail a write and lose the story with it.

One function per kind of value:

- :func:`text` — NUL removed, each lone surrogate replaced by U+FFFD; never shortened (article bodies).
- :func:`capped` — :func:`text`, then cut to the length :data:`MAX_LENGTHS` gives its column.
- :func:`fits_url` — whether a URL is short enough to be stored and indexed: :data:`MAX_URL_BYTES`.
- :func:`json_value` — :func:`text` on every string of a JSON document (dead-letter payloads).
- :func:`days_after` — a date or time moved by whole days, held at the calendar's ends.
- :data:`MAX_INTEGER` — the largest number an id or count column holds on every store.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

__all__ = ["MAX_INTEGER", "MAX_LENGTHS", "MAX_URL_BYTES", "capped", "days_after", "fits_url", "json_value", "text"]

#: The largest value an INTEGER column holds on PostgreSQL (int4: ids, word counts); SQLite's are
#: wider. A larger number given to look up or compare with matches no row; sent as it is,
#: PostgreSQL would refuse the whole query ("integer out of range").
MAX_INTEGER = 2**31 - 1

_When = TypeVar("_When", date, datetime)


def days_after(when: _When, days: int) -> _When:
    """``when`` moved by ``days``, held at the first or last day Python can count: a user's
    0001-01-01 or 9999-12-31 (meaning "from the start", "to the end") is a bound, not an overflow."""
    try:
        return when + timedelta(days=days)
    except OverflowError:
        if isinstance(when, datetime):
            end = datetime.max if days > 0 else datetime.min
            return end.replace(tzinfo=when.tzinfo)
        return date.max if days > 0 else date.min

#: The longest URL stored, in UTF-8 bytes. URLs are indexed (unique canonical URL, aliases, the
#: frontier); PostgreSQL's btree holds about 2,700 bytes a row, and 2,048 is the limit browsers and
#: sitemaps (the sitemaps.org protocol) have long kept to. A longer URL is refused with a reason.
MAX_URL_BYTES = 2048

#: Characters kept per column. Generous for real values, small enough for every index and for
#: PostgreSQL's tsvector (1 MB), which indexes the whole title.
MAX_LENGTHS = {
    "title": 1_000,
    "description": 5_000,
    "author": 200,
    "tag": 200,
    "section": 200,
    "language": 35,  # the column is VARCHAR(35)
    "etag": 1_000,
    "last_modified": 200,
    "reason": 2_000,
    "error": 10_000,
}

# A surrogate code point that is not half of a valid pair (Python keeps such strings as they are,
# e.g. from "\ud800" in JSON or surrogateescape-decoded bytes).
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"
# JSON documents nest a few levels; a deeper one is cut rather than walked without bound.
_MAX_JSON_DEPTH = 32


def text(value: str | None) -> str | None:
    """``value`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _LONE_SURROGATE.search(value):
        value = _LONE_SURROGATE.sub(_REPLACEMENT, value)
    return value


def capped(value: str | None, column: str) -> str | None:
    """:func:`text`, cut to the column's length in :data:`MAX_LENGTHS` (None when nothing is left)."""
    value = text(value)
    if value is None:
        return None
    limit = MAX_LENGTHS[column]
    if len(value) > limit:
        value = value[:limit].rstrip()
    return value or None


def fits_url(url: str | None) -> bool:
    """Whether ``url`` can be stored and indexed: at most :data:`MAX_URL_BYTES` in UTF-8."""
    if url is None:
        return True
    return len(url) <= MAX_URL_BYTES and len(url.encode("utf-8", "surrogatepass")) <= MAX_URL_BYTES


def json_value(value: Any, depth: int = 0) -> Any:
    """A JSON document with :func:`text` applied to every string, keys included."""
    if isinstance(value, str):
        return text(value)
    if depth >= _MAX_JSON_DEPTH:
        return None
    if isinstance(value, dict):
        return {text(str(key)): json_value(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(item, depth + 1) for item in value]
    return value
