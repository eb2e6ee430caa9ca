"""The database frontier on SQLite and PostgreSQL: leases, completion, resume and re-opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import frontier
from storage.db import open_database

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def urls(*paths: str, **fields) -> list[frontier.FrontierUrl]:
    return [frontier.FrontierUrl(url=f"https://a.example{p}", **fields) for p in paths]


def test_lease_complete_and_nothing_twice(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        added = frontier.add_urls(s, "a", urls("/1", "/2", "/3"), run_id=1, now=T0)
        assert len(added) == 3
        assert frontier.add_urls(s, "a", urls("/1"), run_id=1, now=T0 + timedelta(seconds=1)) == []
    with sessions.begin() as s:
        first = frontier.lease(s, "a", owner="w1", limit=2, lease_seconds=60, now=T0)
        second = frontier.lease(s, "a", owner="w2", limit=5, lease_seconds=60, now=T0)
    assert len(first) == 2 and len(second) == 1
    assert {u.url for u in first}.isdisjoint(u.url for u in second)
    with sessions.begin() as s:
        for leased in first + second:
            frontier.complete(s, "a", leased.url, outcome="stored", run_id=1, now=T0)
        assert not frontier.has_pending(s, "a", now=T0)
        assert frontier.frontier_counts(s, "a") == {"done": 3}


def test_expired_and_orphaned_leases_come_back(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", urls("/1", "/2"), run_id=1, now=T0)
        frontier.lease(s, "a", owner="host:1:1", limit=1, lease_seconds=60, now=T0)
        frontier.lease(s, "a", owner="gone:2:1", limit=1, lease_seconds=3600, now=T0)
        # The first lease expires; the second's owner is known to be dead.
        assert [
            u.url for u in frontier.lease(s, "a", owner="w", limit=5, lease_seconds=60, now=T0 + timedelta(minutes=5))
        ] == ["https://a.example/1"]
        assert frontier.reclaim_orphaned(s, "a", is_alive=lambda owner: not owner.startswith("gone")) == 1
        assert frontier.has_pending(s, "a", now=T0 + timedelta(minutes=5))


def test_a_later_run_reopens_hubs_and_changed_articles_only(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", urls("/home", "/sitemap.xml", "/story", "/other"), run_id=1, now=T0)
        frontier.add_urls(s, "a", urls("/story", lastmod=T0 - timedelta(days=1)), run_id=1, now=T0)
        for url, outcome in (("/home", "not-an-article"), ("/story", "stored"), ("/other", "stored")):
            frontier.complete(s, "a", f"https://a.example{url}", outcome=outcome, run_id=1, now=T0)
        frontier.complete(s, "a", "https://a.example/sitemap.xml", outcome="not-an-article", run_id=1, now=T0)
    later = T0 + timedelta(hours=1)
    with sessions.begin() as s:
        reopened = frontier.add_urls(s, "a", urls("/home", "/other"), run_id=2, now=later)
        reopened += frontier.add_urls(s, "a", urls("/sitemap.xml", kind="sitemap"), run_id=2, now=later)
        # The sitemap now dates the story after the date it gave before: it changed.
        reopened += frontier.add_urls(s, "a", urls("/story", lastmod=T0 - timedelta(hours=2)), run_id=2, now=later)
    assert sorted(reopened) == ["https://a.example/home", "https://a.example/sitemap.xml", "https://a.example/story"]
    with sessions.begin() as s:
        # A recrawl interval re-opens stored articles older than it.
        assert frontier.add_urls(s, "a", urls("/other"), run_id=3, recrawl_after=timedelta(minutes=30), now=later) == [
            "https://a.example/other"
        ]


def _open_scheduler(database_url: str):
    """A frontier scheduler opened for a crawl of https://a.example/, as the engine opens it."""
    from scrapy.utils.test import get_crawler

    from crawler.frontier import FrontierScheduler
    from crawler.spiders.news import NewsSpider

    crawler = get_crawler(
        NewsSpider, {"NEWSDESK_DATABASE_URL": database_url, "EXTENSIONS": {"crawler.components.run.CrawlRun": 0}}
    )
    crawler.spider = NewsSpider.from_crawler(crawler, start_urls="https://a.example/")
    crawler.stats.open_spider()
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return crawler, scheduler


