"""HTTP status codes, Retry-After, redirects and absurd URLs: one crawl over a route per case."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from reliability_kit import HostileServer, article_html, assert_crawl_went_on, listing_html, own_index, run_crawl

pytestmark = pytest.mark.reliability

RETRY_AFTER_CAP = 2  # NEWSDESK_MAX_RETRY_AFTER for this crawl
RETRY_AFTER_TIMES = 3


class FlakyOnce:
    """Answers ``status`` with Retry-After the first time, then the article; records when it was hit."""

    def __init__(self, status: int, retry_after: str, number: int, times: int = 1):
        self.status, self.retry_after, self.times, self.number = status, retry_after, times, number
        self.hit_times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, handler, rest: str) -> None:
        with self.lock:
            self.hit_times.append(time.monotonic())
            attempt = len(self.hit_times)
        if attempt <= self.times:
            return handler.send(self.status, b"<html><body>slow down</body></html>", Retry_After=self.retry_after)
        handler.send(200, article_html("flaky", self.number))


def _status(code: int):
    def route(handler, rest: str) -> None:
        handler.send(code, f"<html><body>HTTP {code}</body></html>".encode())

    return route


def _redirect_chain(handler, rest: str) -> None:
    steps = {"bad": "r1", "r1": "r2", "r2": "r3", "r3": "final"}
    if rest in steps:
        return handler.send(301, b"", Location=steps[rest])
    handler.send(200, article_html("chain", 777))


def _redirect_loop(handler, rest: str) -> None:
    handler.send(302, b"", Location={"bad": "loop-a", "loop-a": "loop-b"}.get(rest, "loop-a"))


MANY_PARAMS = "&".join(f"p{i}={i}" for i in range(10_000))


@own_index
def _many_params(handler, rest: str) -> None:
    if rest == "":
        return handler.send(200, listing_html([f"bad?{MANY_PARAMS}", "ok"]))
    handler.send(200, article_html("many-params", 31337))


#: Each Retry-After case on a host of its own (its own loopback address, so its own Scrapy download
#: slot and its own pause): on a shared host one case's pause would delay the other's retry, and a
#: case whose own Retry-After was ignored would still show a long enough gap.
RETRY_AFTER_HOSTS = {
    "retry-after-503": "127.0.0.11",
    "retry-after-429": "127.0.0.12",
    "retry-after-date": "127.0.0.13",
    "retry-after-cap": "127.0.0.14",
}


@pytest.fixture(scope="module")
def servers():
    with contextlib.ExitStack() as stack:
        main, elsewhere = stack.enter_context(HostileServer()), stack.enter_context(HostileServer())
        flaky = {
            "retry-after-503": FlakyOnce(503, "2", 4201),
            "retry-after-429": FlakyOnce(429, "1", 4202),
            "retry-after-date": FlakyOnce(503, "Wed, 21 Oct 2015 07:28:00 GMT", 4203),  # in the past: retry now
            "retry-after-cap": FlakyOnce(503, "86400", 4204, times=100),
        }
        by_case = {}
        for case, host in RETRY_AFTER_HOSTS.items():
            by_case[case] = stack.enter_context(HostileServer(host))
            by_case[case].routes[case] = flaky[case]
        main.routes.update(
            {
                "http-404": _status(404),
                "http-410": _status(410),
                "http-500": _status(500),
                "redirect-chain": _redirect_chain,
                "redirect-loop": _redirect_loop,
                "redirect-offsite": lambda h, rest: h.send(302, b"", Location=elsewhere.case_url("landing", "ok")),
                # A host no domain can have (w3lib 2.6 refuses to build a request for it).
                "redirect-nowhere": lambda h, rest: h.send(301, b"", Location="http://a b.example/story"),
                "many-params": _many_params,
            }
        )
        by_case.update({case: main for case in CASES if case not in by_case})
        yield {"main": main, "elsewhere": elsewhere, "flaky": flaky, "by_case": by_case}


CASES = [
    "http-404", "http-410", "http-500", "retry-after-503", "retry-after-429", "retry-after-date", "retry-after-cap",
    "redirect-chain", "redirect-loop", "redirect-offsite", "redirect-nowhere", "many-params",
]  # fmt: skip


@pytest.fixture(scope="module")
def crawl(servers, tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('protocol') / 'crawl.db'}"
    settings = {"NEWSDESK_MAX_RETRY_AFTER": RETRY_AFTER_CAP, "NEWSDESK_RETRY_AFTER_TIMES": RETRY_AFTER_TIMES, "RETRY_TIMES": 1}
    by_case = servers["by_case"]
    return run_crawl("protocol", database_url, [by_case[case].case_url(case) for case in CASES], settings)


def _last(crawl, url: str) -> tuple[str, str]:
    rows = [row for row in crawl.fetches() if row[0] == url]
    assert rows, f"{url} not in the crawl log"
    return rows[-1][2], rows[-1][3] or ""


def test_protocol_crawl_went_on(crawl, servers):
    by_case = servers["by_case"]
    for server in {id(server): server for server in by_case.values()}.values():
        assert_crawl_went_on(crawl, server, [case for case in CASES if by_case[case] is server])


@pytest.mark.parametrize(("case", "status"), [("http-404", 404), ("http-410", 410), ("http-500", 500)])
def test_error_statuses_are_logged_as_errors(crawl, servers, results, case, status):
    outcome, reason = _last(crawl, servers["main"].case_url(case, "bad"))
    results.add(f"protocol: HTTP {status}", f"error (HTTP {status})", f"{outcome}: {reason}")
    assert (outcome, reason) == ("error", f"HTTP {status}")


@pytest.mark.parametrize(("case", "min_gap"), [("retry-after-503", 2.0), ("retry-after-429", 1.0), ("retry-after-date", 0.0)])
def test_retry_after_pauses_then_the_page_is_stored(crawl, servers, results, case, min_gap):
    # The gap between this case's own two requests, as its own server saw them.
    flaky = servers["flaky"][case]
    outcome, _ = _last(crawl, servers["by_case"][case].case_url(case, "bad"))
    gap = flaky.hit_times[1] - flaky.hit_times[0] if len(flaky.hit_times) > 1 else None
    results.add(
        f"protocol: {case.replace('retry-after-', '')} + Retry-After",
        f"waits >= {min_gap:g} s, then stored",
        f"{len(flaky.hit_times)} hits, waited {gap or 0:.1f} s, {outcome}",
    )
    assert len(flaky.hit_times) == 2
    assert gap is not None and gap >= min_gap - 0.1
    assert outcome == "stored"


def test_retry_after_is_capped_in_length_and_count(crawl, servers, results):
    flaky = servers["flaky"]["retry-after-cap"]
    outcome, reason = _last(crawl, servers["by_case"]["retry-after-cap"].case_url("retry-after-cap", "bad"))
    gaps = [b - a for a, b in zip(flaky.hit_times, flaky.hit_times[1:])]
    results.add(
        "protocol: Retry-After 86400 forever",
        f"{RETRY_AFTER_TIMES + 1} tries, waits <= {RETRY_AFTER_CAP} s",
        f"{len(flaky.hit_times)} tries, longest wait {max(gaps, default=0):.1f} s, {outcome}: {reason}",
    )
    assert len(flaky.hit_times) == RETRY_AFTER_TIMES + 1
    assert max(gaps) < RETRY_AFTER_CAP + 1.5
    assert (outcome, reason) == ("error", "HTTP 503")


def test_redirect_chain_is_followed(crawl, servers, results):
    main = servers["main"]
    stored = main.case_url("redirect-chain", "final") in crawl.article_urls()
    results.add("protocol: redirect chain (4 hops)", "final page stored", "stored" if stored else "not stored")
    assert stored


def test_redirect_loop_ends(crawl, servers, results):
    main = servers["main"]
    outcome, reason = _last(crawl, main.case_url("redirect-loop", "bad"))
    hits = main.hits_under("/c/redirect-loop/loop-")
    results.add("protocol: redirect loop", "ends, an error naming the loop", f"{outcome}: {reason[:60]} ({hits} hits)")
    loop_a, loop_b = main.case_url("redirect-loop", "loop-a"), main.case_url("redirect-loop", "loop-b")
    assert (outcome, reason) == ("error", f"redirect loop: {loop_a} -> {loop_b} -> {loop_a}")
    assert hits <= 6


def test_redirect_to_another_host_is_not_followed_out_of_scope(crawl, servers, results):
    # Logged under the redirect's target, which is what was refused.
    outcome, reason = _last(crawl, servers["elsewhere"].case_url("landing", "ok"))
    hits = servers["elsewhere"].hits_under("/")
    results.add("protocol: redirect to another host", "skipped (out of scope), 0 hits", f"{outcome}: {reason[:50]}, {hits} hits")
    assert outcome == "skipped" and "scope" in reason
    assert hits == 0


def test_redirect_to_no_web_address_is_the_pages_outcome_not_a_fault_of_the_run(crawl, servers, results):
    outcome, reason = _last(crawl, servers["main"].case_url("redirect-nowhere", "bad"))
    results.add("protocol: redirect to 'http://a b.example/'", "skipped, naming it", f"{outcome}: {reason[:60]}")
    assert outcome == "skipped" and "http://a b.example/story" in reason and "no web address" in reason


def test_url_with_ten_thousand_query_parameters_is_not_followed(crawl, servers, results):
    # Over URLLENGTH_LIMIT (2083): not requested, and the crawl log says why.
    prefix = servers["main"].case_url("many-params", "bad")
    logged = [(outcome, reason) for url, _status, outcome, reason in crawl.fetches_under(prefix)]
    hits = servers["main"].hits_under("/c/many-params/bad")
    results.add("protocol: URL with 10,000 params", "skipped (URLLENGTH_LIMIT), 0 hits", f"{logged[:1]}, {hits} hits")
    assert len(logged) == 1 and logged[0][0] == "skipped" and "URLLENGTH_LIMIT" in logged[0][1]
    assert hits == 0
