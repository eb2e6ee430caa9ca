"""Small news sites on loopback addresses of their own that log when each request arrives and ends.

Each site is one host (127.0.0.N, so Scrapy gives each its own download slot, as for separate
machines): a home page linking to its stories, each story a plain article page, and a robots.txt.
Every answer is held ``hold`` seconds, so requests that may overlap do. One story can answer 429
with ``Retry-After`` once, the first time it is asked for.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Arrival", "TimedHost"]

WORDS = (
    "harbour council budget river bridge school station market winter library museum festival road "
    "tram election mayor hospital garden storm flood theatre farmers rail ferry housing park court "
    "science university workers museum strike energy wind solar village coast fishing tourism"
).split()


@dataclass(frozen=True)
class Arrival:
    """One request as the site saw it: its path, when it arrived and when its answer was sent
    (``time.monotonic()`` of the test process), and the status it got."""

    path: str
    arrived: float
    ended: float
    status: int


def _story(host: int, number: int) -> bytes:
    rng = random.Random(host * 1000 + number)
    title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>" for _ in range(6)
    )
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<time datetime='2026-11-{1 + number % 28:02d}'>November {1 + number % 28}, 2026</time>"
        f"{paragraphs}</article></body></html>"
    ).encode()


class TimedHost:
    """A site on ``address`` (default ``127.0.0.{index + 2}``) with ``stories`` stories; ``robots``
    is its robots.txt."""

    def __init__(self, index: int, *, stories: int, hold: float, robots: str = "User-agent: *\nAllow: /\n",
                 retry_after: tuple[str, int] | None = None, address: str | None = None):
        self.index = index
        self.stories = stories
        self.hold = hold
        self.robots = robots.encode()
        #: (path, seconds): that path answers 429 with this Retry-After the first time.
        self.retry_after = retry_after
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                arrived = time.monotonic()
                status, headers, body = site.answer(self.path)
                if status == 200:
                    time.sleep(site.hold)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                with site.lock:
                    site.arrivals.append(Arrival(self.path, arrived, time.monotonic(), status))

        address = address or f"127.0.0.{index + 2}"
        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://{address}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if path == "/robots.txt":
            return 200, [("Content-Type", "text/plain")], self.robots
        if self.retry_after is not None and path == self.retry_after[0]:
            with self.lock:
                first = not any(a.path == path for a in self.arrivals)
            if first:
                return 429, [("Retry-After", str(self.retry_after[1]))], b""
        html = [("Content-Type", "text/html; charset=utf-8")]
        if path == "/":
            links = "".join(f"<li><a href='/news/story-{n}'>Story {n}</a></li>" for n in range(self.stories))
            return 200, html, f"<html><body><h1>News</h1><ul>{links}</ul></body></html>".encode()
        if path.startswith("/news/story-"):
            number = path.removeprefix("/news/story-")
            if number.isdigit() and int(number) < self.stories:
                return 200, html, _story(self.index, int(number))
        return 404, [], b""

    def __enter__(self) -> TimedHost:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
