"""The one place a Scrapy ``Response`` becomes a plain, frozen record.

Everything downstream (extraction, normalisation, storage) takes a :class:`Page` or plain values,
so it can be tested without a reactor and can cross a process boundary (the extraction pool).
The raw body is kept: charsets are decided from the bytes, never from Scrapy's ``response.text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler.extraction.signals import SIGNAL_HEADERS

if TYPE_CHECKING:
    from scrapy.http import Response

__all__ = ["Page", "page_from_response"]

HTML_CONTENT_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    status: int
    body: bytes
    content_type: str | None
    http_charset: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    #: The headers that carry publishers' signals (TDMRep, X-Robots-Tag, Content-Usage), lower-case
    #: names with their values in order; see ``crawler.extraction.signals``.
    signal_headers: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def signal_header_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.signal_headers)

    @property
    def is_html(self) -> bool:
        """True for an HTML content type, or no content type at all (sniffed later by extraction)."""
        return self.content_type is None or self.content_type in HTML_CONTENT_TYPES


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() if value else None


def _split_content_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    media_type, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset" and val:
            charset = val.strip().strip('"').lower()
    return media_type.strip().lower() or None, charset


def page_from_response(response: Response) -> Page:
    content_type, charset = _split_content_type(_header(response, "Content-Type"))
    return Page(
        url=response.url,
        status=response.status,
        body=response.body,
        content_type=content_type,
        http_charset=charset,
        etag=_header(response, "ETag"),
        last_modified=_header(response, "Last-Modified"),
        fetched_at=datetime.now(UTC),
        signal_headers=_signal_headers(response),
    )


def _signal_headers(response: Response) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for name in SIGNAL_HEADERS:
        values = tuple(value.decode("latin-1").strip() for value in response.headers.getlist(name))
        if values:
            found.append((name, values))
    return tuple(found)
