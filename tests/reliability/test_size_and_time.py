"""Bodies too big, too slow or never sent, and robots.txt that fails: one crawl with a 3 s timeout.

Every case is refused with a reason in the crawl log, the crawl process stays under its memory
budget, and each case's normal article is still stored.
"""

from __future__ import annotations

import functools
import time
import zlib

import pytest

from reliability_kit import HostileServer, assert_crawl_went_on, listing_html, own_index, run_crawl

pytestmark = pytest.mark.reliability

MB = 1024 * 1024
#: The crawl with a 10 MB DOWNLOAD_MAXSIZE and a 1 GiB gzip bomb must stay below this.
RSS_BUDGET_MB = 300
CASES = ["big-length", "big-no-length", "gzip-bomb", "gzip-sitemap", "trickle", "no-headers"]


@functools.cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of zeros (one gzip member, as a real bomb is)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join([*(compressor.compress(zeros) for _ in range(1024)), compressor.flush()])


def _big(handler, rest: str, *, with_length: bool) -> None:
    if rest != "bad":
        return handler.send(404)
    chunk = b"<p>" + b"x" * (MB - 7) + b"</p>\n"
    handler.stream((chunk for _ in range(50)), length=50 * MB if with_length else None)


def _gzip_bomb(handler, rest: str) -> None:
    handler.send(200, gzip_bomb(), "text/html", Content_Encoding="gzip")


@own_index
def _gzip_sitemap(handler, rest: str) -> None:
    if rest == "":
        return handler.send(200, listing_html(["ok"]))
    handler.send(200, gzip_bomb(), "application/x-gzip")


def _trickle(handler, rest: str) -> None:
    def drip():
        for byte in b"<html><body>" + b"." * 200:
            yield bytes([byte])
            time.sleep(0.5)

    handler.stream(drip())


def _no_headers(handler, rest: str) -> None:
    time.sleep(12)  # longer than the crawl's timeout (and its retry); never writes a byte


def _robots_503(handler, rest: str) -> None:
    handler.send(503, b"busy", "text/plain")


def _robots_timeout(handler, rest: str) -> None:
    time.sleep(12)


def _robots_5mb(handler, rest: str) -> None:
    head = b"User-agent: *\nDisallow: /c/robots-5mb/bad\n"
    filler = b"# " + b"padding " * 12 + b"\n"
    tail = b"User-agent: *\nDisallow: /c/robots-5mb/ok\n"  # past the cap: must be ignored
    handler.send(200, head + filler * (5 * MB // len(filler)) + tail, "text/plain")


@pytest.fixture(scope="module")
def servers():
    with (
        HostileServer() as main,
        HostileServer(robots=_robots_503) as r503,
        HostileServer(robots=_robots_timeout) as rtimeout,
        HostileServer() as r5mb,
    ):
        main.routes.update(
            {
                "big-length": functools.partial(_big, with_length=True),
                "big-no-length": functools.partial(_big, with_length=False),
                "gzip-bomb": _gzip_bomb,
                "gzip-sitemap": _gzip_sitemap,
                "trickle": _trickle,
                "no-headers": _no_headers,
            }
        )
        main.sitemaps.append(main.case_url("gzip-sitemap", "sitemap.xml.gz"))
        r5mb.robots = _robots_5mb
        yield {"main": main, "robots-503": r503, "robots-timeout": rtimeout, "robots-5mb": r5mb}


@pytest.fixture(scope="module")
def crawl(servers, tmp_path_factory):
    gzip_bomb()  # built before the clock starts
    main = servers["main"]
    starts = [main.case_url(case) for case in CASES]
    starts += [servers[name].case_url(name) for name in ("robots-503", "robots-timeout", "robots-5mb")]
    database_url = f"sqlite:///{tmp_path_factory.mktemp('size') / 'crawl.db'}"
    return run_crawl("size-and-time", database_url, starts, {"DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 1})


def _outcome(crawl, url: str) -> tuple[str, str]:
    rows = [row for row in crawl.fetches() if row[0] == url]
    assert rows, f"{url} not in the crawl log"
    return rows[-1][2], rows[-1][3] or ""


def test_crawl_went_on_within_its_memory_budget(crawl, servers, results):
    assert_crawl_went_on(crawl, servers["main"], CASES)
    results.add("size: crawl process peak RSS", f"< {RSS_BUDGET_MB} MB", f"{crawl.peak_rss_mb:.0f} MB in {crawl.seconds:.0f} s")
    assert crawl.peak_rss_mb < RSS_BUDGET_MB


@pytest.mark.parametrize(
    ("case", "expected_outcome", "reason_words"),
    [
        ("big-length", "skipped", "body over 10 MB"),
        ("big-no-length", "skipped", "body over 10 MB"),
        ("gzip-bomb", "skipped", "DOWNLOAD_MAXSIZE"),
        ("trickle", "error", "timeout"),
        ("no-headers", "error", "timeout"),
    ],
)
def test_oversized_and_slow_bodies_are_refused_with_a_reason(crawl, servers, results, case, expected_outcome, reason_words):
    outcome, reason = _outcome(crawl, servers["main"].case_url(case, "bad"))
    results.add(f"size: {case}", f"{expected_outcome} ({reason_words})", f"{outcome}: {reason}")
    assert outcome == expected_outcome
    assert reason_words.lower() in reason.lower()


def test_gzip_sitemap_bomb_is_not_inflated_past_the_limit(crawl, servers, results):
    outcome, reason = _outcome(crawl, servers["main"].case_url("gzip-sitemap", "sitemap.xml.gz"))
    results.add("size: .xml.gz sitemap bomb", "error (not a sitemap)", f"{outcome}: {reason}")
    assert (outcome, reason) == ("error", "not a sitemap")


@pytest.mark.parametrize(("name", "why"), [("robots-503", "HTTP 503"), ("robots-timeout", "DownloadTimeoutError")])
def test_unavailable_robots_txt_refuses_the_host(crawl, servers, results, name, why):
    server = servers[name]
    rows = crawl.fetches_under(server.base_url)
    page_rows = [row for row in rows if not row[0].endswith("/robots.txt")]
    results.add(
        f"protocol: {name}",
        "host refused, 0 page hits",
        f"{len(page_rows)} skipped-by-robots, {server.hits_under('/c/')} page hits",
    )
    assert page_rows and all(row[2] == "skipped-by-robots" for row in page_rows), rows
    assert all(f"robots.txt unavailable ({why}" in row[3] for row in page_rows), rows
    assert server.hits_under("/c/") == 0


def test_five_megabyte_robots_txt_is_read_up_to_the_cap(crawl, servers, results):
    server = servers["robots-5mb"]
    bad, bad_reason = _outcome(crawl, server.case_url("robots-5mb", "bad"))
    ok, _ = _outcome(crawl, server.case_url("robots-5mb", "ok"))
    results.add("protocol: robots.txt 5 MB", "early rule kept, late rule ignored", f"bad: {bad}, ok: {ok}")
    assert bad == "skipped-by-robots" and "robots.txt" in bad_reason
    assert ok == "stored"
