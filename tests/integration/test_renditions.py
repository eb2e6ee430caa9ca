"""Renditions are not versions (issue 14): a site serving each story as AMP, print (one naming no
canonical URL), view-all and mobile (``m.``) copies as well, crawled twice with no edit, stores each story once at version 1
with its renditions listed; an edit on one story's canonical page makes exactly that one version 2.

The site is one loopback server answering for its ``www.`` and ``m.`` hosts under a real public
suffix (every name resolves to 127.0.0.1 in the crawl: see ``tests.support.loopback``).
"""

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
from storage.models import Article, ArticleUrl, ArticleVersion

DOMAIN = "harbourgazette-test.co.uk"
STORIES = {"a": 101, "b": 102, "c": 103}  # slug -> article_text number


def _page(head: str, body: str, *, html_attrs: str = "", body_attrs: str = "") -> bytes:
    return (
        f"<!doctype html><html lang='en' {html_attrs}><head><meta charset='utf-8'>{head}</head>"
        f"<body {body_attrs}>{body}</body></html>"
    ).encode()


class RenditionSite(PageServer):
    """``www.``: stories a (AMP + print copies), b (in two parts, and a view-all copy) and c;
    ``m.``: the mobile copies of a and c, declaring their ``www.`` canonical URLs."""

    def __init__(self):
        super().__init__()
        self.port = self.server.server_address[1]
        self.www = f"http://www.{DOMAIN}:{self.port}"
        self.mobile = f"http://m.{DOMAIN}:{self.port}"
        #: slug -> a sentence the canonical page adds (a publisher's edit, on that page only).
        self.edits: dict[str, str] = {}

    def canonical(self, slug: str) -> str:
        return f"{self.www}/news/{slug}"

    def paragraphs(self, slug: str, *, edited: bool = False) -> list[str]:
        _, paragraphs = article_text(STORIES[slug])
        if edited and slug in self.edits:
            paragraphs = [*paragraphs[:-1], paragraphs[-1] + " " + self.edits[slug]]
        return paragraphs

    def story(
        self, slug: str, paragraphs: list[str], *, head: str = "", extra: str = "", canonical: bool = True, **attrs
    ) -> bytes:
        headline, _ = article_text(STORIES[slug])
        text = "".join(f"<p>{p}</p>" for p in paragraphs)
        declared = f"<link rel='canonical' href='{self.canonical(slug)}'>" if canonical else ""
        return _page(
            f"<title>{headline}</title><meta property='og:type' content='article'>"
            f"<meta property='article:published_time' content='2026-05-0{STORIES[slug] % 9}T08:00:00Z'>"
            f"{declared}{head}",
            f"<article><h1>{headline}</h1>{text}{extra}</article>",
            **attrs,
        )

    def answer_for(self, host: str, raw_path: str) -> tuple[str, bytes] | None:
        page = self.mobile_page(raw_path) if host.startswith("m.") else self.www_page(raw_path)
        return None if page is None else ("text/html; charset=utf-8", page)

    def www_page(self, raw_path: str) -> bytes | None:
        parts = urlsplit(raw_path)
        path, query = parts.path, parts.query
        if path == "/":
            links = "".join(f"<li><a href='/news/{slug}'>{article_text(n)[0]}</a></li>" for slug, n in STORIES.items())
            return _page("<title>The Harbour Gazette</title>", f"<h1>Latest</h1><ul>{links}</ul>")
        if path == "/news/a":
            return self.story(
                "a", self.paragraphs("a", edited=True),
                head=f"<link rel='amphtml' href='{self.www}/news/a/amp'>",
                extra="<p><a href='/news/a/print'>Print this story</a> <a href='/news/a/amp'>Lighter page</a></p>",
            )  # fmt: skip
        if path == "/news/a/amp":
            # The AMP copy leaves out the last paragraph (an embed it cannot show).
            return self.story("a", self.paragraphs("a")[:-1], html_attrs="amp")
        if path == "/news/a/print":
            return self.story(
                "a", self.paragraphs("a"),
                head="<link rel='stylesheet' href='/css/print.css'>",
                extra=f"<p>Printed from {self.www}/news/a</p>",
                body_attrs="onload='window.print()'",
            )  # fmt: skip
        if path == "/news/b":
            first, second = self.halves("b")
            if query == "page=2":
                return self.story("b", second, head="<link rel='prev' href='/news/b'>")
            if query == "view=all":
                return self.story("b", first + second)
            return self.story(
                "b", first, head="<link rel='next' href='/news/b?page=2'>",
                extra="<p><a href='/news/b?page=2'>Next page</a> <a href='/news/b?view=all'>View as one page</a></p>",
            )  # fmt: skip
        if path == "/news/c":
            return self.story("c", self.paragraphs("c", edited=True), extra="<p><a href='/news/c/print'>Print</a></p>")
        if path == "/news/c/print":
            # A print copy that declares no canonical URL: its own URL says whose copy it is.
            return self.story(
                "c", self.paragraphs("c"), canonical=False, extra="<p>Printed from The Harbour Gazette.</p>",
                body_attrs="onload='window.print()'",
            )  # fmt: skip
        return None

    def halves(self, slug: str) -> tuple[list[str], list[str]]:
        paragraphs = self.paragraphs(slug, edited=True)
        middle = len(paragraphs) // 2
        return paragraphs[:middle], paragraphs[middle:]

    def mobile_page(self, raw_path: str) -> bytes | None:
        path = urlsplit(raw_path).path
        if path == "/":
            links = "".join(f"<li><a href='/news/{slug}'>{article_text(STORIES[slug])[0]}</a></li>" for slug in "ac")
            return _page("<title>The Harbour Gazette (mobile)</title>", f"<ul>{links}</ul>")
        if path in ("/news/a", "/news/c"):
            slug = path.rsplit("/", 1)[-1]
            # The mobile copy adds a line of its own.
            return self.story(slug, self.paragraphs(slug), extra="<p>Switch to the full site for comments.</p>")
        return None


