"""Re-crawls of a web that is not our demo find every new story, and only what changed.

Five sites made the way real ones are (``tests/support/realistic_web.py``), each offering a
different route to its stories, are crawled; then each gains two stories, has one edited and one
removed; crawled again; then crawled with no change; then once more with a recrawl interval.
Stories are counted by their text, and each site's request log says what was fetched, and how.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage.db import open_database
from storage.models import Article
from storage.queries import ArticleFilter, iter_articles
from storage.runs import list_runs, run_fetches
from tests.support.realistic_web import RealisticWeb, Site, Story

#: Files a crawl asks each site for once a run, whatever changed: its robots.txt and its TDMRep
#: reservations (publishers' signals).
SITE_POLICY_FILES = {"/robots.txt", "/.well-known/tdmrep.json"}


@pytest.fixture
def web():
    with RealisticWeb() as web:
        yield web


def _squash(text: str) -> str:
    return " ".join(text.split())


def stored_texts(database_url: str) -> list[tuple[str, str]]:
    with open_database(database_url)() as session:
        return [(url, _squash(text)) for url, text in session.execute(sa.select(Article.url, Article.text))]


def copies_by_story(web: RealisticWeb, database_url: str) -> tuple[Counter[int], list[str]]:
    """How many stored articles hold each story's text (by story id), and the stored URLs that
    hold no story at all (a home or section page stored as if it were one)."""
    texts = stored_texts(database_url)
    copies: Counter[int] = Counter()
    strays = []
    for url, text in texts:
        found = [id(story) for story in web.stories if _squash(story.marker) in text]
        copies.update(found)
        if not found:
            strays.append(url)
    return Counter({id(story): copies[id(story)] for story in web.stories}), strays


def last_run(database_url: str):
    with open_database(database_url)() as session:
        run = list_runs(session, limit=1)[0]
        return run, run_fetches(session, run.id)


def urls_with(fetches, outcome: str) -> set[str]:
    return {f.url for f in fetches if f.outcome == outcome}


def story_url(site: Site, story: Story) -> str:
    return site.url(site.story_path(story))


def assert_every_story_once(web: RealisticWeb, database_url: str) -> None:
    copies, strays = copies_by_story(web, database_url)
    missing = [s.headline for s in web.stories if copies[id(s)] == 0]
    doubled = [s.headline for s in web.stories if copies[id(s)] > 1]
    assert not missing, f"stories never stored: {missing}"
    assert not doubled, f"stories stored more than once: {doubled}"
    assert not strays, f"pages stored that are no story: {strays}"


def assert_hubs_fetched_conditionally(web: RealisticWeb) -> None:
    for site in web.sites:
        for path in site.hub_paths():
            hits = site.requests_for(path)
            assert len(hits) == 1, f"{site.name}{path} fetched {len(hits)} times"
            assert hits[0].conditional, f"{site.name}{path} fetched without If-None-Match / If-Modified-Since"


def test_recrawls_find_exactly_the_new_stories(scrapy_crawl, database_url, web):
    def crawl(*extra: str):
        result = scrapy_crawl(
            database_url,
            "-a", "start_urls=" + ",".join(web.start_urls), "-a", "source=realistic",
            "-s", "NEWSDESK_EXTRACT_WORKERS=1",
            *extra,
        )  # fmt: skip
        run, fetches = last_run(database_url)
        assert run.status == "finished", result.stderr[-3000:]
        return fetches

    # Run 1: every story, once; nothing that is not a story.
    fetches = crawl()
    assert_every_story_once(web, database_url)
    assert urls_with(fetches, "stored") == {story_url(site, s) for site in web.sites for s in site.stories}
    for site in web.sites:
        assert all(count == 1 for path, count in site.paths_requested().items() if path not in SITE_POLICY_FILES), site.name

    # Between runs, on every site: two new stories, one edited, one removed.
    day_two = datetime.combine(web.day_one, datetime.min.time(), tzinfo=UTC) + timedelta(days=2, hours=9)
    new, edited, removed = {}, {}, {}
    for site in web.sites:
        new[site.name] = [site.add_story(day_two), site.add_story(day_two + timedelta(hours=2))]
        edited[site.name] = site.stories[2]
        site.edit_story(site.stories[2], day_two + timedelta(hours=1))
        removed[site.name] = site.stories[4]
        site.remove_story(site.stories[4])
    web.clear_logs()

    # Run 2: exactly the new stories, plus the edits a site's sitemap or feed re-dates; every hub
    # asked again with its validators; no unchanged story fetched.
    fetches = crawl()
    assert_every_story_once(web, database_url)
    assert urls_with(fetches, "stored") == {story_url(site, s) for site in web.sites for s in new[site.name]}
    assert urls_with(fetches, "updated") == {story_url(s, edited[s.name]) for s in web.sites if s.edits_redate}
    assert_hubs_fetched_conditionally(web)
    for site in web.sites:
        requested = site.paths_requested()
        for story in site.stories:
            path = site.story_path(story)
            if story in new[site.name]:
                expected = 1
            elif story is edited[site.name]:
                expected = 1 if site.edits_redate else 0
            else:
                expected = 0
            assert requested[path] == expected, f"{site.name}{path} fetched {requested[path]} times, expected {expected}"
    web.clear_logs()

    # Run 3: nothing changed: nothing stored, only hubs asked, each answering 304.
    fetches = crawl()
    assert not urls_with(fetches, "stored") and not urls_with(fetches, "updated")
    assert_every_story_once(web, database_url)
    assert_hubs_fetched_conditionally(web)
    for site in web.sites:
        others = set(site.paths_requested()) - site.hub_paths() - SITE_POLICY_FILES
        assert not others, f"{site.name}: fetched {sorted(others)} though nothing changed"
        assert all(hit.status == 304 for path in site.hub_paths() for hit in site.requests_for(path)), site.name
    web.clear_logs()

    # Run 4, with a recrawl interval: every stored story asked again, conditionally; the removed
    # ones answer 404 / 410 (or redirect to the home page) and the crawl log says so; still every
    # story once.
    time.sleep(1.5)
    fetches = crawl("-a", "recrawl_after=1s")
    assert_every_story_once(web, database_url)
    statuses = {f.url: f.status for f in fetches}
    for site in web.sites:
        gone = story_url(site, removed[site.name])
        if site.gone_status == 301:
            [logged] = [f for f in fetches if f.url == gone]
            assert logged.reason.startswith(f"redirects to {site.url('/')}"), logged
        else:
            assert statuses.get(gone) == site.gone_status, f"{gone}: crawl log has {statuses.get(gone)}"
        for story in site.stories:
            hits = site.requests_for(site.story_path(story))
            assert len(hits) == 1 and hits[0].conditional, f"{site.name}{site.story_path(story)}: {hits}"
    # The edits no sitemap or feed announced are found now, and only they change.
    assert urls_with(fetches, "updated") == {story_url(s, edited[s.name]) for s in web.sites if not s.edits_redate}
    # The removed stories are marked so, kept, and left out of listings unless asked for.
    gone = {story_url(site, removed[site.name]) for site in web.sites}
    with open_database(database_url)() as session:
        marked = set(session.execute(sa.select(Article.url).where(Article.removed_at.is_not(None))).scalars())
        listed = {row.url for row in iter_articles(session, ArticleFilter())}
        every = {row.url for row in iter_articles(session, ArticleFilter(include_removed=True))}
    assert marked == gone
    assert not listed & gone and gone <= every
