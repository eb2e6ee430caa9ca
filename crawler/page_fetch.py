"""Fetching a page or a file outside a crawl (``extract URL``, ``import-warc URL``), behind the
crawl's address guard.

Redirects are followed here, one hop at a time, so each hop's scheme and host pass the same
checks as the crawl's (:mod:`crawler.addresses`). The check happens on the very address the socket
connects to, so a second DNS answer cannot swap a private address in between check and connect.
No proxy from the environment is used: a proxy would connect on our behalf, past the check.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from crawler.addresses import is_forbidden_address, is_local_name, scheme_refusal

__all__ = ["Downloaded", "FetchRefused", "FetchedPage", "download_file", "fetch_page"]

MAX_REDIRECTS = 5
USER_AGENT = "newsdesk-extract"
DOWNLOAD_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Downloaded:
    size: int
    #: Whether the server said how long the file is, so that a cut connection was noticed. Without
    #: it, a connection cut mid-file looks like the end of the file.
    length_checked: bool


class FetchRefused(Exception):
    """The page cannot or may not be fetched; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str
    body: bytes
    charset: str | None


def fetch_page(url: str, *, max_bytes: int, allow_private: bool = False, timeout: float = 30) -> FetchedPage:
    """GET ``url`` following at most ``MAX_REDIRECTS`` redirects; the body is cut at ``max_bytes``.

    Raises :class:`FetchRefused` for a refused scheme or address, too many redirects, an HTTP
    error status or a network error.
    """
    final_url, response = _open_following_redirects(url, allow_private, timeout)
    with response:
        try:
            body = response.read(max_bytes)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchRefused(f"could not fetch {final_url}: {exc}") from None
        return FetchedPage(final_url, body, response.headers.get_content_charset())


def download_file(
    url: str, destination: Path, *, allow_private: bool = False, timeout: float = 60,
    on_progress: Callable[[int], None] | None = None,
) -> Downloaded:  # fmt: skip
    """GET ``url`` (behind the same guard as :func:`fetch_page`) into ``destination``, streamed,
    never held in memory.

    The bytes go to a ``.part`` file beside it and are renamed only once all of them (the
    Content-Length, when given) are on disk, so a crash or a cut connection never leaves a
    partial file under the final name. ``on_progress`` gets the bytes received so far after
    each chunk (a caller renews its lease there). Raises :class:`FetchRefused` as
    :func:`fetch_page` does, also for a body cut short.
    """
    final_url, response = _open_following_redirects(url, allow_private, timeout)
    # Named per process: a worker that took over a lapsed lease must not write into another's file.
    partial = destination.with_name(f"{destination.name}.{os.getpid()}.part")
    received = 0
    expected = response.headers.get("Content-Length")
    # A cut chunked body raises IncompleteRead; a cut body of a stated length is caught below.
    checked = bool(expected and expected.strip().isdigit()) or bool(getattr(response, "chunked", False))
    try:
        with response:
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as out:
                # read1: what has come, so a slow server still reports progress (a lease is renewed there).
                while chunk := response.read1(DOWNLOAD_CHUNK_BYTES):
                    out.write(chunk)
                    received += len(chunk)
                    if on_progress is not None:
                        on_progress(received)
                out.flush()
                os.fsync(out.fileno())
        if expected is not None and expected.strip().isdigit() and received < int(expected):
            raise FetchRefused(
                f"could not download {final_url}: the connection ended after {received:,} of {int(expected):,} bytes"
            )
        os.replace(partial, destination)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchRefused(f"could not download {final_url}: {exc}") from None
    finally:
        with contextlib.suppress(OSError):  # gone already when the download completed, or never made
            partial.unlink(missing_ok=True)
    return Downloaded(received, length_checked=checked)


def _open_following_redirects(url: str, allow_private: bool, timeout: float):
    """The open response to ``url`` after its redirects, each hop checked; and its final URL."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirects(),
        _GuardedHTTPHandler(allow_private),
        _GuardedHTTPSHandler(allow_private),
    )
    for _hop in range(MAX_REDIRECTS + 1):
        refusal = scheme_refusal(url)
        if refusal:
            raise FetchRefused(refusal)
        if not allow_private and is_local_name(urlsplit(url).hostname or ""):
            raise FetchRefused(_private_message(urlsplit(url).hostname or "", None))
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            return url, opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location") if exc.code in (301, 302, 303, 307, 308) else None
            exc.close()
            if not location:
                raise FetchRefused(f"could not fetch {url}: HTTP {exc.code} {exc.reason}") from None
            url = urljoin(url, location.strip())
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, FetchRefused):
                raise exc.reason from None
            raise FetchRefused(f"could not fetch {url}: {exc.reason}") from None
        except FetchRefused:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise FetchRefused(f"could not fetch {url}: {exc}") from None
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects, last to {url}")


def _private_message(host: str, address: str | None) -> str:
    shown = host if address is None or host == address else f"{host} ({address})"
    return f"refused private address {shown} (pass --allow-private to fetch a page on this machine or network)"


def _guarded_connector(allow_private: bool):
    """A ``socket.create_connection`` that connects only to addresses the guard allows."""

    def connect(address: tuple[str, int], timeout: float | None = None, source_address=None) -> socket.socket:
        host, port = address
        try:
            candidates = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {host}: {exc.strerror}") from None
        last_error: OSError | None = None
        for family, kind, proto, _name, sockaddr in candidates:
            if not allow_private and is_forbidden_address(sockaddr[0]):
                raise FetchRefused(_private_message(host, sockaddr[0]))
        for family, kind, proto, _name, sockaddr in candidates:
            sock = socket.socket(family, kind, proto)
            try:
                if timeout is not None:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                last_error = exc
        raise last_error or OSError(f"no address for {host}")

    return connect


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError so that :func:`fetch_page` checks each hop itself."""

    def redirect_request(self, *args, **kwargs):
        return None


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool):
        super().__init__()
        self._connector = _guarded_connector(allow_private)

    def http_open(self, req):
        return self.do_open(self._connection, req)

    def _connection(self, *args, **kwargs) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(*args, **kwargs)
        connection._create_connection = self._connector
        return connection


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool):
        super().__init__()
        self._connector = _guarded_connector(allow_private)

    def https_open(self, req):
        return self.do_open(self._connection, req, context=self._context)

    def _connection(self, *args, **kwargs) -> http.client.HTTPSConnection:
        connection = http.client.HTTPSConnection(*args, **kwargs)
        connection._create_connection = self._connector
        return connection
