"""The reliability suite's machinery (imported as ``reliability_kit``; conftest.py wires it into pytest): a hostile loopback server, a crawl runner, a results table.

``HostileServer`` is one ThreadingHTTPServer on 127.0.0.1 with a route per case: every case lives
under ``/c/<case>/``, where ``/c/<case>/`` is a listing that links to the case's hostile URL
(``bad``) and to a normal article (``ok``). The article is how each case shows the crawl went on.
Every request is counted per path, so a test can assert that something was never fetched.

Each test reports a row to the session's ``Results``; ``pytest_terminal_summary`` prints them as
one table with totals (inputs tried, crawl crashes, articles lost, stories stored twice (by
content, see ``support.stories``), requests to forbidden addresses, peak memory).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from crawler.demo.generated import article_text
from support.stories import duplicate_stories

REPO = Path(__file__).resolve().parents[2]
#: Log lines that mean the crawl itself broke on an input (not an input refused with a reason):
#: every way Scrapy (scrapy/core/scraper.py, engine.py, logformatter.py, utils/signal.py), Twisted
#: and asyncio report an exception nobody handled, and any traceback. Not matched: what the crawl
#: logs on purpose about a bad input ("Gave up retrying", "robots.txt of ... unavailable", ...).
CRASH_PATTERNS = re.compile(
    r"Spider error processing"  # a callback raised
    r"|\bError processing "  # an item pipeline raised
    r"|Scraper bug processing"
    r"|Error caught on signal handler|Cannot return deferreds from signal handler"
    r"|Error downloading <"  # logged only when the request's errback did not handle the failure
    r"|\bError while [a-z]"  # the engine: "Error while scheduling new request", "... handling downloader output"
    r"|(?:Slot|Downloader|Scraper|Scheduler) close failure|Stats close failure"
    r"|Error calling the AsyncioLoopingCall function|An error is caught while iterating the async iterable"
    r"|Error running spider_closed_callback"
    r"|Unhandled [Ee]rror"  # Twisted: "Unhandled Error", "Unhandled error in Deferred"
    r"|Exception in callback|(?:Task|Future) exception was never retrieved"  # asyncio
    r"|Traceback \(most recent call last\)"
)

# -- results ------------------------------------------------------------------------------------


@dataclasses.dataclass
class CaseResult:
    case: str
    expected: str
    observed: str
    passed: bool = True


@dataclasses.dataclass
class Results:
    rows: list[CaseResult] = dataclasses.field(default_factory=list)
    crawls: int = 0
    crashes: int = 0
    articles_lost: int = 0
    duplicate_stories: int = 0
    forbidden_requests: int = 0
    peak_rss_mb: dict[str, float] = dataclasses.field(default_factory=dict)
    tree_peak_rss_mb: dict[str, float] = dataclasses.field(default_factory=dict)
    #: Peak memory of the crawl and all its helper processes together (summed PSS).
    tree_sum_peak_mb: dict[str, float] = dataclasses.field(default_factory=dict)

    def add(self, case: str, expected: str, observed: str, passed: bool = True) -> None:
        self.rows.append(CaseResult(case, expected, observed, passed))


#: The session's results: one object however many test modules import this.
RESULTS = Results()


@contextlib.contextmanager
def crawl_database(directory: Path) -> Iterator[str]:
    """Where a case's crawl writes: a schema of its own on PostgreSQL when
    NEWSDESK_TEST_POSTGRES_URL is set (dropped afterwards), else a SQLite file in ``directory``."""
    admin_url = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")
    if not admin_url:
        yield f"sqlite:///{directory / 'crawl.db'}"
        return
    schema = f"newsdesk_reliability_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# -- the hostile server -------------------------------------------------------------------------

Route = Callable[["HostileHandler", str], None]


def article_html(title_seed: str, number: int) -> bytes:
    """A normal news article, unique per ``number``."""
    headline, paragraphs = article_text(number)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{headline}</title><meta property='og:type' content='article'>"
        "<meta property='article:published_time' content='2026-03-01T10:00:00+00:00'></head>"
        f"<body><article><h1>{headline}</h1><p>By Case Reporter ({title_seed})</p>{body}</article></body></html>"
    ).encode()


def listing_html(links: list[str], head: str = "") -> bytes:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!DOCTYPE html><html><head><title>Index</title><meta property='og:type' content='website'>{head}</head>"
        f"<body><ul>{items}</ul></body></html>"
    ).encode()


class HostileHandler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet; requests are counted in ``HostileServer.hits``."""

    def send(self, status: int, body: bytes = b"", content_type: str | None = "text/html; charset=utf-8", **headers: str) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if "Content-Length" not in headers and "no_length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        headers.pop("no_length", None)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def stream(self, chunks, status: int = 200, content_type: str = "text/html", length: int | None = None) -> None:
        """Send chunks; without ``length`` the body ends when the connection closes."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
        except OSError:
            pass  # the crawler hung up: that is what a size limit does

    def do_GET(self) -> None:
        server = self.server
        path = urlsplit(self.path).path
        with server.lock:
            server.hits[path] += 1
        try:
            server.dispatch(self, path)
        except OSError:
            pass


class HostileServer(ThreadingHTTPServer):
    """``routes`` maps a case name to ``fn(handler, rest)``; ``rest`` is the path after ``/c/<case>/``."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", robots: Route | None = None):
        super().__init__((host, 0), HostileHandler)
        self.lock = threading.Lock()
        self.hits: collections.Counter[str] = collections.Counter()
        self.routes: dict[str, Route] = {}
        self.robots = robots
        self.sitemaps: list[str] = []
        self.base_url = f"http://{host}:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, name=f"hostile-{host}", daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def case_url(self, case: str, rest: str = "") -> str:
        return f"{self.base_url}/c/{case}/{rest}"

    def hits_under(self, prefix: str) -> int:
        with self.lock:
            return sum(count for path, count in self.hits.items() if path.startswith(prefix))

    def dispatch(self, handler: HostileHandler, path: str) -> None:
        if path == "/robots.txt":
            if self.robots is not None:
                return self.robots(handler, "")
            lines = "".join(f"Sitemap: {url}\n" for url in self.sitemaps)
            return handler.send(200, f"User-agent: *\nDisallow: /private/\n{lines}".encode(), "text/plain")
        match = re.fullmatch(r"/c/([^/]+)/(.*)", path)
        if not match:
            return handler.send(404, b"<html><body>not found</body></html>")
        case, rest = match.groups()
        if rest == "ok":
            return handler.send(200, article_html(case, case_number(case)))
        route = self.routes.get(case)
        if rest == "" and (route is None or not getattr(route, "own_index", False)):
            return handler.send(200, listing_html(["bad", "ok"]))
        if route is None:
            return handler.send(404, b"<html><body>not found</body></html>")
        return route(handler, rest)


