"""Two days of crawling a web nobody tuned newsdesk for: only stories are stored, each once.

The four sites of ``tests/support/news_web.py`` (div soup, AMP / print / paged copies, Shift_JIS
known only from the bytes, a wrong ``<html lang>``) are crawled on day one and, after edits and
removals, on day two with every stored story asked again. Stories are found by their own text.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from storage.db import open_database
from storage.models import Article, ArticleVersion
from storage.runs import list_runs, run_fetches
from tests.support.news_web import PLANTED, NewsWeb
from tests.support.stories import duplicate_stories


def _squash(text: str) -> str:
    return " ".join(text.split())


def _crawl(scrapy_crawl, database_url: str, web: NewsWeb, *extra: str):
    """Each site crawled as a source of its own, as a sources file lists them; the crawl log of all."""
    fetches = []
    for site in web.sites:
        scrapy_crawl(
            database_url,
            "-a", f"start_urls={site.url('/')}", "-a", f"source={site.name}",
            "-s", "NEWSDESK_EXTRACT_WORKERS=1",
            *extra,
        )  # fmt: skip
        with open_database(database_url)() as session:
            run = list_runs(session, limit=1)[0]
            assert run.status == "finished", run.error
            fetches.extend(run_fetches(session, run.id))
    return fetches


def _articles(database_url: str) -> list[Article]:
    with open_database(database_url)() as session:
        return list(session.scalars(sa.select(Article)))


def _two_days(scrapy_crawl, database_url, web):
    day_one = _crawl(scrapy_crawl, database_url, web)
    changed = web.next_day()
    time.sleep(1.5)  # recrawl_after=1s: every stored story is asked again on day two
    day_two = _crawl(scrapy_crawl, database_url, web, "-a", "recrawl_after=1s")
    return day_one, day_two, changed


@pytest.fixture
def two_days(scrapy_crawl, database_url):
    with NewsWeb() as web:
        day_one, day_two, changed = _two_days(scrapy_crawl, database_url, web)
        yield web, database_url, day_one, day_two, changed


def _stories_in(web: NewsWeb, text: str) -> list:
    squashed = _squash(text)
    return [story for story in web.stories if _squash(story.marker) in squashed]


def test_only_stories_stored_each_once_languages_right_removals_marked(two_days):
    web, database_url, day_one, day_two, changed = two_days
    articles = _articles(database_url)
    strays = [article.url for article in articles if not _stories_in(web, article.text)]
    assert strays == [], f"pages stored that are no story: {strays}"
    for story in web.stories:
        holders = [article.url for article in articles if story in _stories_in(web, article.text)]
        assert len(holders) == 1, f"{story.headline}: stored as {holders}"
    language_of = {story.slug: site.language for site in web.sites for story in site.stories}
    for article in articles:
        [story] = _stories_in(web, article.text)
        assert article.language == language_of[story.slug], (article.url, article.language)
    # Every hub, media and service page is in the crawl log as not a story, with its type.
    for site in web.sites:
        typed = {f.url: f.reason for f in day_one if f.outcome == "not-an-article"}
        for path, kind in (("/tag/local/", "hub (tag)"), ("/topic/town/", "hub (topic)"),
                           ("/author/ann-lee/", "hub (author)"), ("/lite/", "hub (lite)"),
                           ("/video/harbour-at-dawn/", "media (video)"), ("/contact/", "service (contact)"),
                           ("/about/", "service (about)")):  # fmt: skip
            assert (typed.get(site.url(path)) or "").startswith(kind), (site.url(path), typed.get(site.url(path)))
    # The stories taken down (404 or 410 on day two) are marked removed, and no other.
    removed = {change["removed"].slug for change in changed.values()}
    marked = {story.slug for article in articles if article.removed_at is not None for story in _stories_in(web, article.text)}
    assert marked == removed


def test_no_planted_boilerplate_in_any_stored_body(two_days):
    web, database_url, *_ = two_days
    with open_database(database_url)() as session:
        texts = [*session.scalars(sa.select(Article.text)), *session.scalars(sa.select(ArticleVersion.text))]
    found = sorted({box for boxes in PLANTED.values() for box in boxes for text in texts if _squash(box) in _squash(text)})
    assert found == []


def test_versions_only_for_edited_stories(two_days):
    """AMP, print, paged and "view all" copies of a story are renditions, not versions of it."""
    web, database_url, day_one, day_two, changed = two_days
    assert duplicate_stories(database_url) == 0
    edited = {change["edited"].slug for change in changed.values()}
    with open_database(database_url)() as session:
        rows = session.execute(
            sa.select(Article.text, sa.func.count(ArticleVersion.id))
            .join(ArticleVersion, ArticleVersion.article_id == Article.id, isouter=True)
            .group_by(Article.id)
        ).all()
    versioned = {story.slug for text, versions in rows if versions > 1 for story in _stories_in(web, text)}
    assert versioned == edited
