"""The sources registry: ``sources.toml`` loaded and validated into frozen :class:`Source` records.

Per-site knowledge is data, checked when it is loaded: a typo in a key, a regex that does not
compile or a cron expression that never fires is reported with the source and field it is in,
before any crawl starts. A file looks like::

    [[source]]
    name = "rt"
    start_urls = ["https://www.rt.com/"]
    feeds = ["https://www.rt.com/rss/"]
    schedule = "*/30 * * * *"
    settings = { DOWNLOAD_DELAY = 1.0 }

URLs may hold ``{name}`` placeholders, filled from ``load_sources(path, variables={...})`` (the
demo sources use ``{demo}`` for the address the demo web happens to be served on).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.discovery.dates import to_utc
from crawler.discovery.scope import CrawlScope
from crawler.normalize import canonical_url
from crawler.settings_check import SettingError, check_setting

__all__ = [
    "SAFE_SETTINGS",
    "Source",
    "SourcesError",
    "load_sources",
    "parse_duration",
    "parse_sources",
    "resolve_sources_path",
]

SOURCES_ENV = "NEWSDESK_SOURCES"
DEFAULT_SOURCES_FILE = "sources.toml"

#: Scrapy settings a source may override, with the types its value may have. Only politeness,
#: limits and logging: a sources file must not be able to swap pipelines or turn robots.txt off.
SAFE_SETTINGS: Mapping[str, tuple[type, ...]] = {
    "DOWNLOAD_DELAY": (int, float),
    "RANDOMIZE_DOWNLOAD_DELAY": (bool,),
    "CONCURRENT_REQUESTS": (int,),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (int,),
    "AUTOTHROTTLE_ENABLED": (bool,),
    "AUTOTHROTTLE_START_DELAY": (int, float),
    "AUTOTHROTTLE_MAX_DELAY": (int, float),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": (int, float),
    "DOWNLOAD_TIMEOUT": (int, float),
    "DOWNLOAD_MAXSIZE": (int,),
    "RETRY_TIMES": (int,),
    "CLOSESPIDER_TIMEOUT": (int, float),
    "LOG_LEVEL": (str,),
    # For sources on a private network (an intranet, the bundled demo web on loopback).
    "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": (bool,),
}

_DURATION = re.compile(r"([0-9]+)\s*([smhdw])")  # ASCII digits: int() would take '²' or '٣' too
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


class SourcesError(ValueError):
    """A sources file that cannot be used; the message names the source and field at fault."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        where = ".".join(part for part in (source, field) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.field = field


@dataclass(frozen=True)
class Source:
    """One news site and how to crawl it."""

    name: str
    start_urls: tuple[str, ...]
    domains: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_url_allow: tuple[re.Pattern[str], ...] = ()
    article_url_deny: tuple[re.Pattern[str], ...] = ()
    language: str | None = None
    schedule: str | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    since: datetime | None = None
    recrawl_after: str | None = None
    timeout: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> CrawlScope:
        """The pages the source's crawl fetches, and so stores as its own: those below its start
        URLs, and its domains whole."""
        return CrawlScope.from_start_urls([*self.start_urls, *(f"https://{domain}/" for domain in self.domains)])

    def is_article_url(self, url: str) -> bool:
        """Whether the URL rules admit ``url`` as an article (no rules: every URL may be one)."""
        if any(pattern.search(url) for pattern in self.article_url_deny):
            return False
        return not self.article_url_allow or any(pattern.search(url) for pattern in self.article_url_allow)

    @property
    def timeout_delta(self) -> timedelta | None:
        return parse_duration(self.timeout) if self.timeout else None

    @property
    def recrawl_after_delta(self) -> timedelta | None:
        return parse_duration(self.recrawl_after) if self.recrawl_after else None


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"6h"``, ``"2d"``, ``"1w"`` or a sum such as ``"1h30m"``."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 6h, 2d or 1h30m")
    try:
        total = sum((timedelta(**{_DURATION_UNITS[unit]: int(number)}) for number, unit in parts), timedelta())
    except OverflowError:
        total = timedelta.max
    if total > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days:,} days")
    return total


