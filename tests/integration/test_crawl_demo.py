"""The news spider end to end: `scrapy crawl` against the served demo web, into SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from datetime import UTC
from pathlib import Path

from support.stories import duplicate_stories

from crawler.demo import ground_truth
from storage.db import open_database
from storage.queries import ArticleFilter, get_article, iter_articles
from storage.runs import list_runs, run_fetches

REPO = Path(__file__).resolve().parents[2]

#: The extraction pool as in production (one worker per core).
POOL = ("-s", "NEWSDESK_EXTRACT_WORKERS=2")

BOILERPLATE = (
    "icon bookmark",
    "Dear readers",
    "vibrant engagement",
    "Podcasts",
    "0:00",
    "Advertisement",
    "Related stories",
    "cookies",
    "newsletter",
)


def stored(database_url: str) -> list:
    sessions = open_database(database_url)
    with sessions() as session:
        return list(iter_articles(session, ArticleFilter()))


def token_f1(predicted: str, truth: str) -> float:
    p = collections.Counter(re.findall(r"\w+", predicted.lower()))
    t = collections.Counter(re.findall(r"\w+", truth.lower()))
    common = sum((p & t).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def test_crawl_stores_every_demo_article_once_with_clean_bodies(demo_web, database_url, scrapy_crawl):
    scrapy_crawl(database_url, "-a", f"start_urls={demo_web.base_url}/", *POOL)

    rows = stored(database_url)
    by_url = {row.canonical_url for row in rows}
    # The demo's AMP copies and URL variants carry the same story: each is stored once.
    assert duplicate_stories(database_url) == 0

    truth = {demo_web.base_url + article.path: article for article in ground_truth(edition=1)}
    assert set(by_url) == set(truth), (
        f"missing: {sorted(set(truth) - set(by_url))}\nnot articles: {sorted(set(by_url) - set(truth))}"
    )
    for row in rows:
        expected = truth[row.canonical_url]
        assert row.title == expected.title
        assert row.published_at.date() == expected.published_at.astimezone(UTC).date()
        if expected.site != "ledger":  # the div-soup site shows its time only as prose
            assert row.published_at == expected.published_at
        assert token_f1(row.text, expected.body) > 0.95, row.canonical_url
        for snippet in BOILERPLATE:
            assert snippet not in row.text, (snippet, row.canonical_url)


def test_syndicated_copies_share_a_cluster_and_nothing_else_does(demo_web, database_url, scrapy_crawl):
    scrapy_crawl(database_url, "-a", f"start_urls={demo_web.base_url}/", *POOL)
    rows = {row.canonical_url: row for row in stored(database_url)}
    groups = collections.defaultdict(set)
    for article in ground_truth(edition=1):
        key = article.syndication_group or article.path
        groups[key].add(rows[demo_web.base_url + article.path].cluster_id)
    assert all(len(clusters) == 1 for clusters in groups.values())
    assert len({next(iter(c)) for c in groups.values()}) == len(groups)


def test_second_crawl_fetches_only_what_is_new_and_versions_the_edited_article(demo_web, database_url, scrapy_crawl):
    start = f"start_urls={demo_web.base_url}/"
    scrapy_crawl(database_url, "-a", start, *POOL)
    first_rows = len(stored(database_url))

    demo_web.requests.clear()
    demo_web.publish_next_edition()
    scrapy_crawl(database_url, "-a", start, *POOL)

    new_paths = {a.path for a in ground_truth(edition=2) if a.edition_added == 2}
    article_paths = {a.path for a in ground_truth(edition=2)}
    fetched_articles = {p.split("?")[0] for p in demo_web.requests if p.split("?")[0] in article_paths}
    # Only the new articles are fetched again (the edited one is in the sitemap with a newer lastmod).
    assert new_paths <= fetched_articles
    assert len(fetched_articles - new_paths) <= 1
    assert len(stored(database_url)) == first_rows + len(new_paths)

    # The article edited in edition 2 is version 2, with both bodies kept.
    before = {a.path: a for a in ground_truth(edition=1)}
    (edited,) = [a for a in ground_truth(edition=2) if a.path in before and a.body != before[a.path].body]
    with open_database(database_url)() as session:
        detail = get_article(session, demo_web.base_url + edited.path)
    assert detail.article.version == 2
    assert [v.version for v in detail.versions] == [1, 2]
    assert token_f1(detail.versions[0].text, before[edited.path].body) > 0.95
    assert token_f1(detail.versions[1].text, edited.body) > 0.95
    unchanged = [row for row in stored(database_url) if row.canonical_url != demo_web.base_url + edited.path]
    assert all(row.version == 1 for row in unchanged)
    # The re-crawl stored no story a second time, as an article or as a version.
    assert duplicate_stories(database_url) == 0


def test_private_address_guard_refuses_loopback_without_a_single_hit(demo_web, sqlite_url):
    # The guard is on by default: every request is refused, so the crawl fetched nothing and fails.
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={demo_web.base_url}/",
               "-s", f"NEWSDESK_DATABASE_URL={sqlite_url}"]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert result.returncode == 1, result.stderr[-3000:]
    assert demo_web.requests == []
    sessions = open_database(sqlite_url)
    with sessions() as session:
        (run,) = list_runs(session)
        outcomes = {fetch.outcome for fetch in run_fetches(session, run.id)}
    assert outcomes == {"refused"} and run.status == "failed"