def case_number(case: str) -> int:
    """A stable article number per case (so every case's article has its own text)."""
    return zlib.crc32(case.encode()) % 1_000_000 + 10_000


def own_index(route: Route) -> Route:
    """Marks a route that serves its own ``/c/<case>/`` listing."""
    route.own_index = True  # type: ignore[attr-defined]
    return route


# -- running crawls -----------------------------------------------------------------------------


@dataclasses.dataclass
class Crawl:
    returncode: int
    stderr: str
    peak_rss_mb: float
    seconds: float
    database_url: str
    tree_peak_rss_mb: float = 0.0
    #: The crawl's whole tree (crawl, fork server, workers, writer, resource tracker), summed PSS.
    tree_sum_peak_mb: float = 0.0

    @property
    def crash_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if CRASH_PATTERNS.search(line)]

    def fetches(self) -> list[tuple[str, int | None, str, str | None]]:
        """(url, status, outcome, reason) of every fetch logged by the crawl runs."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text("SELECT url, status, outcome, reason FROM fetch_log ORDER BY id"))]
        finally:
            engine.dispose()

    def fetches_under(self, prefix: str) -> list[tuple[str, int | None, str, str | None]]:
        return [row for row in self.fetches() if row[0].startswith(prefix)]

    def article_urls(self) -> list[str]:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [row[0] for row in conn.execute(sa.text("SELECT canonical_url FROM articles"))]
        finally:
            engine.dispose()

    def stats(self) -> dict[str, str]:
        """Scrapy's closing stats dump, read back from the log (only the newsdesk/ and count keys)."""
        return dict(re.findall(r"'([\w/.-]+)': (\d+)", self.stderr))


