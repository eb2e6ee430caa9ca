"""One way for a date to enter the crawl: timezone-aware UTC, or ``None``.

Sitemaps, feeds and HTTP headers write dates in several forms (W3C datetime at any precision,
RFC 822), often with no time zone. A naive datetime compared with an aware one raises
``TypeError``, so every date is made aware UTC where it enters, and nothing downstream has to ask.

Built on the standard library: ``datetime.fromisoformat`` reads every ISO 8601 form a sitemap uses
(date only, minutes only, fractions, ``Z``, offsets) and ``email.utils`` reads RFC 822 with its
named zones. feedparser's own parser was measured and not used for text: it turns an invalid date
such as ``2024-13-45`` into 2025-01-01, and a date near year 1 or 9999 into a tuple no ``datetime``
accepts. dateutil's ``isoparse`` would add a dependency only to read a bare year or year-month.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

__all__ = ["to_utc"]

#: W3C datetime's reduced precisions, which ``fromisoformat`` does not read: "2024" and "2024-05".
_YEAR_OR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


def to_utc(value: object) -> datetime | None:
    """``value`` as an aware UTC datetime; ``None`` for no date, garbage or a date UTC cannot hold.

    Accepts text (ISO 8601 / W3C datetime, RFC 822), a ``datetime`` (naive is taken as UTC, the
    reading that keeps a date-only value on its stated day), a ``date`` (midnight UTC) and a UTC
    ``time.struct_time`` such as feedparser's ``*_parsed`` fields. Never raises.
    """
    if isinstance(value, str):
        parsed = _parse_text(value.strip())
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, time.struct_time):
        try:
            parsed = datetime(*value[:6], tzinfo=UTC)
        except (TypeError, ValueError):  # feedparser shifts 0001 / 9999 into years 0 and 10000
            return None
    else:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+01:00 is before the first UTC instant
        return None


def _parse_text(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    reduced = _YEAR_OR_MONTH.fullmatch(text)
    if reduced:
        year, month = reduced.groups()
        try:
            return datetime(int(year), int(month or 1), 1)
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