#: Longest span accepted anywhere (a recrawl age, a timeout, a --since span): a century.
MAX_DURATION = timedelta(days=36_500)


def resolve_sources_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The sources file to read: ``explicit``, else ``$NEWSDESK_SOURCES``, else ``./sources.toml``."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(SOURCES_ENV) or DEFAULT_SOURCES_FILE)


def load_sources(
    path: str | os.PathLike[str], variables: Mapping[str, str] | None = None
) -> dict[str, Source]:
    """Read and validate a sources file; returns the sources by name, in file order."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM, as Windows editors write it, is fine
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except FileNotFoundError:
        raise SourcesError(f"sources file not found: {path}") from None
    except OSError as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path} is not valid TOML: {exc}") from None
    return parse_sources(data, variables)


def parse_sources(data: Mapping[str, Any], variables: Mapping[str, str] | None = None) -> dict[str, Source]:
    """Validate the parsed TOML of a sources file (see :func:`load_sources`)."""
    unknown = sorted(set(data) - {"source"})
    if unknown:
        raise SourcesError(f"unknown top-level key(s) {', '.join(unknown)}; sources go in [[source]] tables")
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise SourcesError("'source' must be an array of tables: write [[source]], not [source]")
    sources: dict[str, Source] = {}
    for index, entry in enumerate(entries, start=1):
        source = _parse_source(entry, index, dict(variables or {}))
        if source.name in sources:
            raise SourcesError("duplicate source name", source=source.name, field="name")
        sources[source.name] = source
    return sources


# -- one source -----------------------------------------------------------------------------------

_FIELDS = frozenset(
    {
        "name",
        "start_urls",
        "domains",
        "feeds",
        "sitemaps",
        "article_url_allow",
        "article_url_deny",
        "language",
        "schedule",
        "max_pages",
        "max_depth",
        "since",
        "recrawl_after",
        "timeout",
        "settings",
    }
)


def _parse_source(entry: Any, index: int, variables: dict[str, str]) -> Source:
    if not isinstance(entry, dict):
        raise SourcesError(f"source #{index} is not a table")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SourcesError(
            "every source needs a name of letters, digits, '.', '_' or '-'",
            source=name if isinstance(name, str) and name else f"source #{index}",
            field="name",
        )
    check = _Checker(name, variables)
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise SourcesError(f"unknown key(s) {', '.join(unknown)}", source=name, field=unknown[0])
    if not entry.get("start_urls"):
        raise SourcesError("at least one start URL is required", source=name, field="start_urls")
    start_urls = check.urls(entry, "start_urls")
    domains = check.strings(entry, "domains") or tuple(dict.fromkeys(urlsplit(u).hostname for u in start_urls))
    return Source(
        name=name,
        start_urls=start_urls,
        domains=tuple(d.lower() for d in domains),
        feeds=check.urls(entry, "feeds"),
        sitemaps=check.urls(entry, "sitemaps"),
        article_url_allow=check.patterns(entry, "article_url_allow"),
        article_url_deny=check.patterns(entry, "article_url_deny"),
        language=check.optional(entry, "language", str),
        schedule=check.cron(entry, "schedule"),
        max_pages=check.positive_int(entry, "max_pages"),
        max_depth=check.positive_int(entry, "max_depth", allow_zero=True),
        since=check.since(entry, "since"),
        recrawl_after=check.duration(entry, "recrawl_after"),
        timeout=check.duration(entry, "timeout"),
        settings=check.settings(entry, "settings"),
    )


@dataclass
class _Checker:
    """Field validators for one source; each error names the source and the field."""

    source: str
    variables: dict[str, str]

    def error(self, field_name: str, message: str) -> SourcesError:
        return SourcesError(message, source=self.source, field=field_name)

    def optional(self, entry: Mapping[str, Any], key: str, kind: type) -> Any:
        value = entry.get(key)
        if value is not None and not isinstance(value, kind):
            raise self.error(key, f"must be a {kind.__name__}, not {type(value).__name__}")
        return value

    def strings(self, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = entry.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, "must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def urls(self, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
        urls = []
        for raw in self.strings(entry, key):
            url = self._substitute(key, raw)
            try:
                parts = urlsplit(url)
                canonical_url(url)  # raises for a port outside 0-65535, a host no domain can have
            except ValueError as exc:
                raise self.error(key, f"{url!r} is not a valid URL: {exc}") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.error(key, f"{url!r} is not an http(s) URL with a host")
            urls.append(url)
        return tuple(urls)

    def _substitute(self, key: str, url: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1) not in self.variables:
                raise self.error(key, f"{url!r} uses {{{match.group(1)}}}, which no variable fills")
            return self.variables[match.group(1)].rstrip("/")

        return _PLACEHOLDER.sub(replace, url)

    def patterns(self, entry: Mapping[str, Any], key: str) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for text in self.strings(entry, key):
            try:
                compiled.append(re.compile(text))
            except re.error as exc:
                raise self.error(key, f"bad regular expression {text!r}: {exc}") from None
        return tuple(compiled)

    def cron(self, entry: Mapping[str, Any], key: str) -> str | None:
        expr = self.optional(entry, key, str)
        if expr is None:
            return None
        from cronsim import CronSim, CronSimError

        try:
            next(CronSim(expr, datetime.now(UTC)))
        except (CronSimError, StopIteration) as exc:
            raise self.error(key, f"bad cron expression {expr!r}: {exc or 'it never fires'}") from None
        return expr.strip()

    def positive_int(self, entry: Mapping[str, Any], key: str, *, allow_zero: bool = False) -> int | None:
        value = entry.get(key)
        if value is None:
            return None
        lowest = 0 if allow_zero else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise self.error(key, f"must be a whole number >= {lowest}, not {value!r}")
        return value

    def since(self, entry: Mapping[str, Any], key: str) -> datetime | None:
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                # A date alone is a day in UTC, as a TOML date is; a time needs its zone.
                value = date.fromisoformat(value.strip()) if len(value.strip()) == 10 else datetime.fromisoformat(value)
            except ValueError:
                raise self.error(key, f"{value!r} is not an ISO 8601 date or datetime") from None
        if not isinstance(value, date):
            raise self.error(key, "must be a date or a datetime")
        if isinstance(value, datetime) and value.tzinfo is None:
            raise self.error(key, f"{value.isoformat()} has no time zone; add one, e.g. Z or +02:00")
        since = to_utc(value)
        if since is None:
            raise self.error(key, f"{value.isoformat()} is outside the years 1 to 9999 in UTC")
        return since

    def duration(self, entry: Mapping[str, Any], key: str) -> str | None:
        value = self.optional(entry, key, str)
        if value is None:
            return None
        try:
            parse_duration(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        return value.strip()

    def settings(self, entry: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = entry.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "must be a table of Scrapy setting overrides")
        for name, setting in value.items():
            if name not in SAFE_SETTINGS:
                raise self.error(
                    f"{key}.{name}", f"not a setting a source may override; allowed: {', '.join(SAFE_SETTINGS)}"
                )
            kinds = SAFE_SETTINGS[name]
            if not isinstance(setting, kinds) or (isinstance(setting, bool) and bool not in kinds):
                expected = " or ".join(k.__name__ for k in kinds)
                raise self.error(f"{key}.{name}", f"must be {expected}, not {setting!r}")
            try:
                value[name] = check_setting(name, setting)
            except SettingError as exc:
                raise self.error(f"{key}.{name}", str(exc)) from None
        return dict(value)