def run_crawl(
    name: str,
    database_url: str,
    start_urls: list[str],
    settings: dict[str, object] | None = None,
    timeout: float = 180,
    max_file_bytes: int | None = None,
    fault_expected: bool = False,
) -> Crawl:
    """``scrapy crawl news`` in a subprocess, its peak RSS polled from /proc while it runs.

    ``max_file_bytes`` sets RLIMIT_FSIZE on the crawl: writes past it fail with EFBIG, which SQLite
    reports as an I/O error (Python ignores SIGXFSZ): a disk filling up mid-crawl.
    ``fault_expected``: errors logged by this crawl are the injected fault's, not crashes.
    """
    merged: dict[str, object] = {
        "NEWSDESK_DATABASE_URL": database_url,
        "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": "false",
        "AUTOTHROTTLE_ENABLED": "false",
        "NEWSDESK_EXTRACT_WORKERS": 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "NEWSDESK_STORE_FLUSH_SECONDS": 1,
        "LOG_LEVEL": "INFO",
        **(settings or {}),
    }
    if not database_url.startswith("sqlite") and "NEWSDESK_ARCHIVE_DIR" not in merged:
        # PostgreSQL's default archive is the working directory: the checkout, here.
        merged["NEWSDESK_ARCHIVE_DIR"] = tempfile.mkdtemp(prefix="newsdesk-archive-")
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "start_urls=" + ",".join(start_urls)]
    for key, value in merged.items():
        command += ["-s", f"{key}={value}"]
    started = time.monotonic()

    def limit_files() -> None:
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    # stderr through a pipe (not a file): RLIMIT_FSIZE must not cut the crawl's own log.
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit_files)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: process.stderr.read(65536), b"")), daemon=True)
    reader.start()
    deadline = started + timeout
    crawl_peak_kb = tree_sum_peak_kb = 0
    while True:
        crawl_peak_kb = max(crawl_peak_kb, _peak_rss_kb(process.pid))
        tree_sum_peak_kb = max(tree_sum_peak_kb, sum(map(_pss_kb, {process.pid} | descendants(process.pid))))
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    process.stderr.close()
    stderr = b"".join(chunks).decode("utf-8", "replace")
    # The crawl process's own peak (VmHWM, polled); wait4's figure is the largest process in its
    # tree, which includes extraction workers chewing on hostile pages.
    crawl = Crawl(
        process.returncode, stderr, crawl_peak_kb / 1024, time.monotonic() - started, database_url, usage.ru_maxrss / 1024,
        tree_sum_peak_kb / 1024,
    )
    RESULTS.crawls += 1
    RESULTS.peak_rss_mb[name] = max(RESULTS.peak_rss_mb.get(name, 0.0), crawl.peak_rss_mb)
    RESULTS.tree_peak_rss_mb[name] = max(RESULTS.tree_peak_rss_mb.get(name, 0.0), crawl.tree_peak_rss_mb)
    RESULTS.tree_sum_peak_mb[name] = max(RESULTS.tree_sum_peak_mb.get(name, 0.0), crawl.tree_sum_peak_mb)
    if not fault_expected and (crawl.returncode != 0 or crawl.crash_lines):
        RESULTS.crashes += 1
    return crawl


def _peak_rss_kb(pid: int) -> int:
    """VmHWM (peak resident set) of a running process, in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size of a running process, in KiB (0 once it is gone): its resident pages,
    each page shared with N processes counted 1/N. Summed over a tree, shared pages count once:
    workers forked from the fork server share most of its 175 MB, which summed RSS counts thrice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, found through Linux's /proc children lists."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    for child in map(int, children.read().split()):
                        if child not in found:
                            found.add(child)
                            pending.append(child)
            except OSError:
                continue
    return found


def assert_crawl_went_on(crawl: Crawl, server: HostileServer, cases: list[str]) -> None:
    """The crawl exited cleanly, broke on nothing, and stored every case's normal article, each story once."""
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert not crawl.crash_lines, "\n".join(crawl.crash_lines[:10])
    stored = set(crawl.article_urls())
    lost = [case for case in cases if server.case_url(case, "ok") not in stored]
    RESULTS.articles_lost += len(lost)
    duplicates = duplicate_stories(crawl.database_url)
    RESULTS.duplicate_stories += duplicates
    assert not lost, f"normal articles not stored for: {lost}"
    assert duplicates == 0
