"""Scrapy extensions: resource figures of a crawl, for benchmarks and the reliability suite; a
hang-up that shuts the crawl down like SIGTERM."""

from __future__ import annotations

import json
import resource
import signal
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["HangUpShutdown", "ResourceStats"]


def _rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


class ResourceStats:
    """Writes the crawl process's own CPU time, wall time, peak RSS and RSS at every 500 stored
    items to ``NEWSDESK_RESOURCE_STATS_FILE`` (JSON) when the crawl closes.

    Extraction workers are separate processes, so in pool mode the CPU time here is what the crawl
    process spends outside extraction: the figure that caps how far the pool can scale.
    """

    def __init__(self, crawler: Crawler):
        self.path = crawler.settings.get("NEWSDESK_RESOURCE_STATS_FILE")
        if not self.path:
            raise NotConfigured  # NEWSDESK_RESOURCE_STATS_FILE is not set (no message: Scrapy would log one as a warning)
        self.stats = crawler.stats
        self.items = 0
        self.rss_at: dict[int, int] = {}
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResourceStats:
        return cls(crawler)

    def item_scraped(self, item, response) -> None:
        self.items += 1
        if self.items % 500 == 0:
            self.rss_at[self.items] = _rss_bytes()

    def spider_closed(self, spider, reason: str) -> None:
        figures = {
            "reason": reason,
            "items": self.items,
            "responses": self.stats.get_value("response_received_count", 0),
            "wall_seconds": time.monotonic() - self.started,
            "cpu_seconds": time.process_time() - self.cpu_started,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "final_rss_bytes": _rss_bytes(),
            "rss_at_items": self.rss_at,
        }
        with open(self.path, "w") as handle:
            json.dump(figures, handle)


class HangUpShutdown:
    """SIGHUP (the terminal or SSH session closed) stops the crawl the way SIGTERM does.

    Scrapy handles SIGINT and SIGTERM only, so a hang-up killed the crawl where it stood: its last
    batch unwritten, its run left ``running``. The hang-up is handed to whatever handles SIGTERM at
    that moment (a graceful stop, then, on a second signal, Scrapy's immediate one).
    """

    def __init__(self, crawler: Crawler):
        if not hasattr(signal, "SIGHUP"):
            raise NotConfigured  # no hang-ups on this platform
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HangUpShutdown:
        return cls(crawler)

    def engine_started(self) -> None:
        signal.signal(signal.SIGHUP, _as_termination)


def _as_termination(signum: int, frame) -> None:
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        handler(signum, frame)
