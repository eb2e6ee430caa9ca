"""Date-only sitemap dates, the most common form, across re-crawls (issue 12, finding 1).

A ``<lastmod>2024-05-01</lastmod>`` once came back naive; the next run's frontier compared it with
the aware date it had stored, raised ``TypeError`` and lost the whole batch of new URLs, so a story
added later was never fetched while the crawl said ``finished``. A news sitemap date without a
time broke the ``since`` filter the same way.
"""

from __future__ import annotations

import collections
from urllib.parse import urlsplit

import pytest
from support.loopback import PageServer

from crawler.demo.generated import article_text
from storage.db import open_database
from storage.queries import ArticleFilter, iter_articles
from storage.runs import list_runs, run_fetches


def article_page(number: int, published: str) -> bytes:
    headline, paragraphs = article_text(number)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='en'><head><title>{headline}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='{published}'></head>"
        f"<body><article><h1>{headline}</h1>{body}</article></body></html>"
    ).encode()


class SitemapSite(PageServer):
    """A site found only through robots.txt's sitemap, whose entries the test changes between runs.

    ``entries`` maps a story's path to the ``<url>`` children the sitemap gives it; ``hits``
    counts the requests the server answered, by path.
    """

    def __init__(self):
        self.entries: dict[str, str] = {}
        self.stories: dict[str, bytes] = {}
        self.hits: collections.Counter[str] = collections.Counter()
        super().__init__()

    def answer(self, raw_path: str) -> tuple[str, bytes] | None:
        path = urlsplit(raw_path).path
        self.hits[path] += 1
        return self.page(path)

    def page(self, path: str) -> tuple[str, bytes] | None:
        if path == "/robots.txt":
            return "text/plain", f"User-agent: *\nSitemap: {self.base}/sitemap.xml\n".encode()
        if path == "/":
            return "text/html", b"<html><head><title>Home</title></head><body><p>Welcome.</p></body></html>"
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base}{p}</loc>{fields}</url>" for p, fields in self.entries.items())
            return "application/xml", (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
            ).encode()
        if path in self.stories:
            return "text/html; charset=utf-8", self.stories[path]
        return None

    def add(self, path: str, number: int, published: str, fields: str) -> None:
        self.stories[path] = article_page(number, published)
        self.entries[path] = fields


@pytest.fixture
def site():
    with SitemapSite() as served:
        yield served


@pytest.fixture
def crawl(scrapy_crawl):
    """A crawl with extraction inline (one process): the site is small."""
    return lambda database_url, *args: scrapy_crawl(database_url, "-s", "NEWSDESK_EXTRACT_WORKERS=1", *args)


def stored_paths(database_url: str) -> list[str]:
    with open_database(database_url)() as session:
        return sorted(urlsplit(row.canonical_url).path for row in iter_articles(session, ArticleFilter()))


def test_a_story_added_to_a_date_only_sitemap_is_found_on_the_next_run(site, database_url, crawl):
    site.add("/news/a", 1, "2024-05-01T08:00:00Z", "<lastmod>2024-05-01</lastmod>")
    crawl(database_url, "-a", f"start_urls={site.base}/")
    assert stored_paths(database_url) == ["/news/a"]
    assert site.hits["/news/a"] == 1

    site.add("/news/b", 2, "2024-05-02T08:00:00Z", "<lastmod>2024-05-02</lastmod>")
    crawl(database_url, "-a", f"start_urls={site.base}/")
    assert stored_paths(database_url) == ["/news/a", "/news/b"]
    # A's date has not moved, so A is not fetched again; B is fetched once.
    assert (site.hits["/news/a"], site.hits["/news/b"]) == (1, 1)

    crawl(database_url, "-a", f"start_urls={site.base}/")
    assert stored_paths(database_url) == ["/news/a", "/news/b"]
    assert (site.hits["/news/a"], site.hits["/news/b"]) == (1, 1)
    # Each run read the sitemap again: it is how new stories are found.
    assert site.hits["/sitemap.xml"] == 3


def test_since_skips_a_news_sitemap_date_without_a_time(site, sqlite_url, tmp_path, crawl):
    news = "<news:news><news:publication_date>{}</news:publication_date></news:news>"
    site.add("/news/old", 1, "2024-05-01T08:00:00Z", news.format("2024-05-01"))
    site.add("/news/new", 2, "2024-06-02T08:00:00Z", news.format("2024-06-02"))
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "dated"\nstart_urls = ["{site.base}/"]\nsince = 2024-06-01\n')
    crawl(sqlite_url, "-a", "source=dated", "-a", f"sources={sources}")
    assert stored_paths(sqlite_url) == ["/news/new"]
    assert site.hits["/news/old"] == 0
    with open_database(sqlite_url)() as session:
        (run,) = list_runs(session)
        skipped = [f for f in run_fetches(session, run.id, outcome="skipped") if f.url.endswith("/news/old")]
    assert skipped and "before since" in skipped[0].reason
