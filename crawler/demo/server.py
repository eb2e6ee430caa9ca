"""The loopback HTTP server that serves the demo web (stdlib only, no Scrapy)."""

from __future__ import annotations

import logging
import threading
from datetime import timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.demo.model import SITES
from crawler.demo.render import Resource, build_site
from crawler.demo.stories import EDITIONS
from crawler.demo.wire import WIRE_PREFIX, wire_pages

__all__ = ["DemoWeb"]

logger = logging.getLogger(__name__)

UTC = timezone.utc

_NOT_FOUND = b"<html><head><title>Not found</title></head><body><h1>404 Not Found</h1></body></html>"


class _Handler(BaseHTTPRequestHandler):
    server: _DemoHTTPServer
    server_version = "DemoNews/1.0"
    # Headers and body leave in separate writes: without TCP_NODELAY each response waits out a
    # delayed ACK (about 40 ms), which would make the server, not the crawler, the bottleneck.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests count requests through DemoWeb.requests instead."""

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        web = self.server.web
        web._record(self.path)
        resource = web._lookup(urlsplit(self.path).path)
        if resource is None:
            self._send(404, _NOT_FOUND, {"Content-Type": "text/html; charset=utf-8"}, send_body)
        elif resource.status == 301:
            self._send(301, b"", {"Location": web.base_url + resource.location}, send_body)
        elif resource.status != 200:
            self._send(resource.status, resource.body, {"Content-Type": "text/html; charset=utf-8"}, send_body)
        else:
            headers = {"Content-Type": resource.content_type, "ETag": resource.etag, **dict(resource.headers)}
            if resource.last_modified is not None:
                headers["Last-Modified"] = format_datetime(resource.last_modified.astimezone(UTC), usegmt=True)
            if self._not_modified(resource):
                self._send(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"}, False)
            else:
                self._send(200, resource.body, headers, send_body)

    def _not_modified(self, resource: Resource) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:  # takes precedence over If-Modified-Since (RFC 9110)
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or resource.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and resource.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return resource.last_modified.replace(microsecond=0) <= since
        return False

    def _send(self, status: int, body: bytes, headers: dict[str, str], send_body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if status != 304 else 0))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog of 5 overflows under a crawler's burst of connections;
    # the kernel then drops SYNs and the client retries a second later, stalling the crawl.
    request_queue_size = 128
    web: DemoWeb


class DemoWeb:
    """The bundled offline news web, served on 127.0.0.1 in a background thread.

    ``with DemoWeb(edition=1, port=0) as web:`` starts it on a free port; ``web.base_url``
    is the crawl's start URL and ``web.publish_next_edition()`` switches it to edition 2.
    """

    def __init__(self, edition: int = 1, port: int = 0, host: str = "127.0.0.1") -> None:
        if edition not in EDITIONS:
            raise ValueError(f"unknown edition {edition!r}; the demo web has editions {EDITIONS}")
        self.edition = edition
        self._host = host
        self._port = port
        self._server: _DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pages: dict[str, Resource] = {}
        self._lock = threading.Lock()
        self._requests: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> DemoWeb:
        if self._server is not None:
            raise RuntimeError("DemoWeb is already running")
        server = _DemoHTTPServer((self._host, self._port), _Handler)
        server.web = self
        self._server = server
        self._pages = build_site(self.edition, self.base_url) | wire_pages(self.edition, self.base_url)
        self._thread = threading.Thread(target=server.serve_forever, name="demo-web", daemon=True)
        self._thread.start()
        logger.debug("demo web serving edition %d at %s", self.edition, self.base_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block the calling thread until interrupted (used by ``python -m crawler.demo``)."""
        if self._server is None:
            self.start()
        try:
            assert self._thread is not None
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self) -> DemoWeb:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- public state ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("DemoWeb is not running; use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def site_urls(self) -> dict[str, str]:
        return {key: self.base_url + site.prefix for key, site in SITES.items()}

    @property
    def wire_url(self) -> str:
        """The Demo Wire (crawler/demo/wire.py): not linked from the portal, crawled as a source of its own."""
        return self.base_url + WIRE_PREFIX

    @property
    def requests(self) -> list[str]:
        """Paths (with query) served so far, in arrival order. The live list: ``clear()`` resets it."""
        return self._requests

    def publish_next_edition(self) -> int:
        """Switch the live server to the next edition; returns the new edition number."""
        if self.edition >= EDITIONS[-1]:
            raise RuntimeError(f"edition {self.edition} is the last one")
        self.edition += 1
        pages = build_site(self.edition, self.base_url) | wire_pages(self.edition, self.base_url) if self._server is not None else {}
        with self._lock:
            self._pages = pages
        return self.edition

    # -- used by the handler -----------------------------------------------------------------
    def _record(self, path: str) -> None:
        with self._lock:
            self._requests.append(path)

    def _lookup(self, path: str) -> Resource | None:
        with self._lock:
            pages = self._pages
        found = pages.get(path)
        if found is None and path.endswith("/") and len(path) > 1:
            found = pages.get(path.rstrip("/"))  # trailing-slash variant of an article
        if found is None and not path.endswith("/"):
            found = pages.get(path + "/")  # /planet -> the homepage
        return found
