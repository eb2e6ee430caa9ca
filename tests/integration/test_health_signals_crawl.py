"""Real crawls of a loopback site: the publisher's signals it carries are stored and filter the
corpus, and when the site breaks on day 2 (a template that halves the text, a feed answering 410)
``newsdesk health`` puts its source in alert with the right reasons."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.loopback import PageServer

from crawler.cli import cli
from crawler.demo.generated import article_text
from storage.db import open_database
from storage.models import Article, CrawlRun, FetchLog
from storage.queries import ArticleFilter, iter_articles

PAYWALL = (
    '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false, '
    '"hasPart": {"@type": "WebPageElement", "isAccessibleForFree": false, "cssSelector": ".members"}}</script>'
)


class BreakingSite(PageServer):
    """Stories 1-6 on day 1, 7-12 after a redesign on day 2, when the feed is gone (410)."""

    def __init__(self):
        self.day = 1
        #: Served as /.well-known/tdmrep.json in place of the site's rules when set.
        self.tdmrep_body: bytes | None = None
        super().__init__()

    def stories(self) -> range:
        return range(1, 7) if self.day == 1 else range(7, 13)

    def answer(self, raw_path: str):
        path = urlsplit(raw_path).path
        if path == "/robots.txt":
            return "text/plain", b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
        if path == "/.well-known/tdmrep.json" and self.tdmrep_body is not None:
            return "application/json", self.tdmrep_body
        if path == "/.well-known/tdmrep.json":
            rules = [{"location": "/news/1$", "tdm-reservation": 1, "tdm-policy": f"{self.base}/policy.json"},
                     {"location": "/news/3$", "tdm-reservation": 1}]  # fmt: skip
            return "application/json", json.dumps(rules).encode()
        if path == "/":
            links = "".join(f'<li><a href="/news/{n}">Story {n}</a></li>' for n in self.stories())
            head = '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
            return "text/html", f"<html><head><title>Home</title>{head}</head><body><ul>{links}</ul></body></html>".encode()
        if path == "/feed.xml":
            if self.day == 2:
                return 410
            items = "".join(f"<item><title>Story {n}</title><link>{self.base}/news/{n}</link></item>" for n in self.stories())
            return "application/rss+xml", f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
        if path.startswith("/news/"):
            return self.story(int(path.rsplit("/", 1)[1]))
        return None

    def story(self, number: int):
        headline, paragraphs = article_text(number)
        if number >= 7:
            paragraphs = paragraphs[: len(paragraphs) // 3]  # the redesign: the extractor reads a third
        head, headers, body = "", [], "".join(f"<p>{p}</p>" for p in paragraphs)
        if number == 2:
            head = '<meta name="robots" content="noarchive">'
            headers = [("Content-Usage", "train-ai=n")]
        elif number == 3:
            headers = [("tdm-reservation", "0"), ("X-Robots-Tag", "noai")]  # the header beats tdmrep.json
        elif number == 4:
            head, body = PAYWALL, f'<p>{paragraphs[0]}</p><div class="members">{body}</div>'
        page = (
            f"<html lang='en'><head><title>{headline}</title><meta property='og:type' content='article'>"
            f"<meta property='article:published_time' content='2026-11-0{1 if number < 7 else 2}T08:00:00Z'>{head}"
            f"</head><body><article><h1>{headline}</h1>{body}</article></body></html>"
        )
        return "text/html; charset=utf-8", page.encode(), headers


@pytest.fixture
def site():
    with BreakingSite() as served:
        yield served


def crawl(scrapy_crawl, database_url: str, site: BreakingSite) -> None:
    scrapy_crawl(database_url, "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-a", f"start_urls={site.base}/", "-a", "source=breaking")


def move_back_a_day(database_url: str) -> None:
    """What the first crawl wrote is dated a day earlier: two runs of one test become two days."""
    sessions = open_database(database_url)
    moved = (FetchLog.fetched_at, CrawlRun.started_at, CrawlRun.finished_at, Article.first_seen_at)
    with sessions.begin() as session:
        for column in moved:
            table = column.class_
            for row_id, when in session.execute(sa.select(table.id, column)).all():
                session.execute(sa.update(table).where(table.id == row_id).values({column.key: when - timedelta(days=1)}))


def paths(database_url: str, **filters) -> list[str]:
    with open_database(database_url)() as session:
        return sorted(urlsplit(row.url).path for row in iter_articles(session, ArticleFilter(**filters)))


def test_signals_are_stored_and_filter_the_corpus(site, database_url, scrapy_crawl):
    crawl(scrapy_crawl, database_url, site)
    stories = [f"/news/{n}" for n in range(1, 7)]
    assert paths(database_url) == stories
    # /news/1 reserved by tdmrep.json; /news/3 too, but its own header says 0 and wins.
    assert paths(database_url, tdm_allowed=True) == [p for p in stories if p != "/news/1"]
    assert paths(database_url, exclude_noarchive=True) == [p for p in stories if p != "/news/2"]
    assert paths(database_url, free_only=True) == [p for p in stories if p != "/news/4"]

    runner = CliRunner()
    shown = json.loads(runner.invoke(cli, ["--db", database_url, "show", f"{site.base}/news/1", "--format", "json"]).output)
    assert shown["signals"]["tdm_reserved"] is True
    assert shown["signals"]["tdm_origin"] == "well-known"
    assert shown["signals"]["tdm_policy"] == f"{site.base}/policy.json"
    assert shown["signals"]["site"]["robots_blocks_ai_agents"] == ["CCBot", "GPTBot"]
    assert shown["signals"]["site"]["robots_allows_us"] is True
    third = json.loads(runner.invoke(cli, ["--db", database_url, "show", f"{site.base}/news/3", "--format", "json"]).output)
    assert (third["signals"]["tdm_reserved"], third["signals"]["tdm_origin"]) == (False, "header")
    assert third["signals"]["robots"] == ["noai"]
    second = json.loads(runner.invoke(cli, ["--db", database_url, "show", f"{site.base}/news/2", "--format", "json"]).output)
    assert second["signals"]["content_usage"] == "train-ai=n"
    paywalled = json.loads(runner.invoke(cli, ["--db", database_url, "show", f"{site.base}/news/4", "--format", "json"]).output)
    assert (paywalled["signals"]["free"], paywalled["signals"]["paywall_truncated"]) == (False, False)

    stats = json.loads(runner.invoke(cli, ["--db", database_url, "stats", "--format", "json"]).output)
    assert stats["signals"] == {"read_for_signals": 6, "tdm_reserved": 1, "noarchive": 1, "noai": 1,
                                "paywalled": 1, "paywall_truncated": 0}  # fmt: skip


def test_a_malformed_tdmrep_file_reserves_nothing_and_is_reported(site, sqlite_url, scrapy_crawl):
    site.tdmrep_body = b'[{"location": "/news/1$", "tdm-reservation": 1'
    crawl(scrapy_crawl, sqlite_url, site)
    assert paths(sqlite_url, tdm_allowed=True) == [f"/news/{n}" for n in range(1, 7)]
    shown = json.loads(CliRunner().invoke(cli, ["--db", sqlite_url, "show", f"{site.base}/news/1", "--format", "json"]).output)
    assert shown["signals"]["tdm_reserved"] is None
    assert shown["signals"]["site"]["tdmrep_error"].startswith("not JSON")


def test_refusing_tdm_reserved_pages_logs_them_skipped_with_the_reason(site, sqlite_url, scrapy_crawl):
    scrapy_crawl(sqlite_url, "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-s", "NEWSDESK_REFUSE_TDM_RESERVED=true",
                 "-a", f"start_urls={site.base}/", "-a", "source=breaking")  # fmt: skip
    assert "/news/1" not in paths(sqlite_url)
    assert len(paths(sqlite_url)) == 5
    with open_database(sqlite_url)() as session:
        reason = session.scalar(sa.select(FetchLog.reason).where(FetchLog.url == f"{site.base}/news/1"))
    assert reason.startswith("TDM reserved by the publisher (well-known)")


def test_a_site_that_breaks_on_day_2_is_in_alert_with_the_reasons(site, database_url, scrapy_crawl):
    crawl(scrapy_crawl, database_url, site)
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", database_url, "health", "--format", "json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)[0]["status"] == "ok"

    move_back_a_day(database_url)
    site.day = 2
    crawl(scrapy_crawl, database_url, site)
    result = runner.invoke(cli, ["--db", database_url, "health", "--format", "json"])
    assert result.exit_code == 1, result.output
    [entry] = json.loads(result.output)
    assert entry["status"] == "alert"
    texts = {reason["kind"].split(":")[0]: reason["text"] for reason in entry["reasons"]}
    assert texts["feed-failing"].startswith(f"feed {site.base}/feed.xml answered HTTP 410 since ")
    assert texts["length-drop"].startswith("median words fell from ")
