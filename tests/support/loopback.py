"""A small site on 127.0.0.1 for crawl tests: subclasses say what each path answers.

A site with subdomains (``www.``, ``m.``, ``amp.``) is one server too: a crawl given
``-s TWISTED_DNS_RESOLVER=tests.support.loopback.LoopbackResolver`` resolves every name to
127.0.0.1, and :meth:`PageServer.answer_for` reads the ``Host`` header the request came with.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twisted.internet import defer
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

__all__ = ["LoopbackResolver", "PageServer"]


@implementer(IResolverSimple)
class LoopbackResolver:
    """A Scrapy DNS resolver that answers 127.0.0.1 for every name: no request leaves the machine."""

    def __init__(self, reactor):
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 - Twisted's interface
        return defer.succeed("127.0.0.1")


class PageServer:
    """Serves :meth:`answer` for every GET (``None``: 404; a number: that status, no body) until the
    ``with`` block ends. An answer may add a third item: response headers as (name, value) pairs."""

    def __init__(self):
        site = self
        #: Every User-Agent header the site was sent.
        self.user_agents: set[str | None] = set()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.user_agents.add(self.headers.get("User-Agent"))
                found = site.answer_for(self.headers.get("Host", ""), self.path)
                if found is None or isinstance(found, int):
                    self.send_response(found or 404)
                    self.end_headers()
                    return
                content_type, body, *extra = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                for name, value in extra[0] if extra else ():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer_for(self, host: str, raw_path: str) -> tuple[str, bytes] | tuple[str, bytes, list[tuple[str, str]]] | int | None:
        """The answer for a request to ``host`` (the Host header, with its port); by path alone."""
        return self.answer(raw_path)

    def answer(self, raw_path: str) -> tuple[str, bytes] | tuple[str, bytes, list[tuple[str, str]]] | int | None:
        """Content type and body for a request path (with its query), or None for a 404."""
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
