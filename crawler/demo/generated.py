"""A generated news site of any size on 127.0.0.1, for crash tests and benchmarks.

Every article has its own deterministic text (so no two are near-duplicates), a JSON-LD
``NewsArticle`` block and a date; section pages list 50 articles each and link to the next page.
Pages are rendered on request, so a 10,000-page site costs no memory up front.
"""

from __future__ import annotations

import collections
import json
import random
import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["GeneratedSite"]

_WORDS = (
    "council harbour river budget station library market school hospital bridge election vote tram "
    "farmers museum festival storm court police minister company workers union airport railway "
    "village mayor report survey scientists water energy housing rent prices winter summer coast "
    "island forest factory plans delay protest agreement record season team coach players crowd "
    "history archive theatre concert street district residents families children teachers nurses "
    "doctors patients visitors tourists engineers builders drivers passengers ferry road tunnel "
    "northern southern eastern western local regional national new old small large early late "
    "announced confirmed rejected approved opened closed launched expanded reduced warned said"
).split()
PER_PAGE = 50
_FIRST_PARAGRAPH = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)
_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_EPOCH = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 18))]
    return " ".join(words).capitalize() + "."


def article_text(number: int) -> tuple[str, list[str]]:
    """The headline and paragraphs of article ``number``; the same every time."""
    rng = random.Random(number)
    headline = f"Story {number}: " + " ".join(rng.choice(_WORDS) for _ in range(6))
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(3, 5))) for _ in range(rng.randint(5, 8))]
    return headline, paragraphs


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Headers and body leave in separate writes: without TCP_NODELAY each response waits out a
    # delayed ACK (about 40 ms), which would make the server, not the crawler, the bottleneck.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: callers count requests through ``GeneratedSite.hits``."""

    def do_GET(self) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        with site.lock:
            site.hits += 1
            site.clients[self.client_address[0]] += 1
        page = site.render(path)
        if site.latency:
            time.sleep(site.latency)
        if page is None:
            body, status, content_type = b"<html><body>Not found</body></html>", 404, "text/html; charset=utf-8"
        else:
            body, content_type = page
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog of 5 overflows under a crawler's burst of connections;
    # the kernel then drops SYNs and the client retries a second later, stalling the crawl.
    request_queue_size = 128
    site: GeneratedSite


