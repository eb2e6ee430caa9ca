"""Four real processes storing overlapping articles at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from support.stories import duplicate_stories

from storage.articles import ArticleIn, store_articles
from storage.db import open_database, run_in_transaction
from storage.models import Article, ArticleUrl, ArticleVersion, Cluster

WORKERS = 4
STORIES = 24
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _text(seed: int) -> str:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(3000)]
    return " ".join(rng.choice(vocabulary) for _ in range(250))


def _items() -> list[ArticleIn]:
    """Each story in three sources (near-duplicate copies) plus an alias URL in the first."""
    items = []
    for n in range(STORIES):
        text = _text(n)
        for source_index, source in enumerate(("alpha", "beta", "gamma")):
            body = text if source_index == 0 else f"Copied from partner {source}. " + text
            url = f"https://{source}.example/story-{n}"
            items.append(_item(source, url, url, body, published_at=T0 + timedelta(minutes=source_index)))
        items.append(_item("alpha", f"https://alpha.example/amp/story-{n}", f"https://alpha.example/amp/story-{n}", text))
    return items


def _item(source, url, canonical_url, text, published_at=T0) -> ArticleIn:
    return ArticleIn(
        source=source, url=url, canonical_url=canonical_url, title="t", text=text, authors=(),
        published_at=published_at, modified_at=None, language="en", description=None, section=None,
        tags=(), image_url=None, word_count=len(text.split()), fetched_at=T0,
    )


def _worker(url: str, seed: int, barrier, errors) -> None:
    try:
        factory = open_database(url)
        items = _items()
        random.Random(seed).shuffle(items)
        items = items[: int(len(items) * 0.8)]  # overlapping, not identical, workloads
        barrier.wait(timeout=60)
        for start in range(0, len(items), 5):
            batch = items[start : start + 5]
            run_in_transaction(factory, lambda session, batch=batch: store_articles(session, batch), retries=8)
        # Every worker then re-stores everything: all of it must come back unchanged or alias.
        run_in_transaction(factory, lambda session: store_articles(session, _items()), retries=8)
        factory.kw["bind"].dispose()
    except BaseException as exc:  # reported to the parent, which fails the test
        errors.put(f"worker {seed}: {type(exc).__name__}: {exc}")
        raise


def _clusters(factory) -> set[frozenset[str]]:
    with factory() as session:
        rows = session.execute(sa.select(Article.cluster_id, Article.canonical_url)).all()
    groups: dict[int, set[str]] = {}
    for cluster_id, url in rows:
        groups.setdefault(cluster_id, set()).add(url.replace("/amp/", "/"))
    return {frozenset(group) for group in groups.values()}


def test_four_processes_write_without_duplicates_or_losses(database_url):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    errors = context.Queue()
    processes = [
        context.Process(target=_worker, args=(database_url, seed, barrier, errors)) for seed in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
    messages = []
    while not errors.empty():
        messages.append(errors.get())
    assert not messages, messages
    assert [p.exitcode for p in processes] == [0] * WORKERS

    factory = open_database(database_url)
    with factory() as session:
        articles = session.execute(sa.select(Article.canonical_url)).scalars().all()
        urls = session.execute(sa.select(ArticleUrl.url)).scalars().all()
        versions = session.execute(sa.select(sa.func.count()).select_from(ArticleVersion)).scalar_one()
        clusters = session.execute(sa.select(sa.func.count()).select_from(Cluster)).scalar_one()
        empty_clusters = session.execute(
            sa.select(sa.func.count())
            .select_from(Cluster)
            .where(~sa.exists().where(Article.cluster_id == Cluster.id))
        ).scalar_one()
    # One article per story per source (the alpha alias folds into the alpha article), no loss.
    assert len(articles) == STORIES * 3 and duplicate_stories(database_url) == 0
    assert sorted(urls) == sorted(
        [f"https://{s}.example/story-{n}" for s in ("alpha", "beta", "gamma") for n in range(STORIES)]
        + [f"https://alpha.example/amp/story-{n}" for n in range(STORIES)]
    )
    assert versions == STORIES * 3
    assert clusters == STORIES and empty_clusters == 0
    assert _clusters(factory) == {
        frozenset(f"https://{s}.example/story-{n}" for s in ("alpha", "beta", "gamma")) for n in range(STORIES)
    }
    factory.kw["bind"].dispose()
