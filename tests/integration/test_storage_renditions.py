"""Renditions in the write path: copies of a story join its URLs; only the rendition its body came
from, changing between fetches, makes a new version. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from test_storage_articles import T0, article, session_factory, store, story  # noqa: F401 - the fixture

from storage.db import downgrade, open_database, upgrade
from storage.models import Article, ArticleUrl, ArticleVersion
from storage.renditions import Rendition

STORY = "https://www.gazette.co.uk/news/harbour-wall"
AMP, PRINT, MOBILE = f"{STORY}/amp", f"{STORY}/print", "https://m.gazette.co.uk/news/harbour-wall"
TEXT = story(7001)
PARAGRAPHS = TEXT.split("\n\n")
AMP_TEXT = "\n\n".join(PARAGRAPHS[:-1])  # an embed it cannot show
PRINT_TEXT = TEXT + "\n\nPrinted from the Gazette website. Copyright the Gazette, all rights reserved."
MOBILE_TEXT = TEXT + "\n\nSwitch to the full site to read and write comments on this story."


def copy(url: str, text: str, kind: Rendition, day: int = 0, **extra):
    return article(url, text, canonical_url=STORY, rendition=kind, fetched_at=T0 + timedelta(days=day), **extra)


def fetch_all(factory, day: int, *, canonical_text: str = TEXT, amp_text: str = AMP_TEXT, order=None):
    items = {
        "amp": copy(AMP, amp_text, Rendition.AMP, day),
        "print": copy(PRINT, PRINT_TEXT, Rendition.PRINT, day),
        "mobile": copy(MOBILE, MOBILE_TEXT, Rendition.MOBILE, day),
        "canonical": copy(STORY, canonical_text, Rendition.CANONICAL, day),
    }
    return {name: store(factory, items[name]) for name in order or items}


def state(factory):
    with factory() as session:
        article_row = session.execute(sa.select(Article.url, Article.text, Article.version)).one()
        versions = session.execute(sa.select(ArticleVersion.version, ArticleVersion.text)).all()
        urls = dict(session.execute(sa.select(ArticleUrl.url, ArticleUrl.rendition)).all())
    return article_row, dict(versions), urls


def test_copies_read_before_and_after_the_canonical_page_are_one_story_at_version_1(session_factory):
    first = fetch_all(session_factory, 0)
    assert first["amp"].outcome == "stored"
    assert {r.article_id for r in first.values()} == {first["amp"].article_id}
    # Read twice more, in another order: nothing changed, so nothing new.
    fetch_all(session_factory, 1, order=["canonical", "print", "amp", "mobile"])
    fetch_all(session_factory, 2, order=["mobile", "canonical", "amp", "print"])
    (url, text, version), versions, urls = state(session_factory)
    assert version == 1 and list(versions) == [1]
    # The body is the canonical page's, and so is version 1's text.
    assert (url, text, versions[1]) == (STORY, TEXT, TEXT)
    assert urls == {STORY: "canonical", AMP: "amp", PRINT: "print", MOBILE: "mobile"}


def test_an_edit_on_the_canonical_page_is_a_version_and_stale_copies_are_not(session_factory):
    fetch_all(session_factory, 0)
    edited = TEXT + "\n\nThe council confirmed the figures on Tuesday evening, after this story was published."
    after = fetch_all(session_factory, 1, canonical_text=edited)
    assert (after["canonical"].outcome, after["canonical"].version) == ("updated", 2)
    # The copies catch up a day later: still version 2.
    fetch_all(session_factory, 2, canonical_text=edited, amp_text=AMP_TEXT + "\n\nThe council confirmed it.")
    (url, text, version), versions, _ = state(session_factory)
    assert (version, text, sorted(versions)) == (2, edited, [1, 2])
    assert versions[1] == TEXT


def test_without_the_canonical_page_the_fullest_copy_gives_the_body(session_factory):
    store(session_factory, copy(AMP, AMP_TEXT, Rendition.AMP))
    store(session_factory, copy(PRINT, PRINT_TEXT, Rendition.PRINT))
    store(session_factory, copy(AMP, AMP_TEXT, Rendition.AMP, 1))
    (url, text, version), versions, _ = state(session_factory)
    assert (url, text, version, versions) == (PRINT, PRINT_TEXT, 1, {1: PRINT_TEXT})
    # The copy the body came from, changed between fetches: an edit.
    store(session_factory, copy(PRINT, PRINT_TEXT + "\n\nCorrection: the wall is 40 metres long.", Rendition.PRINT, 2))
    assert state(session_factory)[0][2] == 2


def test_a_copy_the_story_declared_joins_it_without_naming_a_canonical(session_factory):
    canonical = article(STORY, TEXT, rendition=Rendition.CANONICAL, declared_renditions=((AMP, Rendition.AMP),))
    stored = store(session_factory, canonical)
    # The AMP page declares no canonical URL of its own.
    amp = article(AMP, AMP_TEXT, rendition=Rendition.AMP, fetched_at=T0 + timedelta(days=1))
    joined = store(session_factory, amp)
    assert (joined.article_id, joined.outcome, joined.version) == (stored.article_id, "unchanged", 1)
    (url, text, _), _, urls = state(session_factory)
    assert (url, text, urls[AMP]) == (STORY, TEXT, "amp")


def test_a_declared_rendition_too_long_to_index_is_left_out(session_factory):
    huge = f"{STORY}/amp?{'x' * 20_000}"
    stored = store(session_factory, article(STORY, TEXT, declared_renditions=((huge, Rendition.AMP), (AMP, Rendition.AMP))))
    assert stored.outcome == "stored"
    assert state(session_factory)[2] == {STORY: "canonical", AMP: "amp"}


def test_urls_stored_before_migration_0009_get_their_canonical_kind_and_body(database_url, session_factory):
    store(session_factory, article(STORY, TEXT))
    store(session_factory, copy(AMP, AMP_TEXT, Rendition.AMP))
    session_factory.kw["bind"].dispose()
    downgrade(database_url, "0008_site_templates")
    upgrade(database_url)
    with open_database(database_url)() as session:
        rows = session.execute(sa.select(ArticleUrl.url, ArticleUrl.rendition, ArticleUrl.content_hash)).all()
        body_hash = session.execute(sa.select(Article.content_hash)).scalar_one()
    assert {(url, kind, digest) for url, kind, digest in rows} == {(STORY, "canonical", body_hash), (AMP, "other", None)}
