"""Discovery end to end: sitemaps, feeds and links each find articles; robots, since and URL
variants are respected; every URL the crawl met is explained in the crawl log."""

from __future__ import annotations

import collections
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support.loopback import PageServer

from crawler.demo import ground_truth
from crawler.demo.generated import article_text
from crawler.demo.render import TRAP_PATHS
from storage.db import open_database
from storage.queries import ArticleFilter, iter_articles
from storage.runs import list_runs, run_fetches

REPO = Path(__file__).resolve().parents[2]


def article_page(number: int, published: str) -> bytes:
    headline, paragraphs = article_text(number)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='en'><head><title>{headline}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='{published}'></head>"
        f"<body><article><h1>{headline}</h1>{body}</article></body></html>"
    ).encode()


class SmallSite(PageServer):
    """A site whose article A is only linked, B only in the sitemap, C only in the feed, and D
    only in a news sitemap with an old publication date."""

    def __init__(self):
        self.hits: list[str] = []
        super().__init__()

    def answer(self, raw_path: str) -> tuple[str, bytes] | None:
        parts = urlsplit(raw_path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.hits.append(path)
        return self.pages().get(path)

    def pages(self) -> dict[str, tuple[str, bytes]]:
        html = "text/html; charset=utf-8"
        return {
            "/robots.txt": ("text/plain", f"User-agent: *\nDisallow: /members/\nSitemap: {self.base}/sitemap.xml\n".encode()),
            "/": (html, (
                "<html><head><title>Home</title>"
                '<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
                '<body><a href="/linked/a">A</a> <a href="/members/secret">Members</a>'
                '<a href="/long/e">E</a> <a href="/long/e?page=2">E, page 2</a> <a href="/long/f">F</a>'
                '</body></html>'
            ).encode()),
            "/sitemap.xml": ("application/xml", (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                f"<url><loc>{self.base}/mapped/b</loc><lastmod>2026-11-20</lastmod></url>"
                f"<url><loc>{self.base}/old/d</loc><news:news><news:publication><news:name>S</news:name>"
                "<news:language>en</news:language></news:publication>"
                "<news:publication_date>2019-05-01T10:00:00Z</news:publication_date>"
                "<news:title>Old</news:title></news:news></url></urlset>"
            ).encode()),
            "/feed.xml": ("application/rss+xml", (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>'
                f"<item><title>C</title><link>{self.base}/fed/c</link></item></channel></rss>"
            ).encode()),
            "/linked/a": (html, article_page(1, "2026-11-20T08:00:00Z")),
            "/mapped/b": (html, article_page(2, "2026-11-21T08:00:00Z")),
            "/fed/c": (html, article_page(3, "2026-11-22T08:00:00Z")),
            "/old/d": (html, article_page(4, "2019-05-01T10:00:00Z")),
            "/members/secret": (html, article_page(5, "2026-11-22T08:00:00Z")),
            "/long/e": (html, article_page(6, "2026-11-23T08:00:00Z").replace(
                b"</head>", b'<link rel="next" href="/long/e?page=2"></head>')),
            "/long/e?page=2": (html, article_page(7, "2026-11-23T08:00:00Z").replace(
                b"</head>", b'<link rel="prev" href="/long/e"></head>')),
            # Its second part is gone (404): the story is stored from its first part.
            "/long/f": (html, article_page(8, "2026-11-23T09:00:00Z").replace(
                b"</head>", b'<link rel="next" href="/long/f/2"></head>')),
        }


@pytest.fixture
def crawl(scrapy_crawl):
    """A crawl with extraction inline (one process): these sites are small."""
    return lambda database_url, *args: scrapy_crawl(database_url, "-s", "NEWSDESK_EXTRACT_WORKERS=1", *args)


def stored_paths(database_url: str) -> set[str]:
    with open_database(database_url)() as session:
        return {urlsplit(row.canonical_url).path for row in iter_articles(session, ArticleFilter())}


@pytest.fixture
def small_site():
    with SmallSite() as site:
        yield site


def test_links_sitemaps_and_feeds_each_find_articles_and_robots_is_obeyed(small_site, sqlite_url, crawl):
    crawl(sqlite_url, "-a", f"start_urls={small_site.base}/")
    assert stored_paths(sqlite_url) == {"/linked/a", "/mapped/b", "/fed/c", "/old/d", "/long/e", "/long/f"}
    assert "/members/secret" not in small_site.hits


def test_a_multi_page_article_is_one_article_with_every_part(small_site, sqlite_url, crawl):
    crawl(sqlite_url, "-a", f"start_urls={small_site.base}/")
    with open_database(sqlite_url)() as session:
        (story,) = [row for row in iter_articles(session, ArticleFilter()) if row.canonical_url.endswith("/long/e")]
    first, second = ("\n\n".join(article_text(n)[1]) for n in (6, 7))
    assert story.text.startswith(first[:200])
    assert second[:200] in story.text
    assert story.word_count >= len(first.split()) + len(second.split()) - 5


def test_since_skips_old_news_sitemap_entries_without_fetching_them(small_site, sqlite_url, tmp_path, crawl):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "small"\nstart_urls = ["{small_site.base}/"]\nsince = 2026-01-01T00:00:00Z\n'
    )
    crawl(sqlite_url, "-a", "source=small", "-a", f"sources={sources}")
    assert stored_paths(sqlite_url) == {"/linked/a", "/mapped/b", "/fed/c", "/long/e", "/long/f"}
    assert "/old/d" not in small_site.hits
    with open_database(sqlite_url)() as session:
        (run,) = list_runs(session)
        skipped = [f for f in run_fetches(session, run.id, outcome="skipped") if f.url.endswith("/old/d")]
    assert skipped and "before since" in skipped[0].reason


def test_demo_variants_are_fetched_at_most_twice_and_every_url_is_explained(demo_web, sqlite_url, crawl):
    crawl(sqlite_url, "-a", f"start_urls={demo_web.base_url}/", "-s", "NEWSDESK_EXTRACT_WORKERS=2")
    fetched = collections.Counter(urlsplit(path).path.rstrip("/").replace("/amp/", "/2026/") for path in demo_web.requests)
    assert TRAP_PATHS["disallowed"] not in {urlsplit(p).path for p in demo_web.requests}
    for article in ground_truth(edition=1):
        # The plain URL plus at most one variant (AMP copy or trailing slash); utm and fragments never.
        if article.site == "planet":
            slug = article.path.rsplit("/", 1)[1]
            fetched_copies = sum(n for p, n in fetched.items() if p.endswith("/" + slug))
        else:
            fetched_copies = fetched[article.path]
        assert 1 <= fetched_copies <= 2, (article.path, fetched_copies)

    with open_database(sqlite_url)() as session:
        (run,) = list_runs(session)
        log = run_fetches(session, run.id)
    outcomes = collections.Counter(f.outcome for f in log)
    assert outcomes["stored"] == len(ground_truth(edition=1))
    unexplained = [f for f in log if f.outcome not in ("stored", "unchanged", "duplicate") and not f.reason]
    assert unexplained == []
    duplicates = [f.reason for f in log if f.outcome == "duplicate"]  # variants and redirects: named
    assert all(duplicates) and any(re.fullmatch(r"the story of article \d+", reason) for reason in duplicates)
    reasons = {urlsplit(f.url).path: f.reason for f in log if f.outcome != "stored"}
    assert "HTTP 404" in reasons[TRAP_PATHS["not_found"]]
    assert "HTTP 500" in reasons[TRAP_PATHS["server_error"]]
    assert any((reason or "").startswith("hub (") for reason in reasons.values())
