"""Four writer processes racing on near-duplicate sets on PostgreSQL (no global store lock).

Each round, every writer stores the round's articles in its own shuffled order, a few a
transaction: chains of near-copies (copy i is near copy i+1 only, so one cluster needs merges) in
several sources, and exact copies under another URL of one source (aliases). Twenty rounds, each
compared with the same articles stored one by one on SQLite: the same clusters, every time, and no
story stored twice.
"""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime

import sqlalchemy as sa
from support.stories import duplicate_stories

from storage.articles import ArticleIn, store_articles
from storage.db import open_database, run_in_transaction
from storage.models import Article

WRITERS = 4
ROUNDS = 20
STORIES = 5
COPIES = 5  # a chain: copy i shares 160 of its 200 words with copy i + 1, 120 with copy i + 2
BATCH = 3
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _words(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(5000)}" for _ in range(count)]


def _item(source: str, url: str, text: str) -> ArticleIn:
    return ArticleIn(
        source=source, url=url, canonical_url=url, title="t", text=text, authors=(), published_at=T0,
        modified_at=None, language="en", description=None, section=None, tags=(), image_url=None,
        word_count=len(text.split()), fetched_at=T0,
    )  # fmt: skip


def round_items(round_number: int) -> list[ArticleIn]:
    items = []
    for story in range(STORIES):
        words = _words(round_number * 100 + story, 200 + 40 * (COPIES - 1))
        for copy in range(COPIES):
            text = " ".join(words[copy * 40 : copy * 40 + 200])
            items.append(_item(f"s{copy}", f"https://s{copy}.example/r{round_number}/story-{story}", text))
        # The first copy again under another URL of its source: an alias, never a second article.
        first = " ".join(words[:200])
        items.append(_item("s0", f"https://s0.example/r{round_number}/amp/story-{story}", first))
    return items


def clusters(factory, round_number: int) -> set[frozenset[str]]:
    with factory() as session:
        rows = session.execute(
            sa.select(Article.cluster_id, Article.canonical_url).where(
                Article.canonical_url.like(f"%/r{round_number}/%")
            )
        ).all()
    groups: dict[int, set[str]] = {}
    for cluster_id, url in rows:
        # Whichever of a page and its alias came first names the article.
        groups.setdefault(cluster_id, set()).add(url.replace("/amp/", "/"))
    return {frozenset(group) for group in groups.values()}


def _writer(url: str, seed: int, barrier, errors) -> None:
    try:
        factory = open_database(url)
        for round_number in range(ROUNDS):
            items = round_items(round_number)
            random.Random(seed * 1000 + round_number).shuffle(items)
            barrier.wait(timeout=120)
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                run_in_transaction(factory, lambda session, batch=batch: store_articles(session, batch), retries=10)
        factory.kw["bind"].dispose()
    except BaseException as exc:  # reported to the parent, which fails the test
        errors.put(f"writer {seed}: {type(exc).__name__}: {exc}")
        raise


def test_racing_writers_cluster_as_one_writer_does(postgres_url, sqlite_url):
    serial = open_database(sqlite_url)
    for round_number in range(ROUNDS):
        for item in round_items(round_number):
            run_in_transaction(serial, lambda session, item=item: store_articles(session, [item]))

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    errors = context.Queue()
    writers = [context.Process(target=_writer, args=(postgres_url, seed, barrier, errors)) for seed in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=600)
    messages = []
    while not errors.empty():
        messages.append(errors.get())
    assert not messages, messages
    assert [w.exitcode for w in writers] == [0] * WRITERS

    raced = open_database(postgres_url)
    differing = [n for n in range(ROUNDS) if clusters(raced, n) != clusters(serial, n)]
    assert differing == []
    # The chain makes each story one cluster of all its copies.
    assert len(clusters(serial, 0)) == STORIES
    with raced() as session:
        articles = session.execute(sa.select(sa.func.count()).select_from(Article)).scalar_one()
    assert articles == ROUNDS * STORIES * COPIES
    assert duplicate_stories(postgres_url) == 0
    raced.kw["bind"].dispose()
    serial.kw["bind"].dispose()
