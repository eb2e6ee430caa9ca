"""No value a web page can hold fails a write: every story is stored, on SQLite and PostgreSQL.

Each hostile value goes through the real write path (storage.batches.write_batch, as a crawl's
writer calls it), with the frontier and the crawl log in the same transaction.
"""

from __future__ import annotations

import dataclasses
import random
import string

import pytest
import sqlalchemy as sa
from test_storage_articles import article, story

from storage import articles as article_store
from storage import batches, db, frontier
from storage import runs as run_log
from storage.batches import BatchTarget, FetchResult, WriteFailed, write_batch
from storage.db import open_database
from storage.dedup import fingerprint
from storage.models import Article, DeadLetter, FetchLog, FrontierEntry
from storage.values import MAX_URL_BYTES

SITE = "https://alpha.example/news/{}"
# Random letters: PostgreSQL compresses an index row of one repeated letter to almost nothing.
LONG_URL = "https://alpha.example/news/" + "".join(
    random.Random(9_040).choices(string.ascii_letters + string.digits, k=9_000)
)
# 1.3 MB of distinct words: more than a PostgreSQL tsvector holds.
HUGE_TITLE = " ".join(f"harbour{n}" for n in range(130_000))

# name -> the fields of the article (and the fetch) that carry the hostile value
HOSTILE = {
    "nul-in-title": {"title": "Harbour\x00 plan"},
    "surrogate-in-title": {"title": "Harbour \ud800 plan"},
    "nul-in-text": {"text_suffix": "\x00 and more"},
    "surrogate-in-description": {"description": "A standfirst \udcff here"},
    "nul-in-description": {"description": "A standfirst \x00 here"},
    "surrogate-in-author": {"authors": ("Jane \ud83d Roe",)},
    "nul-in-tag": {"tags": ("port\x00", "council")},
    "surrogate-in-section": {"section": "News \udfff"},
    "nul-in-etag": {"etag": 'W/"abc\x00def"'},
    "long-etag": {"etag": '"' + "e" * 20_000 + '"'},
    "huge-title": {"title": HUGE_TITLE},
    "long-canonical": {"canonical_url": LONG_URL},
    "redirect-to-long-url": {"url": LONG_URL},
    "long-language": {"language": "en-" + "x" * 100},
    "long-image-url": {"image_url": "https://img.example/" + "i" * 9_000},
}


def _target(database_url: str, urls: list[str]) -> BatchTarget:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
        frontier.add_urls(
            session, "alpha", [frontier.FrontierUrl(url=url, kind="page", depth=1) for url in urls], run_id=run_id
        )
        frontier.lease(session, "alpha", owner=frontier.lease_owner(run_id), limit=100, lease_seconds=600)
    sessions.kw["bind"].dispose()
    return BatchTarget(database_url, "alpha", run_id)


def _hostile_fetch(n: int, values: dict) -> FetchResult:
    frontier_url = SITE.format(n)
    values = dict(values)
    text = story(n) + values.pop("text_suffix", "")
    etag = values.pop("etag", None)
    item = article(values.pop("url", frontier_url), text, fingerprint=fingerprint(text), etag=etag)
    item = dataclasses.replace(item, **values)
    return FetchResult(item.url, 200, len(text), "stored", None, frontier_url=frontier_url, article=item, etag=etag)


def _stored(database_url: str):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            texts = conn.execute(sa.select(Article.text)).scalars().all()
            states = dict(conn.execute(sa.select(FrontierEntry.url, FrontierEntry.state)).all())
            dead = conn.execute(sa.select(sa.func.count()).select_from(DeadLetter)).scalar_one()
            logged = conn.execute(sa.select(FetchLog.outcome)).scalars().all()
    finally:
        engine.dispose()
    return texts, states, dead, logged


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_every_hostile_value_is_stored(database_url, case):
    target = _target(database_url, [SITE.format(1)])
    [outcome] = write_batch(target, [_hostile_fetch(1, HOSTILE[case])])
    texts, states, dead, logged = _stored(database_url)
    assert outcome == "stored"
    assert len(texts) == 1 and texts[0].startswith(story(1)[:200])
    assert "\x00" not in texts[0]
    assert states == {SITE.format(1): "done"}
    assert dead == 0 and logged == ["stored"]


