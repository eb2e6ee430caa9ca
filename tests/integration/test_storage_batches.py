"""Batches through the writer process: written in order, with the frontier, and never lost when it dies."""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest
import sqlalchemy as sa
from test_storage_articles import article, story

from storage import frontier
from storage import runs as run_log
from storage.batches import BatchTarget, BatchWriter, FetchResult, WriteFailed, write_batch
from storage.db import open_database
from storage.dedup import fingerprint
from storage.models import Article, FetchLog, FrontierEntry

URL = "https://alpha.example/news/{}"


def _target(database_url: str) -> BatchTarget:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
        frontier.add_urls(
            session, "alpha", [frontier.FrontierUrl(url=URL.format(n), kind="page", depth=1) for n in range(1, 5)],
            run_id=run_id,
        )  # fmt: skip
        frontier.lease(session, "alpha", owner=frontier.lease_owner(run_id), limit=10, lease_seconds=600)
    sessions.kw["bind"].dispose()
    return BatchTarget(database_url, "alpha", run_id)


def _fetch(n: int, text: str) -> FetchResult:
    url = URL.format(n)
    # The fingerprint as a crawl's reading workers compute it.
    return FetchResult(
        url, 200, len(text), "stored", None, frontier_url=url, article=article(url, text, fingerprint=fingerprint(text))
    )


def _rows(database_url: str):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            versions = dict(conn.execute(sa.select(Article.canonical_url, Article.version)).all())
            states = dict(conn.execute(sa.select(FrontierEntry.url, FrontierEntry.state)).all())
            logged = conn.execute(sa.select(sa.func.count()).select_from(FetchLog)).scalar_one()
    finally:
        engine.dispose()
    return versions, states, logged


def test_batches_are_written_in_the_order_handed_over(database_url):
    target = _target(database_url)
    writer = BatchWriter(target)
    try:
        first = writer.submit([_fetch(1, story(1)), _fetch(2, story(2))])
        # The same URL with a new body: only an update if the first batch is already written.
        second = writer.submit([_fetch(1, story(11)), _fetch(3, story(3))])
        assert first.result(timeout=60) == ["stored", "stored"]
        assert second.result(timeout=60) == ["updated", "stored"]
    finally:
        writer.close()
    versions, states, logged = _rows(database_url)
    assert versions == {URL.format(1): 2, URL.format(2): 1, URL.format(3): 1}
    # Each fetch is marked done in the frontier in the transaction that stored it.
    assert [states[URL.format(n)] for n in range(1, 5)] == ["done", "done", "done", "leased"]
    assert logged == 4


def test_a_writer_process_that_dies_loses_no_batch(sqlite_url):
    target = _target(sqlite_url)
    writer = BatchWriter(target)
    try:
        assert writer.submit([_fetch(1, story(1))]).result(timeout=60) == ["stored"]
        for pid in list(writer.executor._processes):
            os.kill(pid, signal.SIGKILL)
        batch = [_fetch(2, story(2))]
        with pytest.raises(BrokenProcessPool):
            writer.submit(batch).result(timeout=60)
        # What the store pipeline does with such a batch: write it here, and everything after it.
        writer.write_here_from_now_on(BrokenProcessPool("killed"))
        assert writer.write_here(batch).result() == ["stored"]
        assert writer.submit([_fetch(3, story(3))]).result() == ["stored"]
        assert writer.executor is None
    finally:
        writer.close()
    versions, states, _ = _rows(sqlite_url)
    assert set(versions) == {URL.format(n) for n in (1, 2, 3)}
    assert states[URL.format(4)] == "leased"


def test_a_batch_that_fails_is_written_item_by_item_and_the_bad_item_dead_lettered(sqlite_url):
    target = _target(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_2 BEFORE INSERT ON articles WHEN NEW.canonical_url LIKE '%/news/2' "
            "BEGIN SELECT RAISE(ABORT, 'injected storage fault'); END"
        )
    engine.dispose()
    outcomes = write_batch(target, [_fetch(1, story(1)), _fetch(2, story(2)), _fetch(3, story(3))])
    assert [outcomes[0], outcomes[2]] == ["stored", "stored"]
    assert isinstance(outcomes[1], WriteFailed) and "injected storage fault" in outcomes[1].error
    versions, states, _ = _rows(sqlite_url)
    assert set(versions) == {URL.format(1), URL.format(3)}
    assert states[URL.format(2)] == "failed"  # closed with the dead letter; a later run tries it again
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        payload = json.loads(conn.exec_driver_sql("SELECT payload FROM dead_letters").scalar_one())
    engine.dispose()
    # Enough to store the article again; the fingerprint is derived from its text.
    assert payload["frontier_url"] == URL.format(2)
    assert payload["article"]["text"] == story(2) and payload["article"]["fingerprint"] is None


def test_pages_that_showed_boilerplate_are_all_asked_again_next_run(database_url):
    """Four URLs answering with one wall: none is closed as a story or a duplicate for good."""
    target = _target(database_url)
    wall = story(900)
    outcomes = write_batch(target, [_fetch(n, wall) for n in range(1, 5)])
    assert outcomes == ["stored", "duplicate", "boilerplate", "boilerplate"]
    sessions = open_database(database_url)
    with sessions.begin() as session:
        # The two pages that showed the wall first are marked to be asked again, like the others.
        assert dict(session.execute(sa.select(FrontierEntry.url, FrontierEntry.outcome)).all()) == {
            URL.format(n): "boilerplate" for n in range(1, 5)
        }
        next_run = run_log.start_run(session, "alpha")
        reopened = frontier.add_urls(
            session, "alpha", [frontier.FrontierUrl(url=URL.format(n), kind="page", depth=1) for n in range(1, 5)],
            run_id=next_run,
        )  # fmt: skip
    sessions.kw["bind"].dispose()
    assert sorted(reopened) == [URL.format(n) for n in range(1, 5)]
