"""The web view running for tests: uvicorn in a thread on a free loopback port, over a store
crawled from the demo web (both editions, so one story has two versions) and a hostile site."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from support.loopback import PageServer

from crawler.demo import DemoWeb
from crawler.demo.generated import article_text
from crawler.web.app import create_app
from storage.db import open_read_only

__all__ = ["HOSTILE_BODY", "HOSTILE_TITLE", "HostileSite", "crawl_into", "crawled_store", "serving"]

REPO = Path(__file__).resolve().parents[2]

#: What a hostile site puts in its headline and body: a script, and an element with an event handler.
HOSTILE_TITLE = "Harbour tolls <script>alert('title')</script><img src=x id=injected-title onerror=alert('img')>"
HOSTILE_BODY = "Readers wrote <b id=injected-body onmouseover=alert('b')>bold</b><script>alert('body')</script> today."


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HostileSite(PageServer):
    """One article whose headline and first paragraph carry markup as text (as a page shows it)."""

    def answer(self, raw_path: str) -> tuple[str, bytes] | None:
        path = urlsplit(raw_path).path
        if path == "/":
            return "text/html", b"<html><body><a href='/news/harbour-tolls'>Harbour tolls</a></body></html>"
        if path != "/news/harbour-tolls":
            return None
        _, paragraphs = article_text(7)
        body = f"<p>{_escaped(HOSTILE_BODY)}</p>" + "".join(f"<p>{p}</p>" for p in paragraphs)
        return "text/html; charset=utf-8", (
            f"<html lang='en'><head><title>{_escaped(HOSTILE_TITLE)}</title><meta property='og:type' content='article'>"
            "<meta property='article:published_time' content='2026-11-02T08:00:00+00:00'></head>"
            f"<body><article><h1>{_escaped(HOSTILE_TITLE)}</h1>{body}</article></body></html>"
        ).encode()


def crawl_into(database_url: str, source: str, start_url: str) -> None:
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={start_url}", "-a", f"source={source}",
        "-s", f"NEWSDESK_DATABASE_URL={database_url}", "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "NEWSDESK_EXTRACT_WORKERS=1",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def crawled_store(database_url: str) -> str:
    """Crawls the demo web's first edition, the hostile site, then the second edition into the store.

    Returns the demo's base URL (its articles' URLs start with it).
    """
    with DemoWeb() as demo:
        for name, url in demo.site_urls.items():  # one source a site, as `newsdesk demo` crawls them
            crawl_into(database_url, name, url)
        with HostileSite() as hostile:
            crawl_into(database_url, "hostile", f"{hostile.base}/")
        demo.publish_next_edition()
        for name, url in demo.site_urls.items():
            crawl_into(database_url, name, url)
        return demo.base_url


@contextlib.contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The web view over ``database_url`` (read-only), at the returned base URL, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(open_read_only(database_url)), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:  # startup, not a measured wait: nothing is asserted on it
        if not thread.is_alive():
            raise RuntimeError("the web view did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