def test_a_batch_of_hostile_values_stores_every_story(database_url):
    cases = sorted(HOSTILE)
    target = _target(database_url, [SITE.format(n) for n in range(len(cases))])
    outcomes = write_batch(target, [_hostile_fetch(n, HOSTILE[case]) for n, case in enumerate(cases)])
    texts, states, dead, _ = _stored(database_url)
    assert outcomes == ["stored"] * len(cases)
    # Stories counted by content: every body once.
    assert sorted(t[:200] for t in texts) == sorted(story(n)[:200] for n in range(len(cases)))
    assert set(states.values()) == {"done"} and dead == 0


def test_a_redirect_to_a_long_url_is_stored_under_the_url_asked_for(database_url):
    target = _target(database_url, [SITE.format(1)])
    fetch = _hostile_fetch(1, {"url": LONG_URL, "canonical_url": LONG_URL + "/c"})
    assert write_batch(target, [fetch]) == ["stored"]
    with sa.create_engine(database_url).connect() as conn:
        assert conn.execute(sa.select(Article.canonical_url)).scalars().all() == [SITE.format(1)]


def test_a_url_over_the_limit_is_refused_with_a_reason(database_url):
    """No URL of the fetch fits: logged as refused, not written, not dead-lettered."""
    target = _target(database_url, [SITE.format(1)])
    fetch = _hostile_fetch(1, {"url": LONG_URL, "canonical_url": LONG_URL + "/c"})
    fetch = dataclasses.replace(fetch, frontier_url=None)
    [outcome] = write_batch(target, [fetch])
    texts, _, dead, logged = _stored(database_url)
    assert outcome == "refused"
    assert texts == [] and dead == 0 and logged == ["refused"]
    with sa.create_engine(database_url).connect() as conn:
        reason = conn.execute(sa.select(FetchLog.reason)).scalar_one()
    assert f"{MAX_URL_BYTES}" in reason


def test_the_frontier_refuses_urls_over_the_limit(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
        added = frontier.add_urls(
            session, "alpha", [frontier.FrontierUrl(LONG_URL), frontier.FrontierUrl(SITE.format(1))], run_id=run_id
        )
    sessions.kw["bind"].dispose()
    assert added == [SITE.format(1)]


def test_refused_values_are_dead_lettered_at_once_not_retried_as_an_outage(database_url, monkeypatch):
    """Ten pages the database refuses (cleaning switched off) cost no outage retry; the rest is stored."""
    monkeypatch.setattr(article_store, "fit_for_storage", lambda item: item)
    retries = []  # run_in_transaction sleeps before each retry
    monkeypatch.setattr(db.time, "sleep", retries.append)
    writes = []
    real_write = batches._write
    monkeypatch.setattr(batches, "_write", lambda *args: writes.append(1) or real_write(*args))

    # PostgreSQL refuses a 1.3 MB title (its tsvector); SQLite cannot encode a lone surrogate.
    postgres = database_url.startswith("postgresql")
    bad = {"title": HUGE_TITLE} if postgres else {"description": "A standfirst \udcff here"}
    fetches = [_hostile_fetch(n, bad) for n in range(10)] + [_hostile_fetch(n, {}) for n in (10, 11)]
    target = _target(database_url, [SITE.format(n) for n in range(12)])
    outcomes = write_batch(target, fetches)

    assert retries == []
    assert len(writes) == 1 + 12  # the batch once, then each fetch once
    assert [isinstance(o, WriteFailed) for o in outcomes] == [True] * 10 + [False] * 2
    assert outcomes[10:] == ["stored", "stored"]
    texts, states, dead, logged = _stored(database_url)
    assert sorted(t[:200] for t in texts) == sorted(story(n)[:200] for n in (10, 11))
    assert dead == 10
    # Dead-lettered fetches are closed as failed (tried again by a later run), never left leased.
    assert [states[SITE.format(n)] for n in range(12)] == ["failed"] * 10 + ["done"] * 2
    assert sorted(logged) == ["error"] * 10 + ["stored"] * 2