def test_scheduler_writes_discovered_urls_in_one_go_before_pages_are_marked_done(database_url):
    from scrapy import Request

    from crawler.frontier import WRITE_CHUNK, frontier_sync

    crawler, scheduler = _open_scheduler(database_url)
    # More than one INSERT's worth, as a large sitemap gives.
    found = [f"https://a.example/news/{n}" for n in range(WRITE_CHUNK + 20)]
    for url in found:
        assert scheduler.enqueue_request(Request(url, meta={"kind": "page"}))
    assert not scheduler.enqueue_request(Request(found[0], meta={"kind": "page"}))  # known to this crawl
    sessions = open_database(database_url)
    with sessions.begin() as s:
        assert frontier.frontier_counts(s, "a.example") == {}
    # What the store pipeline sends, and waits for, before it hands a batch of fetched pages to storage.
    [(_, written)] = crawler.signals.send_catch_log(frontier_sync)
    assert written.result(timeout=60) is True
    with sessions.begin() as s:
        assert frontier.frontier_counts(s, "a.example") == {"pending": len(found)}
    assert crawler.stats.get_value("newsdesk/frontier/added") == len(found)
    scheduler.close("finished")


def test_discovered_urls_that_fail_to_be_written_are_kept_or_recorded_never_dropped(database_url, monkeypatch):
    """A write of discovered URLs that raises (not a database outage) must not lose the batch it
    took off its list: the URLs are written one by one, and the one that cannot be is an error of
    the run, with its URL in the crawl log."""
    from scrapy import Request

    from crawler.components.run import CrawlRun
    from crawler.frontier import frontier_sync
    from storage import runs as run_log

    crawler, scheduler = _open_scheduler(database_url)
    found = [f"https://a.example/news/{n}" for n in range(10)]
    for url in found:
        scheduler.enqueue_request(Request(url, meta={"kind": "page"}))
    add_urls = frontier.add_urls

    def add_urls_failing_on_news_3(session, source, items, **kwargs):
        if any(item.url.endswith("/news/3") for item in items):
            raise TypeError("can't compare offset-naive and offset-aware datetimes")
        return add_urls(session, source, items, **kwargs)

    monkeypatch.setattr(frontier, "add_urls", add_urls_failing_on_news_3)
    [(_, written)] = crawler.signals.send_catch_log(frontier_sync)
    assert written.result(timeout=60) is True  # in the frontier, or recorded as an error
    run = CrawlRun.of(crawler)
    sessions = open_database(database_url)
    with sessions.begin() as s:
        assert frontier.frontier_counts(s, "a.example") == {"pending": 9}
        errors = run_log.run_fetches(s, run.run_id, outcome="error")
    assert [(e.url, e.reason) for e in errors] == [
        ("https://a.example/news/3", "scheduler: TypeError: can't compare offset-naive and offset-aware datetimes")
    ]
    assert crawler.stats.get_value("newsdesk/errors/scheduler") == 1 and run.errors
    scheduler.close("finished")



def test_frontier_queries_never_run_on_the_reactor_thread(database_url, monkeypatch):
    """The scheduler is called on the reactor thread; every frontier query and write it makes must
    run elsewhere, so a database asleep on a lock cannot stall downloads."""
    import threading

    from scrapy import Request

    from crawler.frontier import frontier_sync

    crawler, scheduler = _open_scheduler(database_url)
    threads: dict[str, set[int]] = {}

    def recorded(name, function):
        def call(*args, **kwargs):
            threads.setdefault(name, set()).add(threading.get_ident())
            return function(*args, **kwargs)

        return call

    for name in ("add_urls", "lease", "has_pending", "reclaim_orphaned", "release"):
        monkeypatch.setattr(frontier, name, recorded(name, getattr(frontier, name)))
    for n in range(5):
        scheduler.enqueue_request(Request(f"https://a.example/news/{n}", meta={"kind": "page"}))
    assert scheduler.next_request() is None  # nothing leased yet: the lease is on its way
    scheduler.refill.result(timeout=60)
    [(_, written)] = crawler.signals.send_catch_log(frontier_sync)
    written.result(timeout=60)
    scheduler.frontier_has_more = False
    scheduler.has_pending_requests()
    scheduler.close("finished")
    assert {"add_urls", "lease"} <= set(threads)
    assert all(threading.get_ident() not in idents for idents in threads.values()), threads


