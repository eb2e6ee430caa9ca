"""Page types from the site in a crawl, and the same verdicts from ``newsdesk extract --db``.

A div-soup site (no ``<article>``, ``og:type`` or JSON-LD) whose frame links a terms page atop
every page, and with a tag page listing a single story. Alone, the terms page reads like a story
(long prose) and the tag page proves nothing (one teaser). What the crawl learns of the site
decides: the frame links the terms page from every page and it has no date or author (a service
page, never stored); the tag page has the URL shape and template of the site's other tag pages (a
hub). ``extract`` reads the same evidence from the store and says the same, with the same reason.
"""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from crawler.cli import cli
from storage.db import open_database
from storage.models import Article
from storage.runs import list_runs, run_fetches
from tests.support.loopback import PageServer
from tests.support.news_web import NewsWeb

TERMS = " ".join(["By using this website you agree to these terms, which we may change at any time."] * 10)


class _Site(PageServer):
    """The news web's div-soup site, with a terms page atop every page and a one-story tag."""

    def __init__(self):
        super().__init__()
        self.site = next(site for site in NewsWeb().sites if site.name == "soup")
        self.lone = self.site.stories[0]

    def answer(self, raw_path: str):
        path = raw_path.split("?")[0]
        if path == "/legal/":
            html = self.site._shell("Terms of use", f'<div class="h">Terms of use</div><div class="x">{TERMS}</div>')
        elif path == "/tag/harbour/":
            html = self.site._listing("tag", path, [self.lone])
        else:
            status, content_type, body = self.site.answer(raw_path)
            if status != 200 or not content_type.startswith("text/html"):
                return (content_type, body) if status == 200 else status
            html = body.decode()
            if path == self.site.story_path(self.lone):
                html = html.replace("</body>", '<div class="t2"><a href="/tag/harbour/">#harbour</a></div></body>')
        # First in the page, so the crawl reads it among its first pages, before it knows the frame.
        legal = '<div class="legal"><a href="/legal/">Terms of use</a></div>'
        return "text/html; charset=utf-8", html.replace("<body>", "<body>" + legal, 1).encode()


def _verdicts(database_url: str) -> dict[str, tuple[str, str | None]]:
    with open_database(database_url)() as session:
        run = list_runs(session, limit=1)[0]
        assert run.status == "finished", run.error
        return {fetch.url: (fetch.outcome, fetch.reason) for fetch in run_fetches(session, run.id)}


def _extract(url: str, *db: str) -> str | None:
    result = CliRunner().invoke(cli, ["extract", url, "--allow-private", *db])
    return None if result.exit_code == 0 else result.output.strip().removeprefix("Error: not an article: ")


def test_site_evidence_types_pages_in_the_crawl_and_in_extract_alike(scrapy_crawl, sqlite_url):
    with _Site() as server:
        site = server.site
        site.base = server.base
        crawl = ("-a", f"start_urls={server.base}/", "-a", "source=soup", "-s", "NEWSDESK_EXTRACT_WORKERS=1")
        scrapy_crawl(sqlite_url, *crawl)
        day_one = _verdicts(sqlite_url)
        scrapy_crawl(sqlite_url, *crawl)  # the next run starts from what the first learnt
        day_two = _verdicts(sqlite_url)
        terms, lone_tag = server.base + "/legal/", server.base + "/tag/harbour/"

        with open_database(sqlite_url)() as session:
            stored = set(session.scalars(sa.select(Article.url)))
        assert stored == {site.url(site.story_path(story)) for story in site.stories}
        outcome, reason = day_one[terms]
        assert outcome == "not-an-article" and reason.startswith("service (service): linked from nearly every page")
        outcome, reason = day_two[lone_tag]
        assert outcome == "not-an-article" and reason.startswith("hub (tag): URL shape /tag/{name}/ and template")

        # extract, given the store, reads the same evidence and gives the crawl's reasons.
        assert _extract(terms, "--db", sqlite_url) == day_one[terms][1]
        assert _extract(lone_tag, "--db", sqlite_url) == day_two[lone_tag][1]
        assert _extract(terms) is None  # without the site's evidence: a page of prose, an article
