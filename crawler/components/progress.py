"""A live view of the crawls of this process on a terminal: pages/s, stored, queued, errors.

Scrapy's ``LogStats`` reports a crawl as a log line once a minute; a person watching a terminal
wants to see it move. ``newsdesk crawl`` and ``newsdesk demo`` turn this on (``NEWSDESK_PROGRESS``)
only when stderr is a terminal, so logs, pipes, cron and scrapyd never get escape codes.

Every crawl of the process (the demo runs five at once) is one line of one display. Scrapy's log
lines keep going to stderr, printed above the display instead of through it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.live import Live
from rich.text import Text
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.components.run import CrawlRun
from storage import frontier

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.task import LoopingCall

__all__ = ["CrawlProgress", "CrawlFigures"]

#: How often a crawl's figures are sampled (the display redraws four times a second).
SAMPLE_SECONDS = 1.0
#: pages/s is the pace over about this long: steadier than the last second's, still current.
RATE_WINDOW_SECONDS = 5.0


@dataclass
class CrawlFigures:
    """What the display shows of one crawl; written on the reactor, read by the display's thread."""

    source: str
    pages: int = 0
    pages_per_second: float = 0.0
    stored: int = 0
    queued: int | None = None
    errors: int = 0
    closed: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """One line as wide as the terminal at most: a long source name is cut, never the figures."""
        queued = "…" if self.queued is None else f"{self.queued:,}"
        figures = Text.assemble(
            f"  {self.pages:,} pages  {self.pages_per_second:.1f} pages/s  {self.stored:,} stored  {queued} queued  ",
            (f"{self.errors:,} errors", "red" if self.errors else ""),
        )
        source = Text(self.source, style="bold")
        source.truncate(max(options.max_width - figures.cell_len, 8), overflow="ellipsis")
        yield source + figures


class CrawlProgress:
    """A Scrapy extension sampling its crawl's stats into the process's one live display."""

    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSDESK_PROGRESS"):
            raise NotConfigured  # only on a terminal, turned on by the newsdesk command (no message: not a warning)
        self.crawler = crawler
        self.stats = crawler.stats
        self.figures: CrawlFigures | None = None
        self.ticker: LoopingCall | None = None
        self.pages_seen: deque[tuple[float, int]] = deque()
        #: The latest count of the source's waiting URLs, asked of the run's database thread.
        self.queue_count: Future[int] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        return cls(crawler)

    def spider_opened(self, spider) -> None:
        from twisted.internet import task

        self.run = CrawlRun.of(self.crawler)
        self.figures = CrawlFigures(source=self.run.source or spider.name)
        DISPLAY.add(self.figures)
        self.ticker = task.LoopingCall(self.sample)
        self.ticker.start(SAMPLE_SECONDS, now=True)

    def spider_closed(self, spider, reason: str) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if self.figures is None:
            return
        self.sample()
        if self.run.sessions is not None and self.run.source is not None:
            # What is left for the next run: counted here, as the run's database thread may be gone.
            self.figures.queued = self._waiting_urls()
        self.figures.closed = True
        DISPLAY.crawl_finished()

    def sample(self) -> None:
        stats = self.stats.get_stats()
        figures = self.figures
        now = time.monotonic()
        figures.pages = stats.get("response_received_count", 0)
        self.pages_seen.append((now, figures.pages))
        while len(self.pages_seen) > 2 and now - self.pages_seen[1][0] >= RATE_WINDOW_SECONDS:
            self.pages_seen.popleft()
        (then, pages_then) = self.pages_seen[0]
        figures.pages_per_second = (figures.pages - pages_then) / (now - then) if now > then else 0.0
        figures.stored = stats.get("newsdesk/outcome/stored", 0) + stats.get("newsdesk/outcome/updated", 0)
        # Pages that failed (HTTP errors, refused connections) and faults of newsdesk's own code.
        figures.errors = stats.get("newsdesk/outcome/error", 0) + stats.get("newsdesk/errors", 0)
        self._count_queue()

    def _count_queue(self) -> None:
        """Read the last count if it came back, and ask again: one question in flight at a time,
        queued behind the frontier's own work, so the display never slows the crawl."""
        if self.queue_count is not None:
            if not self.queue_count.done():
                return
            if self.queue_count.exception() is None:
                self.figures.queued = self.queue_count.result()
            self.queue_count = None
        if self.run.sessions is None or self.run.source is None or self.run.database_closed:
            return
        try:
            self.queue_count = self.run.database.submit(self._waiting_urls)
        except RuntimeError:  # the run shut its database thread down in the meantime
            self.queue_count = None

    def _waiting_urls(self) -> int:  # in the run's database thread, or as the crawl closes
        with self.run.sessions() as session:
            counts = frontier.frontier_counts(session, self.run.source)
        return counts.get(frontier.PENDING, 0) + counts.get(frontier.LEASED, 0)


class _Display:
    """The one live display of the process, on stderr, while any crawl with progress is open."""

    def __init__(self) -> None:
        self.crawls: list[CrawlFigures] = []
        self.live: Live | None = None
        #: Log handlers writing to the real stderr, pointed at the display's while it is up.
        self.log_handlers: list[logging.StreamHandler] = []

    def __rich__(self) -> Group:
        return Group(*list(self.crawls))

    def add(self, figures: CrawlFigures) -> None:
        self.crawls.append(figures)
        if self.live is not None:
            return
        stderr = sys.stderr
        self.live = Live(self, console=Console(file=stderr), refresh_per_second=4, redirect_stderr=True)
        self.live.start()
        # Scrapy's log handler holds the stderr it was made with; through the display's stderr
        # its lines are printed above the crawl lines, not across them.
        self.log_handlers = [
            handler
            for handler in logging.getLogger().handlers
            if type(handler) is logging.StreamHandler and handler.stream is stderr
        ]
        for handler in self.log_handlers:
            handler.setStream(sys.stderr)

    def crawl_finished(self) -> None:
        """The last crawl to finish takes the display down, leaving the final figures on screen."""
        if self.live is None or not all(crawl.closed for crawl in self.crawls):
            return
        self.live.stop()
        for handler in self.log_handlers:
            handler.setStream(sys.stderr)
        self.live, self.log_handlers, self.crawls = None, [], []


DISPLAY = _Display()