@pytest.fixture
def site():
    with RenditionSite() as served:
        yield served


@pytest.fixture
def crawl(scrapy_crawl, site):
    def run(database_url: str) -> None:
        scrapy_crawl(
            database_url,
            "-a", f"start_urls={site.www}/,{site.mobile}/",
            # Every stored story is fetched again on the next run (the site gives no dates to go by).
            "-a", "recrawl_after=1s",
            "-s", "NEWSDESK_EXTRACT_WORKERS=1",
            "-s", "TWISTED_DNS_RESOLVER=tests.support.loopback.LoopbackResolver",
        )  # fmt: skip

    return run


def stored(database_url: str) -> dict[str, tuple[int, set[tuple[str, str]]]]:
    """Each stored story by canonical URL: its version, and its (URL, rendition) pairs."""
    with open_database(database_url)() as session:
        articles = session.execute(sa.select(Article.id, Article.canonical_url, Article.version)).all()
        urls = session.execute(sa.select(ArticleUrl.article_id, ArticleUrl.url, ArticleUrl.rendition)).all()
        versions = session.execute(sa.select(ArticleVersion.article_id, sa.func.max(ArticleVersion.version))
                                   .group_by(ArticleVersion.article_id)).all()  # fmt: skip
    assert dict(versions) == {a.id: a.version for a in articles}
    return {
        a.canonical_url: (a.version, {(u.url, u.rendition) for u in urls if u.article_id == a.id}) for a in articles
    }


def test_renditions_join_their_story_and_only_an_edit_makes_a_version(site, database_url, crawl):
    crawl(database_url)
    crawl(database_url)
    stories = stored(database_url)
    www, mobile = site.www, site.mobile
    assert set(stories) == {site.canonical(slug) for slug in STORIES}, "each story stored once, by its canonical URL"
    assert {version for version, _ in stories.values()} == {1}, "no edit, no new version"
    assert duplicate_stories(database_url) == 0
    assert stories[site.canonical("a")][1] >= {
        (f"{www}/news/a", "canonical"),
        (f"{www}/news/a/amp", "amp"),
        (f"{www}/news/a/print", "print"),
        (f"{mobile}/news/a", "mobile"),
    }
    assert (f"{www}/news/b?view=all", "paginated") in stories[site.canonical("b")][1]
    assert {(f"{mobile}/news/c", "mobile"), (f"{www}/news/c/print", "print")} <= stories[site.canonical("c")][1]

    # The body is the canonical page's, not a copy's.
    with open_database(database_url)() as session:
        body = session.execute(sa.select(Article.text).where(Article.canonical_url == site.canonical("a"))).scalar_one()
    assert body.endswith(site.paragraphs("a")[-1]) and "Printed from" not in body

    shown = CliRunner().invoke(cli, ["--db", database_url, "show", f"{mobile}/news/a", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    listed = {(r["url"], r["kind"]) for r in json.loads(shown.output)["renditions"]}
    assert (f"{www}/news/a/amp", "amp") in listed and (f"{mobile}/news/a", "mobile") in listed
    text = CliRunner().invoke(cli, ["--db", database_url, "show", site.canonical("a")], terminal_width=200).output
    assert f"print        {www}/news/a/print" in text

    site.edits["c"] = "The council confirmed the figures on Tuesday evening."
    crawl(database_url)
    after = stored(database_url)
    assert {url: version for url, (version, _) in after.items()} == {
        site.canonical("a"): 1, site.canonical("b"): 1, site.canonical("c"): 2,
    }  # fmt: skip
