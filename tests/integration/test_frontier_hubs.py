"""Hubs are hubs forever: what the frontier re-opens on every run, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage import frontier
from storage.db import open_database
from storage.models import FrontierEntry

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOME = "https://a.example/"


def url(path: str, **fields) -> frontier.FrontierUrl:
    return frontier.FrontierUrl(url=f"https://a.example{path}", **fields)


def fetch(sessions, run_id: int, *, outcome: str = "stored", hub: bool = False, at: datetime = T0) -> list[str]:
    """Leases everything pending and completes it with ``outcome``; returns the URLs fetched."""
    with sessions.begin() as s:
        leased = frontier.lease(s, "a", owner=f"w{run_id}", limit=100, lease_seconds=60, now=at)
        for row in leased:
            frontier.complete(s, "a", row.url, outcome=outcome, run_id=run_id, hub=hub, now=at)
    return sorted(row.url for row in leased)


def row(sessions, path: str) -> FrontierEntry:
    with sessions() as s:
        return s.scalars(sa.select(FrontierEntry).where(FrontierEntry.url == f"https://a.example{path}")).one()


def test_a_start_url_taken_for_an_article_is_fetched_again_next_run(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", [url("/", hub=True), url("/story")], run_id=1, now=T0)
    # Run 1 read both as articles.
    assert fetch(sessions, 1) == [HOME, "https://a.example/story"]
    later = T0 + timedelta(hours=1)
    with sessions.begin() as s:
        # Run 2 starts again from the start URL, and finds the story linked again.
        reopened = frontier.add_urls(s, "a", [url("/", hub=True), url("/story")], run_id=2, now=later)
    assert reopened == [HOME]
    assert row(sessions, "/").hub


def test_a_page_read_for_links_stays_a_hub_whatever_a_later_fetch_says(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", [url("/world/")], run_id=1, now=T0)
    fetch(sessions, 1, outcome="not-an-article", hub=True)
    # Run 2: the section page answers 304 (outcome unchanged, like an article's).
    with sessions.begin() as s:
        assert frontier.reopen_hubs(s, "a", run_id=2) == 1
    fetch(sessions, 2, outcome="unchanged", at=T0 + timedelta(hours=1))
    # Run 3: still a hub, asked again.
    with sessions.begin() as s:
        assert frontier.reopen_hubs(s, "a", run_id=3) == 1
        [leased] = frontier.lease(s, "a", owner="w3", limit=5, lease_seconds=60, now=T0 + timedelta(hours=2))
    assert leased.hub and row(sessions, "/world/").hub


def test_every_hub_is_reopened_at_the_start_of_a_run_and_articles_are_not(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(
            s, "a",
            [url("/", hub=True), url("/feed.xml", kind="feed"), url("/sitemap.xml", kind="sitemap"), url("/story")],
            run_id=1, now=T0,
        )  # fmt: skip
    fetch(sessions, 1)
    with sessions.begin() as s:
        frontier.complete(s, "a", "https://a.example/feed.xml", outcome="not-an-article", run_id=1, etag='"f1"', now=T0)
        # A crawl that resumes within its own run does not fetch its hubs twice.
        assert frontier.reopen_hubs(s, "a", run_id=1) == 0
        assert frontier.reopen_hubs(s, "a", run_id=2) == 3
        leased = {r.url: r for r in frontier.lease(s, "a", owner="w2", limit=10, lease_seconds=60, now=T0)}
    assert set(leased) == {HOME, "https://a.example/feed.xml", "https://a.example/sitemap.xml"}
    assert leased["https://a.example/feed.xml"].etag == '"f1"'


def test_a_linked_url_that_turns_out_to_be_a_feed_becomes_one(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", [url("/rss")], run_id=1, now=T0)
    fetch(sessions, 1, outcome="skipped")
    with sessions.begin() as s:
        # Advertised by the home page of the next run.
        assert frontier.add_urls(s, "a", [url("/rss", kind="feed")], run_id=2, now=T0) == ["https://a.example/rss"]
    assert row(sessions, "/rss").kind == "feed"
    # Once a feed, a later link to it does not make it a page again.
    with sessions.begin() as s:
        frontier.add_urls(s, "a", [url("/rss")], run_id=2, now=T0)
    assert row(sessions, "/rss").kind == "feed"


def test_a_recrawl_interval_reopens_due_articles_without_waiting_for_a_hub_to_list_them(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", [url("/old"), url("/new")], run_id=1, now=T0)
    with sessions.begin() as s:
        frontier.lease(s, "a", owner="w1", limit=10, lease_seconds=60, now=T0)
        frontier.complete(s, "a", "https://a.example/old", outcome="stored", run_id=1, now=T0)
        frontier.complete(s, "a", "https://a.example/new", outcome="stored", run_id=1, now=T0 + timedelta(hours=5))
    with sessions.begin() as s:
        due = frontier.reopen_due_articles(
            s, "a", run_id=2, recrawl_after=timedelta(hours=6), now=T0 + timedelta(hours=7)
        )
        assert due == 1
        assert [r.url for r in frontier.lease(s, "a", owner="w2", limit=10, lease_seconds=60, now=T0)] == [
            "https://a.example/old"
        ]


@pytest.mark.parametrize("verdict", ["not-an-article", "skipped"])
def test_a_page_that_was_no_article_is_asked_every_run_even_after_a_304(database_url, verdict):
    sessions = open_database(database_url)
    with sessions.begin() as s:
        frontier.add_urls(s, "a", [url("/city/")], run_id=1, now=T0)
    # Read as a candidate and refused by extraction (a thin section page): not marked a hub.
    fetch(sessions, 1, outcome=verdict)
    for run_id in (2, 3):
        with sessions.begin() as s:
            assert frontier.reopen_hubs(s, "a", run_id=run_id) == 1, f"run {run_id}"
        fetch(sessions, run_id, outcome="unchanged", at=T0 + timedelta(hours=run_id))
    assert row(sessions, "/city/").outcome == verdict


def test_the_scheduler_passes_on_what_a_known_url_turns_out_to_be(database_url):
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.frontier import FrontierScheduler, frontier_sync
    from crawler.spiders.news import NewsSpider

    crawler = get_crawler(
        NewsSpider, {"NEWSDESK_DATABASE_URL": database_url, "EXTENSIONS": {"crawler.components.run.CrawlRun": 0}}
    )
    crawler.spider = NewsSpider.from_crawler(crawler, start_urls=HOME)
    crawler.stats.open_spider()
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    feed, home = "https://a.example/rss", HOME
    assert scheduler.enqueue_request(Request(feed, meta={"kind": "page"}))  # a footer link
    assert scheduler.enqueue_request(Request(home, meta={"kind": "page"}))
    assert not scheduler.enqueue_request(Request(feed, meta={"kind": "page"}))  # known, nothing new
    assert scheduler.enqueue_request(Request(feed, meta={"kind": "feed"}))  # advertised as a feed
    assert scheduler.enqueue_request(Request(home, meta={"kind": "page", "hub": True}))  # a start URL
    [(_, written)] = crawler.signals.send_catch_log(frontier_sync)
    assert written.result(timeout=60) is True
    sessions = open_database(database_url)
    with sessions() as s:
        rows = {r.url: r for r in s.scalars(sa.select(FrontierEntry))}
    assert rows[feed].kind == "feed" and rows[home].hub
    scheduler.close("finished")