def test_naive_dates_are_read_as_utc_and_never_break_a_batch(database_url):
    """A naive lastmod beside the aware one stored (issue 12, finding 1) used to raise TypeError and
    lose every URL of the batch; the frontier reads it as UTC."""
    naive_day = datetime(2024, 5, 1)
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", urls("/a", "/b", lastmod=naive_day.replace(tzinfo=UTC)), run_id=1, now=T0)
        for path in ("/a", "/b"):
            frontier.complete(s, "a", f"https://a.example{path}", outcome="stored", run_id=1, now=T0)
    with sessions.begin() as s:
        batch = [
            *urls("/a", lastmod=naive_day),  # the same day again, naive: not changed
            *urls("/b", lastmod=naive_day + timedelta(days=1)),  # a day later, naive: changed
            *urls("/new", lastmod=naive_day),
        ]
        reopened = frontier.add_urls(s, "a", batch, run_id=2, now=T0.replace(tzinfo=None) + timedelta(hours=1))
    assert sorted(reopened) == ["https://a.example/b", "https://a.example/new"]


def test_duplicates_and_walls_are_asked_again_on_later_runs(database_url):
    """A URL closed as a copy of another, or answered by a wall, may hold a story never stored."""
    sessions = open_database(database_url)
    paths = ("/copy", "/walled", "/shared-body", "/story")
    outcomes = ("duplicate", "interstitial", "boilerplate", "stored")
    with sessions.begin() as s:
        frontier.add_urls(s, "a", urls(*paths), run_id=1, now=T0)
        for path, outcome in zip(paths, outcomes, strict=True):
            frontier.complete(s, "a", f"https://a.example{path}", outcome=outcome, run_id=1, now=T0)
    for run_id in (2, 3, 4):
        with sessions.begin() as s:
            reopened = frontier.add_urls(s, "a", urls(*paths), run_id=run_id, now=T0 + timedelta(hours=run_id))
            assert sorted(reopened) == [f"https://a.example{p}" for p in ("/copy", "/shared-body", "/walled")]
            for path in ("/copy", "/walled", "/shared-body"):
                outcome = "duplicate" if path == "/copy" else "interstitial"
                frontier.complete(s, "a", f"https://a.example{path}", outcome=outcome, run_id=run_id, now=T0)
    # Found a copy on every look: from then on it is an article like any other (no fetch each run).
    for run_id in (5, 6):
        with sessions.begin() as s:
            reopened = frontier.add_urls(s, "a", urls(*paths), run_id=run_id, now=T0 + timedelta(hours=run_id))
            assert sorted(reopened) == ["https://a.example/shared-body", "https://a.example/walled"]
            for url in reopened:
                frontier.complete(s, "a", url, outcome="interstitial", run_id=run_id, now=T0)
    # A wall on six looks: a site that walls its stories for good is not fetched in full every run.
    with sessions.begin() as s:
        assert frontier.add_urls(s, "a", urls(*paths), run_id=7, now=T0 + timedelta(hours=7)) == []


def test_a_heartbeat_renews_around_a_row_the_batch_writer_holds(postgres_url):
    """The batch writer locks the rows it marks done until its batch commits; the heartbeat must
    renew the worker's other leases meanwhile, not wait behind the batch."""
    import sqlalchemy as sa

    sessions = open_database(postgres_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", urls("/1", "/2", "/3"), run_id=1, now=T0)
        frontier.lease(s, "a", owner="w", limit=3, lease_seconds=60, now=T0)
    with sessions.begin() as writer:
        frontier.complete(writer, "a", "https://a.example/1", outcome="stored", run_id=1, now=T0)
        with sessions.begin() as heartbeat:
            heartbeat.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            assert frontier.renew(heartbeat, "a", "w", lease_seconds=60, now=T0 + timedelta(seconds=30)) == 2
    with sessions() as s:
        expiries = dict(s.execute(sa.text("SELECT url, lease_expires_at FROM frontier WHERE state = 'leased'")).all())
    assert set(expiries) == {"https://a.example/2", "https://a.example/3"}
    assert set(expiries.values()) == {T0 + timedelta(seconds=90)}
    sessions.kw["bind"].dispose()


def test_the_check_for_more_urls_rides_out_a_database_outage(database_url, monkeypatch):
    """With nothing to lease, the scheduler asks whether more may come; a restart of the database
    at that moment is an outage to retry, as the lease is, not the end of the crawl."""
    import psycopg
    import sqlalchemy as sa

    crawler, scheduler = _open_scheduler(database_url)
    asked = []
    has_pending = frontier.has_pending

    def restart_once(session, source, **kwargs):
        asked.append(source)
        if len(asked) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))
        return has_pending(session, source, **kwargs)

    monkeypatch.setattr(frontier, "has_pending", restart_once)
    rows, more, _ = scheduler._lease(0)
    assert (rows, more) == ([], False) and len(asked) == 2
    assert not scheduler.database_failed
    scheduler.close("finished")