class GeneratedSite:
    """``with GeneratedSite(pages=1000) as site: site.base_url``; ``site.hits`` counts requests,
    ``site.clients`` them by the client's address."""

    def __init__(
        self, pages: int = 1000, port: int = 0, bodies: Sequence[bytes] = (), host: str = "127.0.0.1",
        latency: float = 0.0,
    ):
        """``bodies``: real article pages to serve instead of generated ones (article ``n`` gets
        ``bodies[n % len(bodies)]`` with ``n`` written into its first paragraph, so no two URLs
        serve the same text) — for benchmarks that need real pages' size and structure.
        ``latency``: seconds every response waits before it is sent, as a distant site's round
        trips and server make a crawler wait (a crawl of 127.0.0.1 otherwise waits on nothing)."""
        self.pages = pages
        self.latency = latency
        self.bodies = tuple(bodies)
        self.hits = 0
        self.clients: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.site = self
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="generated-site", daemon=True)

    def __enter__(self) -> GeneratedSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def article_url(self, number: int) -> str:
        return f"{self.base_url}/news/{number}"

    def render(self, path: str) -> tuple[bytes, str] | None:
        if path == "/robots.txt":
            return f"User-agent: *\nDisallow: /private/\nSitemap: {self.base_url}/sitemap.xml\n".encode(), "text/plain"
        if path == "/sitemap.xml":
            return self._sitemap(), "application/xml"
        if path in ("/", "/latest"):
            return self._listing(1), "text/html; charset=utf-8"
        if path.startswith("/latest/") and path[8:].isdigit():
            return self._listing(int(path[8:])), "text/html; charset=utf-8"
        if path.startswith("/news/") and path[6:].isdigit() and 1 <= int(path[6:]) <= self.pages:
            number = int(path[6:])
            if self.bodies:
                body = _FIRST_PARAGRAPH.sub(
                    lambda m: m[0] + f"Dispatch {number}. ".encode(), self.bodies[number % len(self.bodies)], count=1
                )
                # The page's own relative links belong to its original site, not to this one.
                return _HEAD.sub(lambda m: m[0] + b'<base href="https://original-site.invalid/">', body, count=1), "text/html"
            return self._article(number), "text/html; charset=utf-8"
        return None

    def _listing(self, page: int) -> bytes:
        first = (page - 1) * PER_PAGE + 1
        numbers = range(first, min(first + PER_PAGE, self.pages + 1))
        items = "".join(f'<li><a href="/news/{n}">{article_text(n)[0]}</a></li>' for n in numbers)
        more = f'<a rel="next" href="/latest/{page + 1}">Older stories</a>' if numbers.stop <= self.pages else ""
        return (
            f"<!DOCTYPE html><html lang='en'><head><title>Latest, page {page}</title>"
            f'<meta property="og:type" content="website"></head>'
            f"<body><h1>Latest news</h1><ul>{items}</ul>{more}</body></html>"
        ).encode()

    def _chrome(self, number: int) -> tuple[str, str]:
        """Header and footer like a real news page's: menus, a most-read list, scripts, legal links.

        Real article pages are mostly this (50-150 KB, a few KB of story), and extraction cost
        follows page size, so a benchmark over bare pages would flatter inline extraction.
        """
        rng = random.Random(-number)
        menu = "".join(f'<li><a href="/latest?section={w}">{w.title()}</a></li>' for w in _WORDS[:60])
        most_read = "".join(
            f'<li><a href="/news/{rng.randint(1, self.pages)}">{" ".join(rng.choice(_WORDS) for _ in range(8))}</a></li>'
            for _ in range(40)
        )
        legal = "".join(f'<a href="/about/{w}">{w.title()} policy</a> ' for w in _WORDS[60:100])
        script = "var config = {" + ",".join(f'"{w}": {i}' for i, w in enumerate(_WORDS)) + "};"
        styles = "".join(f".c{i} {{ margin: {i}px; color: #{i:06x}; }}" for i in range(400))
        header = (
            f"<style>{styles}</style><script>{script * 8}</script>"
            f'<header><a href="/">Generated Gazette</a><nav><ul>{menu}</ul></nav>'
            '<div class="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div></header>'
        )
        footer = (
            f'<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>'
            f'<footer><nav><ul>{menu}</ul></nav><nav><ul>{menu}</ul></nav><p>{legal}</p><p>© 2026 Generated Gazette</p></footer>'
        )
        return header, footer

    def _article(self, number: int) -> bytes:
        headline, paragraphs = article_text(number)
        published = _EPOCH + timedelta(hours=number)
        metadata = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": headline,
            "datePublished": published.isoformat(),
            "author": {"@type": "Person", "name": f"Reporter {number % 17}"},
        }
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        header, footer = self._chrome(number)
        return (
            f"<!DOCTYPE html><html lang='en'><head><title>{headline} | Generated Gazette</title>"
            f'<link rel="canonical" href="{self.article_url(number)}">'
            f'<meta property="og:type" content="article">'
            f'<script type="application/ld+json">{json.dumps(metadata)}</script></head>'
            f"<body>{header}<main><article><h1>{headline}</h1>"
            f'<time datetime="{published.isoformat()}">{published:%d %B %Y}</time>{body}</article>'
            f'<a href="/news/{number % self.pages + 1}">Next story</a></main>{footer}</body></html>'
        ).encode()

    def _sitemap(self) -> bytes:
        urls = "".join(f"<url><loc>{self.article_url(n)}</loc></url>" for n in range(1, self.pages + 1))
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()
