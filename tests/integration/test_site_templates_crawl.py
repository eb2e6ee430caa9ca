"""A crawl of a site that glues the same boxes into every story body (issue 14): once the site's
profile matures, no stored body holds them (text nor Markdown), the stories stored before are
re-cleaned as re-extractions, and no story gets a second version, on this crawl or the next;
``newsdesk extract --db`` gives each story the body the crawl stored."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.loopback import PageServer
from support.stories import duplicate_stories

from crawler.cli import cli
from crawler.demo.generated import article_text
from storage.db import open_database
from storage.models import Article, ArticleVersion, Reextraction

STORIES = 20
# Boxes the generic boilerplate rules do not know: only the site's profile can tell them.
READ_ALSO = "Read also: the week in pictures, from the harbour to the hills"
CHANNEL = "Join our channel on Telegram for the stories that matter most to the city"
MISTAKE = "Found a mistake? Select the text and press Ctrl+Enter to tell the editors"
PLANTED = (READ_ALSO, CHANNEL, MISTAKE)


def story_page(number: int) -> bytes:
    headline, paragraphs = article_text(number)
    body = [f"<p>{p}</p>" for p in paragraphs]
    body.insert(2, f'<div class="inline-box"><p>{READ_ALSO}</p></div>')
    body.append(f'<div class="promo"><p>{CHANNEL}</p></div><p class="notice">{MISTAKE}</p>')
    return (
        f"<html lang='en'><head><title>{headline}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='2026-11-{number:02d}T08:00:00Z'></head>"
        f"<body><article><h1>{headline}</h1>{''.join(body)}</article></body></html>"
    ).encode()


class BoxedSite(PageServer):
    """Twenty stories found through the sitemap; ``day`` moves every lastmod, so a second crawl
    fetches each story again."""

    day = 1

    def answer(self, raw_path: str) -> tuple[str, bytes] | None:
        path = urlsplit(raw_path).path
        if path == "/robots.txt":
            return "text/plain", f"User-agent: *\nSitemap: {self.base}/sitemap.xml\n".encode()
        if path == "/":
            return "text/html", b"<html><head><title>Home</title></head><body><p>Welcome.</p></body></html>"
        if path == "/sitemap.xml":
            urls = "".join(
                f"<url><loc>{self.base}/news/{n}</loc><lastmod>2026-12-{self.day:02d}</lastmod></url>"
                for n in range(1, STORIES + 1)
            )
            return "application/xml", (
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            ).encode()
        if path.startswith("/news/") and path.rsplit("/", 1)[1].isdigit():
            number = int(path.rsplit("/", 1)[1])
            if 1 <= number <= STORIES:
                return "text/html; charset=utf-8", story_page(number)
        return None


@pytest.fixture
def site():
    with BoxedSite() as served:
        yield served


def test_planted_boxes_leave_every_stored_body_without_new_versions(site, database_url, scrapy_crawl):
    def crawl():
        # Batches of 4: the profile matures (at 10 pages) after earlier batches were committed.
        scrapy_crawl(
            database_url, "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-s", "NEWSDESK_STORE_BATCH_SIZE=4",
            "-a", f"start_urls={site.base}/",
        )  # fmt: skip

    crawl()
    site.day = 2
    crawl()
    with open_database(database_url)() as session:
        texts = session.execute(sa.select(Article.text)).scalars().all()
        assert len(texts) == STORIES
        assert [box for text in texts for box in PLANTED if box in text] == []
        # The Markdown says what the text says: the same boxes are gone from it.
        markdowns = session.execute(sa.select(Article.markdown)).scalars().all()
        assert all(markdowns)
        assert [box for markdown in markdowns for box in PLANTED if box in markdown] == []
        assert set(session.execute(sa.select(Article.version)).scalars()) == {1}
        assert session.execute(sa.select(sa.func.max(ArticleVersion.version))).scalar_one() == 1
        # The stories of batches committed before the profile matured were cleaned as
        # re-extractions, once; those of the batch it matured in, as they were stored.
        recleaned = session.execute(sa.select(Reextraction.article_id)).scalars().all()
        assert 0 < len(recleaned) < STORIES and len(set(recleaned)) == len(recleaned)
    assert duplicate_stories(database_url) == 0

    # extract, given the store, strips each story as the crawl did: the source is named after
    # the site (an ad hoc crawl's), read off each page's address.
    urls = [f"{site.base}/news/{n}" for n in range(1, STORIES + 1)]
    records = extract("--db", database_url, "--allow-private", "--jobs", "1", *urls)
    assert [record["url"] for record in records] == urls
    assert [body_of(record) for record in records] == stored_bodies(database_url, urls)


def extract(*args: str) -> list[dict]:
    """``newsdesk extract``'s records (one for one page, in the order given for many)."""
    result = CliRunner().invoke(cli, ["extract", "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def body_of(record: dict) -> tuple[str, str, int]:
    return record["text"], record["markdown"], record["word_count"]


def stored_bodies(database_url: str, urls: list[str]) -> list[tuple[str, str, int]]:
    with open_database(database_url)() as session:
        rows = session.execute(sa.select(Article.url, Article.text, Article.markdown, Article.word_count))
        bodies = {url: (text, markdown, words) for url, text, markdown, words in rows}
    return [bodies[url] for url in urls]


def test_extract_strips_a_named_sources_template_as_its_crawl_stored_it(
    site, sqlite_url, scrapy_crawl, tmp_path, monkeypatch
):
    """A source of the sources file owns its start URL's site: extract finds it there (or is told
    it with --source, for a saved page), and without the store the boxes are in the body."""
    monkeypatch.chdir(tmp_path)  # no ./sources.toml
    monkeypatch.delenv("NEWSDESK_SOURCES", raising=False)
    sources = tmp_path / "named.toml"
    sources.write_text(f'[[source]]\nname = "boxed"\nstart_urls = ["{site.base}/"]\n', encoding="utf-8")
    scrapy_crawl(sqlite_url, "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-a", "source=boxed", "-a", f"sources={sources}")
    url = f"{site.base}/news/3"
    saved = tmp_path / "story.html"
    saved.write_bytes(story_page(3))
    [stored] = stored_bodies(sqlite_url, [url])
    assert not [box for box in PLANTED if box in stored[0] or box in stored[1]]

    [served] = extract(url, "--allow-private", "--db", sqlite_url, "--sources", str(sources))
    [from_file] = extract(str(saved), "--url", url, "--db", sqlite_url, "--source", "boxed")
    assert body_of(served) == body_of(from_file) == stored
    # Without the store, or without knowing whose site it is, the page is read as it is served.
    for unstripped in (extract(url, "--allow-private"), extract(url, "--allow-private", "--db", sqlite_url)):
        assert all(box in unstripped[0]["text"] and box in unstripped[0]["markdown"] for box in PLANTED)
    # A source the store does not hold is a typo, not a page without a template.
    result = CliRunner().invoke(cli, ["extract", str(saved), "--db", sqlite_url, "--source", "boxd"])
    assert (result.exit_code, result.output) == (1, "Error: no source named 'boxd' in the store\n")
    result = CliRunner().invoke(cli, ["extract", str(saved), "--source", "boxed"])
    assert result.exit_code == 2 and "give --db too" in result.output
