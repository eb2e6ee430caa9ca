"""Removed stories: a re-fetch that finds a stored story gone (404, 410, a redirect to the home
page) marks it removed and keeps it; the read path hides it unless asked. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from test_storage_articles import article, story

from crawler.cli import cli
from storage import runs as run_log
from storage.batches import BatchTarget, FetchResult, write_batch
from storage.db import open_database
from storage.dedup import fingerprint
from storage.models import Article, ArticleVersion, FetchLog
from storage.queries import ArticleFilter, corpus_stats, count_articles, get_article, iter_articles, list_clusters

SITE = "https://alpha.example"
GONE = f"{SITE}/news/gone"
KEPT = f"{SITE}/news/kept"
WIRE = f"{SITE}/news/wire"


@pytest.fixture
def target(database_url) -> BatchTarget:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
    sessions.kw["bind"].dispose()
    return BatchTarget(database_url, "alpha", run_id)


def stored(url: str, text: str) -> FetchResult:
    item = article(url, text, fingerprint=fingerprint(text))
    return FetchResult(url, 200, len(text), "stored", None, frontier_url=url, article=item)


def failed(url: str, status: int, frontier_url: str | None = None) -> FetchResult:
    return FetchResult(url, status, 0, "error", f"HTTP {status}", frontier_url=frontier_url or url)


def removed_at(target: BatchTarget) -> dict[str, datetime | None]:
    with open_database(target.database_url)() as session:
        return dict(session.execute(sa.select(Article.canonical_url, Article.removed_at)).all())


@pytest.fixture
def corpus(target) -> BatchTarget:
    """Three stories; ``GONE`` and ``WIRE`` share a cluster (the same wire copy, lightly edited)."""
    wire = story(1)
    batch = [stored(GONE, wire), stored(KEPT, story(2)), stored(WIRE, wire + "\n\nFrom the wire.")]
    assert write_batch(target, batch) == ["stored", "stored", "stored"]
    return target


# -- the write path ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_a_story_answering_gone_is_marked_removed_and_kept(corpus, status):
    before = datetime.now(UTC)
    assert write_batch(corpus, [failed(GONE, status)]) == ["error"]
    marks = removed_at(corpus)
    assert marks[KEPT] is None and marks[WIRE] is None
    assert marks[GONE] is not None and before <= marks[GONE] <= datetime.now(UTC)
    with open_database(corpus.database_url)() as session:
        gone_id = session.execute(sa.select(Article.id).where(Article.canonical_url == GONE)).scalar_one()
        assert session.execute(sa.select(sa.func.count()).where(ArticleVersion.article_id == gone_id)).scalar_one() == 1
        # The crawl log keeps the fetch as it was.
        logged = session.execute(sa.select(FetchLog.status, FetchLog.outcome).where(FetchLog.url == GONE)).all()
        assert (status, "error") in logged


def test_the_first_time_seen_is_kept(corpus):
    write_batch(corpus, [failed(GONE, 404)])
    first = removed_at(corpus)[GONE]
    write_batch(corpus, [failed(GONE, 410)])
    assert removed_at(corpus)[GONE] == first


def test_a_redirect_to_the_home_page_marks_the_story_asked_for(corpus):
    # The home page read for links: the final URL is the site root, the frontier's URL the story.
    home = FetchResult(f"{SITE}/", 200, 100, "not-an-article", "hub", frontier_url=GONE)
    elsewhere = FetchResult(f"{SITE}/news/wire-2", 200, 100, "not-an-article", "hub", frontier_url=KEPT)
    # The home page asked conditionally after the redirect: not modified, and still no story.
    home_unchanged = FetchResult(f"{SITE}/", 304, 0, "unchanged", "HTTP 304 not modified", frontier_url=WIRE)
    write_batch(corpus, [home, elsewhere, home_unchanged])
    marks = removed_at(corpus)
    assert marks[GONE] is not None and marks[WIRE] is not None
    assert marks[KEPT] is None, "a redirect to another page is no removal"


def test_other_urls_and_other_errors_mark_nothing(corpus):
    # Another rendition of a story (its AMP copy) going away says nothing about the story.
    amp = f"{SITE}/amp/news/kept"
    copy = article(amp, story(2), canonical_url=KEPT, fingerprint=fingerprint(story(2)))
    assert write_batch(corpus, [FetchResult(amp, 200, 1, "stored", None, frontier_url=amp, article=copy)]) == [
        "duplicate"
    ]
    write_batch(corpus, [failed(f"{SITE}/news/never-stored", 404), failed(amp, 404), failed(KEPT, 500)])
    assert set(removed_at(corpus).values()) == {None}


def test_a_later_fetch_that_stores_the_story_clears_the_mark(corpus):
    write_batch(corpus, [failed(GONE, 404), failed(KEPT, 410)])
    # Served again, unchanged; and served again with an edit.
    assert write_batch(corpus, [stored(GONE, story(1)), stored(KEPT, story(2) + "\n\nCorrected.")]) == [
        "unchanged", "updated",
    ]  # fmt: skip
    assert set(removed_at(corpus).values()) == {None}


def test_a_conditional_fetch_answering_not_modified_clears_the_mark(corpus):
    write_batch(corpus, [failed(GONE, 404)])
    write_batch(corpus, [FetchResult(GONE, 304, 0, "unchanged", "HTTP 304 not modified", frontier_url=GONE)])
    assert removed_at(corpus)[GONE] is None


# -- the read path -------------------------------------------------------------------------------


def test_queries_hide_removed_stories_unless_asked(corpus):
    write_batch(corpus, [failed(GONE, 404)])
    with open_database(corpus.database_url)() as session:
        shown = [row.canonical_url for row in iter_articles(session, ArticleFilter(sort="id"))]
        assert shown == [KEPT, WIRE]
        every = list(iter_articles(session, ArticleFilter(sort="id", include_removed=True)))
        assert [row.canonical_url for row in every] == [GONE, KEPT, WIRE]
        assert every[0].removed_at is not None and every[0].as_dict()["removed_at"] == every[0].removed_at.isoformat()
        assert count_articles(session, ArticleFilter()) == 2
        assert count_articles(session, ArticleFilter(include_removed=True)) == 3
        [cluster] = list_clusters(session, min_size=2, include_removed=True)
        assert {m.canonical_url for m in cluster.members} == {GONE, WIRE}
        visible = {c.id: [m.canonical_url for m in c.members] for c in list_clusters(session, min_size=1, limit=None)}
        assert visible[cluster.id] == [WIRE]
        assert list_clusters(session, min_size=2) == []
        stats = corpus_stats(session)
        assert stats.articles == 3 and stats.removed == 1
        assert [(s.source, s.removed) for s in stats.sources] == [("alpha", 1)]
        # Still found by id or URL, saying when it went.
        assert get_article(session, GONE).article.removed_at is not None


# -- the commands --------------------------------------------------------------------------------


def cli_output(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", database_url, *args], terminal_width=160)
    assert result.exit_code == 0 and result.exception is None, result.output
    return result.output


def test_commands_hide_removed_stories_unless_include_removed(corpus, tmp_path):
    write_batch(corpus, [failed(GONE, 410)])
    db = corpus.database_url

    def listed(*args: str) -> set[str]:
        return {row["canonical_url"] for row in json.loads(cli_output(db, "articles", "--format", "json", *args))}

    assert listed() == {KEPT, WIRE}
    assert listed("--include-removed") == {GONE, KEPT, WIRE}
    assert cli_output(db, "articles", "--include-removed").count("(removed") == 1

    for flags, expected in (((), {KEPT, WIRE}), (("--include-removed",), {GONE, KEPT, WIRE})):
        out = tmp_path / f"export{len(flags)}.jsonl"
        cli_output(db, "export", "--format", "jsonl", "-o", str(out), *flags)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert {row["canonical_url"] for row in rows} == expected
        assert all((row["removed_at"] is not None) == (row["canonical_url"] == GONE) for row in rows)

    def members(*args: str) -> set[str]:
        found = json.loads(cli_output(db, "clusters", "--format", "json", *args))
        return {member["canonical_url"] for cluster in found for member in cluster["members"]}

    assert members() == set()  # the wire story has one visible member left
    assert members("--include-removed") == {GONE, WIRE}

    assert json.loads(cli_output(db, "stats", "--format", "json"))["removed"] == 1
    assert "(1 removed)" in cli_output(db, "stats")
    assert "removed 20" in cli_output(db, "show", GONE)
    assert "removed 20" not in cli_output(db, "show", KEPT)


def test_every_listing_command_offers_include_removed():
    for command in (["articles"], ["export"], ["clusters"], ["clusters", "show"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert "--include-removed" in result.output, command

