"""The read path and the crawl log on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from storage.articles import ArticleIn, store_articles
from storage.db import open_database
from storage.queries import ArticleFilter, corpus_stats, get_article, iter_articles
from storage.runs import (
    finish_run,
    get_run,
    list_runs,
    record_dead_letter,
    record_fetch,
    record_fetches,
    run_fetches,
    start_run,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def _body(topic: str, n: int, words: int = 120) -> str:
    """Text unrelated to any other n: random words, so only deliberate copies cluster."""
    rng = random.Random(n)
    vocabulary = [f"{topic}{i}" for i in range(40)] + [f"w{i}" for i in range(400)]
    return " ".join(rng.choice(vocabulary) for _ in range(words)) + "."


def _item(source, slug, *, title, text, published_at=T0, language="en", url=None) -> ArticleIn:
    canonical = f"https://{source}.example/{slug}"
    return ArticleIn(
        source=source,
        url=url or canonical,
        canonical_url=canonical,
        title=title,
        text=text,
        authors=("Reporter",),
        published_at=published_at,
        modified_at=None,
        language=language,
        description="desc",
        section="world",
        tags=("a", "b"),
        image_url=None,
        word_count=len(text.split()),
        fetched_at=T0 + timedelta(days=1),
    )


@pytest.fixture
def corpus(database_url):
    factory = open_database(database_url)
    wire = _body("wire", 0)
    items = [
        _item("alpha", "wire", title="Wire story", text=wire, published_at=T0 + timedelta(hours=2)),
        _item("beta", "wire", title="Wire story (beta)", text=wire + " Extra line.", published_at=T0),
        _item("alpha", "fox", title="The quick 100% fox_jumps", text=_body("fox", 1), published_at=T0 + timedelta(days=3),
              url="https://alpha.example/fox?ref=home"),
        _item("beta", "french", title="Nouvelles", text=_body("paris", 2), language="fr", published_at=T0 + timedelta(days=5)),
        _item("gamma", "undated", title="Undated", text=_body("short", 3)[:200], published_at=None),
    ]
    with factory() as session, session.begin():
        results = store_articles(session, items)
    yield factory, {r_item.canonical_url: r for r_item, r in zip(items, results)}
    factory.kw["bind"].dispose()


def _urls(factory, **kw) -> list[str]:
    with factory() as session:
        return [row.canonical_url for row in iter_articles(session, ArticleFilter(**kw))]


def test_filters(corpus):
    factory, _ = corpus
    assert len(_urls(factory)) == 5
    assert set(_urls(factory, source="alpha")) == {"https://alpha.example/wire", "https://alpha.example/fox"}
    assert _urls(factory, language="fr") == ["https://beta.example/french"]
    assert set(_urls(factory, since=T0 + timedelta(days=1))) == {
        "https://alpha.example/fox",
        "https://beta.example/french",
    }
    assert _urls(factory, until=T0 + timedelta(hours=1)) == ["https://beta.example/wire"]
    assert _urls(factory, min_words=500) == []
    assert _urls(factory, url="https://alpha.example/fox?ref=home") == ["https://alpha.example/fox"]
    assert len(_urls(factory, limit=2)) == 2


def test_contains_is_case_insensitive_and_escapes_wildcards(corpus):
    factory, _ = corpus
    assert _urls(factory, contains="QUICK") == ["https://alpha.example/fox"]
    assert _urls(factory, contains="100%") == ["https://alpha.example/fox"]
    assert _urls(factory, contains="fox_jumps") == ["https://alpha.example/fox"]
    assert _urls(factory, contains="100%_") == []
    assert _urls(factory, contains="x_j") == ["https://alpha.example/fox"]
    assert _urls(factory, contains="'; DROP TABLE articles; --") == []
    assert len(_urls(factory)) == 5


def test_unique_keeps_one_article_per_story_and_cluster_filter(corpus):
    factory, results = corpus
    wire_cluster = results["https://alpha.example/wire"].cluster_id
    assert results["https://beta.example/wire"].cluster_id == wire_cluster
    unique = _urls(factory, unique=True)
    assert len(unique) == 4
    assert "https://beta.example/wire" in unique  # published first
    assert set(_urls(factory, cluster_id=wire_cluster)) == {"https://alpha.example/wire", "https://beta.example/wire"}


def test_sorts(corpus):
    factory, _ = corpus
    newest_first = _urls(factory)
    assert newest_first[0] == "https://beta.example/french" and newest_first[-1] == "https://gamma.example/undated"
    assert _urls(factory, sort="oldest")[0] == "https://beta.example/wire"
    assert _urls(factory, sort="title")[0] == "https://beta.example/french"
    with pytest.raises(ValueError, match="unknown sort"):
        _urls(factory, sort="text; DROP TABLE articles")


def test_rows_serialise_to_json(corpus):
    factory, _ = corpus
    with factory() as session:
        row = next(iter_articles(session, ArticleFilter(source="alpha", sort="oldest")))
    data = row.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["published_at"] == (T0 + timedelta(hours=2)).isoformat()
    assert data["authors"] == ["Reporter"] and data["tags"] == ["a", "b"]
    assert set(data) == {
        "id", "source", "url", "canonical_url", "title", "authors", "published_at", "modified_at",
        "language", "description", "section", "tags", "image_url", "text", "markdown", "word_count",
        "content_hash", "cluster_id", "version", "first_seen_at", "last_seen_at", "removed_at",
    }


def test_get_article_by_id_url_or_variant(corpus):
    factory, results = corpus
    fox_id = results["https://alpha.example/fox"].article_id
    with factory() as session:
        by_id = get_article(session, fox_id)
        by_str_id = get_article(session, str(fox_id))
        by_variant = get_article(session, "https://alpha.example/fox?ref=home")
        wire = get_article(session, "https://alpha.example/wire")
        assert get_article(session, "https://nowhere.example/") is None
        assert get_article(session, 99999) is None
    assert by_id.article.id == by_str_id.article.id == by_variant.article.id == fox_id
    assert set(by_id.urls) == {"https://alpha.example/fox", "https://alpha.example/fox?ref=home"}
    assert [v.version for v in by_id.versions] == [1]
    assert [m.canonical_url for m in wire.cluster_mates] == ["https://beta.example/wire"]
    assert wire.representative_id == results["https://beta.example/wire"].article_id
    data = wire.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["canonical_url"] == "https://alpha.example/wire" and data["text"]
    assert data["urls"] == ["https://alpha.example/wire"]
    assert [v["version"] for v in data["versions"]] == [1]
    assert [m["canonical_url"] for m in data["cluster_mates"]] == ["https://beta.example/wire"]


def test_corpus_stats(corpus):
    factory, _ = corpus
    with factory() as session, session.begin():
        run_id = start_run(session, "alpha", started_at=T0)
        record_fetches(session, run_id, [
            {"url": "https://alpha.example/wire", "status": 200, "bytes": 1000, "outcome": "stored"},
            {"url": "https://alpha.example/", "status": 200, "bytes": 500, "outcome": "not-an-article"},
        ])
        finish_run(session, run_id, status="finished", counts={"stored": 1})
    with factory() as session:
        stats = corpus_stats(session)
    assert (stats.articles, len(stats.sources), stats.clusters, stats.multi_article_clusters) == (5, 3, 4, 1)
    assert {s.source: s.articles for s in stats.sources} == {"alpha": 2, "beta": 2, "gamma": 1}
    assert stats.fetch_outcomes == {"not-an-article": 1, "stored": 1}
    assert stats.last_run.id == run_id
    assert json.dumps(stats.as_dict())


def test_crawl_log(database_url):
    factory = open_database(database_url)
    with factory() as session, session.begin():
        first = start_run(session, "alpha", started_at=T0)
        second = start_run(session, None, started_at=T0 + timedelta(hours=1))
        record_fetch(session, first, url="https://alpha.example/a", status=200, bytes=10, outcome="stored", article_id=None)
        record_fetch(session, first, url="https://alpha.example/robots", status=None, bytes=None,
                     outcome="skipped-by-robots", reason="disallowed")
        record_dead_letter(session, url="https://alpha.example/bad", source="alpha", payload={"title": "x"}, error="boom")
        with pytest.raises(ValueError, match="unknown fetch outcome"):
            record_fetch(session, first, url="x", status=None, bytes=None, outcome="teleported")
        finish_run(session, first, status="finished", counts={"stored": 1, "skipped-by-robots": 1})
    with factory() as session:
        assert [r.id for r in list_runs(session)] == [second, first]
        run = get_run(session, first)
        assert run.status == "finished" and run.counts == {"stored": 1, "skipped-by-robots": 1}
        assert run.finished_at is not None and run.finished_at.tzinfo is not None
        assert get_run(session, second).status == "running"
        assert get_run(session, 12345) is None
        assert [f.outcome for f in run_fetches(session, first)] == ["stored", "skipped-by-robots"]
        assert [f.reason for f in run_fetches(session, first, outcome="skipped-by-robots")] == ["disallowed"]
    factory.kw["bind"].dispose()


def test_streaming_export_does_not_block_writers_on_sqlite(sqlite_url):
    factory = open_database(sqlite_url)
    writer = open_database(sqlite_url)  # a second engine: another process, as far as SQLite knows
    items = [_item("alpha", f"s{n}", title=f"t{n}", text=_body("x", n)) for n in range(1200)]
    with factory() as session, session.begin():
        store_articles(session, items)
    with factory() as reader:
        stream = iter_articles(reader, ArticleFilter(sort="id"))
        first = next(stream)
        started = time.monotonic()
        with writer() as session, session.begin():  # BEGIN IMMEDIATE: would wait 30 s on a lock
            store_articles(session, [_item("beta", "during", title="x", text=_body("y", 9999))])
        assert time.monotonic() - started < 5
        assert first.id == 1 and sum(1 for _ in stream) == 1199  # the reader's snapshot
    factory.kw["bind"].dispose()
    writer.kw["bind"].dispose()


def test_numbers_past_the_stores_integers_match_nothing_on_every_store(corpus):
    """PostgreSQL's ids and counts are int4: 2**31 sent as it is fails the whole query there."""
    from storage.queries import get_cluster, list_clusters
    from storage.runs import get_run

    huge = 2**63 - 1
    factory, _ = corpus
    with factory() as session:
        assert get_article(session, 2**31) is None and get_article(session, str(huge)) is None
        assert get_run(session, huge) is None and get_cluster(session, 2**31) is None
        assert list(iter_articles(session, ArticleFilter(cluster_id=2**31))) == []
        assert list(iter_articles(session, ArticleFilter(min_words=huge))) == []
        assert list_clusters(session, min_sources=huge) == [] and list_clusters(session, min_size=huge) == []
