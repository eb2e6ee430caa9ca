"""Every setting newsdesk accepts (``-s NAME=VALUE``, a source's ``settings`` table), checked once.

A value out of range does not fail loudly inside Scrapy: ``CONCURRENT_REQUESTS_PER_DOMAIN = 0`` or
``DOWNLOAD_DELAY = inf`` hang the crawl, ``DOWNLOAD_TIMEOUT = nan`` or ``DOWNLOAD_MAXSIZE = -1``
refuse every page and exit 0. So each known setting is checked here before a crawl starts, and a
bad one is one line naming it. Settings not listed here are Scrapy's business and passed on as given.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SettingError", "check_setting", "check_settings"]

#: Longest delay or timeout accepted, in seconds: beyond a week a value is a typo, not a plan.
MAX_SECONDS = 7 * 24 * 3600
#: Largest count or size accepted: far beyond any crawl, well inside a C long.
MAX_COUNT = 2**40
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """A setting's value newsdesk cannot crawl with; the message names the setting."""


def _number(value: Any, *, whole: bool) -> float | int:
    if isinstance(value, bool):
        raise ValueError("a number, not true/false")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            raise ValueError(f"a {'whole ' if whole else ''}number, not {value!r}") from None
    if whole and isinstance(value, float) and value.is_integer():
        value = int(value)
    if whole and not isinstance(value, int):
        raise ValueError(f"a whole number, not {value!r}")
    if not isinstance(value, (int, float)):
        raise ValueError(f"a number, not {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"a finite number, not {value!r}")
    return value


def _count(lowest: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        number = _number(value, whole=True)
        if not lowest <= number <= MAX_COUNT:
            raise ValueError(f"a whole number from {lowest} to {MAX_COUNT:,}, not {value!r}")
        return int(number)

    return check


def _seconds(*, zero_ok: bool) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        number = _number(value, whole=False)
        if number < 0 or (number == 0 and not zero_ok) or number > MAX_SECONDS:
            low = "0" if zero_ok else "more than 0"
            raise ValueError(f"seconds from {low} to {MAX_SECONDS:,}, not {value!r}")
        return number

    return check


def _ratio(value: Any) -> float:
    number = _number(value, whole=False)
    if not 0 < number <= 1:
        raise ValueError(f"a number above 0 and at most 1, not {value!r}")
    return number


def _sigmas(value: Any) -> float:
    number = _number(value, whole=False)
    if not 0 < number <= 10:
        raise ValueError(f"a number of standard deviations above 0 and at most 10, not {value!r}")
    return float(number)


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None or value == "" else check(value)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"true or false, not {value!r}")


def _log_level(value: Any) -> str:
    text = str(value).strip().upper()
    if text not in LOG_LEVELS:
        raise ValueError(f"one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return text


def _duration(value: Any) -> str:
    from crawler.sources import parse_duration

    if not isinstance(value, str):
        raise ValueError(f"a duration like 6h or 2d, not {value!r}")
    if value.strip():
        try:
            parse_duration(value)
        except ValueError:
            raise ValueError(f"a duration like 6h or 2d, not {value!r}") from None
    return value.strip()


_CHECKS: Mapping[str, Callable[[Any], Any]] = {
    # Concurrency and batches: 0 would never send or lease a request, and the crawl would hang.
    "CONCURRENT_REQUESTS": _count(1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": _count(1),
    "CONCURRENT_ITEMS": _count(1),
    "NEWSDESK_FRONTIER_BATCH": _count(1),
    "NEWSDESK_FRONTIER_LEASE_SECONDS": _count(1),
    "NEWSDESK_STORE_BATCH_SIZE": _count(1),
    "NEWSDESK_SITE_PROFILE_MIN_PAGES": _count(1),
    "NEWSDESK_SITE_PROFILE_MIN_BLOCK_PAGES": _count(1),
    # Limits where 0 means "none" (Scrapy's own meaning) and a negative value refuses everything.
    "DOWNLOAD_MAXSIZE": _count(0),
    "DOWNLOAD_WARNSIZE": _count(0),
    "RETRY_TIMES": _count(0),
    "REDIRECT_MAX_TIMES": _count(0),
    "DEPTH_LIMIT": _count(0),
    "CLOSESPIDER_PAGECOUNT": _count(0),
    "CLOSESPIDER_ITEMCOUNT": _count(0),
    "NEWSDESK_EXTRACT_WORKERS": _count(0),
    "NEWSDESK_MAX_HTML_BYTES": _count(0),
    "NEWSDESK_MAX_ARTICLE_CHARS": _count(0),
    "NEWSDESK_ROBOTSTXT_MAX_BYTES": _count(1),
    "NEWSDESK_RETRY_AFTER_TIMES": _count(0),
    "NEWSDESK_MAX_SITEMAPS_PER_INDEX": _count(1),
    "NEWSDESK_MAX_URLS_PER_SITEMAP": _count(1),
    "NEWSDESK_MAX_FEED_ENTRIES": _count(1),
    "NEWSDESK_MAX_LINKS_PER_PAGE": _count(1),
    "NEWSDESK_ARCHIVE_MAX_MB": _count(1),
    # Times: finite, and long enough to let anything happen.
    "DOWNLOAD_TIMEOUT": _seconds(zero_ok=False),
    "DOWNLOAD_DELAY": _seconds(zero_ok=True),
    "AUTOTHROTTLE_START_DELAY": _seconds(zero_ok=True),
    "AUTOTHROTTLE_MAX_DELAY": _seconds(zero_ok=False),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": _seconds(zero_ok=False),
    "CLOSESPIDER_TIMEOUT": _seconds(zero_ok=True),
    "NEWSDESK_EXTRACT_TIMEOUT": _seconds(zero_ok=False),
    "NEWSDESK_STORE_FLUSH_SECONDS": _seconds(zero_ok=False),
    "NEWSDESK_MAX_RETRY_AFTER": _seconds(zero_ok=True),
    "NEWSDESK_ARCHIVE_MAX_MINUTES": _seconds(zero_ok=False),
    "NEWSDESK_ROBOTSTXT_KEEP_SECONDS": _seconds(zero_ok=True),
    "NEWSDESK_NEAR_DUPLICATE_THRESHOLD": _optional(_ratio),
    "NEWSDESK_SITE_PROFILE_MIN_SHARE": _ratio,
    "NEWSDESK_SITE_PROFILE_MAX_STRIPPED_SHARE": _ratio,
    "NEWSDESK_RECRAWL_AFTER": _duration,
    # Source health thresholds (newsdesk health).
    "NEWSDESK_HEALTH_WINDOW_DAYS": _count(1),
    "NEWSDESK_HEALTH_MIN_HISTORY_DAYS": _count(1),
    "NEWSDESK_HEALTH_LOW_SIGMA": _sigmas,
    "NEWSDESK_HEALTH_HIGH_SIGMA": _sigmas,
    "NEWSDESK_HEALTH_LENGTH_DROP": _ratio,
    "NEWSDESK_HEALTH_TEMPLATE_RISE": _ratio,
    # Switches and names.
    "AUTOTHROTTLE_ENABLED": _flag,
    "RANDOMIZE_DOWNLOAD_DELAY": _flag,
    "ROBOTSTXT_OBEY": _flag,
    "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": _flag,
    "NEWSDESK_RETRY_AFTER_ENABLED": _flag,
    "NEWSDESK_STORE_IN_PROCESS": _flag,
    "NEWSDESK_REFUSE_TDM_RESERVED": _flag,
    "NEWSDESK_SITE_PROFILES_ENABLED": _flag,
    "NEWSDESK_ARCHIVE": _flag,
    "NEWSDESK_HOST_POLITENESS_ENABLED": _flag,
    "LOG_LEVEL": _log_level,
}


def check_setting(name: str, value: Any) -> Any:
    """``value`` as the crawl should use it, or :class:`SettingError` naming ``name``."""
    check = _CHECKS.get(name)
    if check is None:
        if name.startswith("NEWSDESK_"):
            _known_newsdesk_setting(name)
        return value
    try:
        return check(value)
    except (ValueError, OverflowError) as exc:
        raise SettingError(f"setting {name} must be {exc}") from None


def _known_newsdesk_setting(name: str) -> None:
    """newsdesk's own names are all in crawler/settings.py: a misspelt one (``..._ADDRESS`` for
    ``..._ADDRESSES``) would be passed on, read by nothing, and the crawl run without it."""
    from crawler import settings

    prefix = "NEWSDESK_"
    known = [known.removeprefix(prefix) for known in vars(settings) if known.startswith(prefix)]
    if name.removeprefix(prefix) not in known:
        close = difflib.get_close_matches(name.removeprefix(prefix), known, n=1)
        hint = f": did you mean {prefix}{close[0]}?" if close else " (crawler/settings.py lists newsdesk's settings)"
        raise SettingError(f"unknown setting {name}{hint}")


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every value of ``settings`` checked (see :func:`check_setting`); returns the checked values."""
    return {name: check_setting(name, value) for name, value in settings.items()}
