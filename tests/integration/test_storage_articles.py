"""The write path on SQLite and PostgreSQL: outcomes, URL aliases, versions and clusters."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from storage.articles import ArticleIn, store_article, store_articles
from storage.db import open_database
from storage.models import Article, ArticleUrl, ArticleVersion, Cluster, DedupKey

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

_VOCABULARY = (
    "council harbour plan vote housing river bridge school minister budget police court market "
    "energy prices station museum hospital festival storm farmers election report water tram "
    "company workers union strike park library airport village mayor residents opposition "
    "government spokesman said would could after before during since during week month year "
    "morning evening north south east west new old small large public private local national"
).split()


def story(seed: int, words: int = 300) -> str:
    """A deterministic pseudo-article: unrelated to any other seed's text."""
    rng = random.Random(seed)
    sentences, current = [], []
    for _ in range(words):
        current.append(rng.choice(_VOCABULARY))
        if len(current) >= rng.randint(8, 18):
            sentences.append(" ".join(current).capitalize() + ".")
            current = []
    if current:
        sentences.append(" ".join(current).capitalize() + ".")
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n\n".join(paragraphs)


def edited(text: str, seed: int) -> str:
    """A syndicated copy: a paragraph added at the top, the last one dropped, a sentence reworded."""
    paragraphs = text.split("\n\n")
    paragraphs = ["Our partners reported this story first, and we republish it with permission.", *paragraphs[:-1]]
    paragraphs[2] = paragraphs[2].replace(".", " today.", 1)
    return "\n\n".join(paragraphs)


def article(
    url: str,
    text: str,
    *,
    source: str = "alpha",
    canonical_url: str | None = None,
    published_at: datetime | None = T0,
    fetched_at: datetime = T0,
    title: str = "A title",
    **extra,
) -> ArticleIn:
    return ArticleIn(
        source=source,
        url=url,
        canonical_url=canonical_url or url,
        title=title,
        text=text,
        authors=("A. Writer",),
        published_at=published_at,
        modified_at=None,
        language="en",
        description=None,
        section="news",
        tags=("local",),
        image_url=None,
        word_count=len(text.split()),
        fetched_at=fetched_at,
        **extra,
    )


@pytest.fixture
def session_factory(database_url):
    factory = open_database(database_url)
    yield factory
    factory.kw["bind"].dispose()


def store(factory, item, **kw):
    with factory() as session, session.begin():
        return store_article(session, item, **kw)


def count(factory, model) -> int:
    with factory() as session:
        return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def clusters_by_url(factory) -> set[frozenset[str]]:
    with factory() as session:
        rows = session.execute(sa.select(Article.cluster_id, Article.canonical_url)).all()
    groups: dict[int, set[str]] = {}
    for cluster_id, url in rows:
        assert cluster_id is not None
        groups.setdefault(cluster_id, set()).add(url)
    return {frozenset(group) for group in groups.values()}


def test_new_article_is_stored_with_version_one(session_factory):
    result = store(session_factory, article("https://a.example/1", story(1)))
    assert result.outcome == "stored" and result.version == 1 and result.cluster_id is not None
    with session_factory() as session:
        row = session.get(Article, result.article_id)
        assert row.authors == ["A. Writer"] and row.tags == ["local"]
        assert row.published_at == T0 and row.published_at.tzinfo is not None
        versions = session.execute(sa.select(ArticleVersion)).scalars().all()
        assert [(v.version, v.content_hash) for v in versions] == [(1, row.content_hash)]
        assert session.get(Cluster, result.cluster_id).representative_article_id == row.id


def test_datetimes_come_back_as_utc(session_factory):
    paris = timezone(timedelta(hours=1))
    result = store(
        session_factory,
        article("https://a.example/tz", story(2), published_at=datetime(2024, 3, 1, 13, 0, tzinfo=paris)),
    )
    with session_factory() as session:
        row = session.get(Article, result.article_id)
    assert row.published_at == T0
    assert row.published_at.utcoffset() == timedelta(0)


def test_refetch_of_same_body_is_unchanged_and_moves_last_seen(session_factory):
    text = story(3)
    first = store(session_factory, article("https://a.example/3", text))
    later = T0 + timedelta(hours=5)
    again = store(
        session_factory,
        article("https://a.example/3?utm_source=rss", "  " + text.replace(" ", "  ") + "\nUpdated 14:05 GMT",
                canonical_url="https://a.example/3", fetched_at=later, etag='"v1"'),
    )
    assert (again.outcome, again.article_id, again.version) == ("unchanged", first.article_id, 1)
    with session_factory() as session:
        row = session.get(Article, first.article_id)
        assert row.last_seen_at == later and row.first_seen_at == T0 and row.etag == '"v1"'
        urls = set(session.execute(sa.select(ArticleUrl.url)).scalars())
    assert urls == {"https://a.example/3", "https://a.example/3?utm_source=rss"}
    assert count(session_factory, ArticleVersion) == 1


def test_changed_body_makes_a_new_version_and_keeps_the_old(session_factory):
    text = story(4)
    first = store(session_factory, article("https://a.example/4", text))
    changed = text + "\n\nThe minister later resigned."
    second = store(session_factory, article("https://a.example/4", changed, fetched_at=T0 + timedelta(hours=1)))
    third = store(session_factory, article("https://a.example/4", changed, fetched_at=T0 + timedelta(hours=2)))
    assert (second.outcome, second.version) == ("updated", 2)
    assert (third.outcome, third.version) == ("unchanged", 2)
    assert second.article_id == first.article_id
    with session_factory() as session:
        row = session.get(Article, first.article_id)
        assert row.text == changed and row.version == 2
        versions = session.execute(
            sa.select(ArticleVersion.version, ArticleVersion.text).order_by(ArticleVersion.version)
        ).all()
    assert [(v, t) for v, t in versions] == [(1, text), (2, changed)]
    assert count(session_factory, Article) == 1


def test_same_body_under_another_url_of_the_source_is_an_alias(session_factory):
    text = story(5)
    first = store(session_factory, article("https://a.example/5", text))
    alias = store(session_factory, article("https://a.example/amp/5", text))
    assert (alias.outcome, alias.article_id) == ("alias", first.article_id)
    assert count(session_factory, Article) == 1
    with session_factory() as session:
        urls = set(
            session.execute(
                sa.select(ArticleUrl.url).where(ArticleUrl.article_id == first.article_id)
            ).scalars()
        )
    assert urls == {"https://a.example/5", "https://a.example/amp/5"}
    # Re-fetching the alias stays an alias.
    assert store(session_factory, article("https://a.example/amp/5", text)).outcome == "alias"


def test_same_body_in_another_source_is_a_new_article_in_the_same_cluster(session_factory):
    text = story(6)
    first = store(session_factory, article("https://a.example/6", text))
    other = store(session_factory, article("https://b.example/6", text, source="beta"))
    assert other.outcome == "stored" and other.article_id != first.article_id
    assert other.cluster_id == first.cluster_id


def test_short_identical_bodies_cluster_by_hash(session_factory):
    text = "Storm closes the old bridge over the river for repairs."
    first = store(session_factory, article("https://a.example/short", text))
    other = store(session_factory, article("https://b.example/short", text + "!", source="beta"))
    assert first.cluster_id == other.cluster_id


def test_near_empty_bodies_are_not_evidence_of_identity(session_factory):
    first = store(session_factory, article("https://a.example/video/1", "Watch the video."))
    second = store(session_factory, article("https://a.example/video/2", "Watch the video."))
    other = store(session_factory, article("https://b.example/video/1", "Watch the video.", source="beta"))
    assert [r.outcome for r in (first, second, other)] == ["stored", "stored", "stored"]
    assert len({first.cluster_id, second.cluster_id, other.cluster_id}) == 3


def test_near_duplicates_across_sources_share_a_cluster(session_factory):
    text = story(7)
    a = store(session_factory, article("https://a.example/7", text, published_at=T0 + timedelta(hours=1)))
    b = store(session_factory, article("https://b.example/7", edited(text, 1), source="beta", published_at=T0))
    c = store(session_factory, article("https://c.example/8", story(8), source="gamma"))
    assert a.cluster_id == b.cluster_id != c.cluster_id
    with session_factory() as session:
        cluster = session.get(Cluster, a.cluster_id)
        # The earliest published copy represents the story.
        assert cluster.representative_article_id == b.article_id
        assert session.execute(
            sa.select(sa.func.count()).select_from(DedupKey).where(DedupKey.article_id == a.article_id)
        ).scalar_one() > 0


def test_threshold_is_a_parameter(session_factory):
    text = story(9)
    a = store(session_factory, article("https://a.example/9", text))
    b = store(session_factory, article("https://b.example/9", edited(text, 1), source="beta"), threshold=0.999)
    assert a.cluster_id != b.cluster_id


def test_an_article_bridging_two_clusters_merges_them(session_factory):
    base = story(10)
    paragraphs = base.split("\n\n")
    half = len(paragraphs) // 2
    left = "\n\n".join(paragraphs[: half + 1])
    right = "\n\n".join(paragraphs[half - 1 :])
    a = store(session_factory, article("https://a.example/left", left))
    b = store(session_factory, article("https://b.example/right", right, source="beta"))
    assert a.cluster_id != b.cluster_id
    bridge = store(session_factory, article("https://c.example/full", base, source="gamma"))
    assert bridge.cluster_id == min(a.cluster_id, b.cluster_id)
    assert clusters_by_url(session_factory) == {
        frozenset({"https://a.example/left", "https://b.example/right", "https://c.example/full"})
    }
    assert count(session_factory, Cluster) == 1


def _corpus() -> list[ArticleIn]:
    items = []
    for n in range(6):
        text = story(100 + n)
        items.append(article(f"https://a.example/s{n}", text, published_at=T0 + timedelta(minutes=n)))
        items.append(article(f"https://b.example/s{n}", edited(text, n), source="beta"))
        if n % 2 == 0:
            items.append(article(f"https://c.example/s{n}", text + "\n\nMore to follow.", source="gamma"))
        # An alias: which of the two URLs becomes the article depends on arrival order.
        items.append(article(f"https://a.example/amp/s{n}", text, published_at=T0 + timedelta(minutes=n)))
    base = story(200)
    paragraphs = base.split("\n\n")
    half = len(paragraphs) // 2
    items.append(article("https://a.example/left", "\n\n".join(paragraphs[: half + 1])))
    items.append(article("https://b.example/right", "\n\n".join(paragraphs[half - 1 :]), source="beta"))
    items.append(article("https://c.example/full", base, source="gamma"))
    items.append(article("https://c.example/lonely", story(300), source="gamma"))
    return items


def _canonical_clusters(factory) -> set[frozenset[str]]:
    # An alias may be the article or the URL variant depending on order; compare by story.
    groups = clusters_by_url(factory)
    return {frozenset(url.replace("/amp/", "/") for url in group) for group in groups}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cluster_membership_does_not_depend_on_arrival_order(database_url, seed):
    items = _corpus()
    reference = open_database(database_url)
    with reference() as session, session.begin():
        store_articles(session, items)
    expected = _canonical_clusters(reference)
    with reference() as session:
        reps = dict(session.execute(sa.select(Cluster.id, Cluster.representative_article_id)).all())
        rep_urls = {
            session.get(Article, article_id).canonical_url.replace("/amp/", "/") for article_id in reps.values()
        }
    reference.kw["bind"].dispose()
    assert len(expected) == 6 + 2  # six syndicated stories, the bridged trio, the lonely one

    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    with reference() as session, session.begin():
        for table in ("dedup_keys", "article_versions", "article_urls", "fetch_log", "articles", "clusters", "sources"):
            session.execute(sa.text(f"DELETE FROM {table}"))
    with reference() as session, session.begin():
        results = store_articles(session, shuffled)
    assert len(results) == len(shuffled)
    assert _canonical_clusters(reference) == expected
    with reference() as session:
        reps = dict(session.execute(sa.select(Cluster.id, Cluster.representative_article_id)).all())
        assert {
            session.get(Article, article_id).canonical_url.replace("/amp/", "/") for article_id in reps.values()
        } == rep_urls
    reference.kw["bind"].dispose()


def test_batch_is_idempotent(session_factory):
    items = _corpus()
    with session_factory() as session, session.begin():
        store_articles(session, items)
    before = (count(session_factory, Article), count(session_factory, ArticleUrl), count(session_factory, Cluster))
    with session_factory() as session, session.begin():
        outcomes = {r.outcome for r in store_articles(session, items)}
    assert outcomes <= {"unchanged", "alias"}
    assert (count(session_factory, Article), count(session_factory, ArticleUrl), count(session_factory, Cluster)) == before


def test_one_batch_sees_what_its_earlier_articles_stored(session_factory):
    """A batch reads ahead what its articles are stored under; an article stored earlier in the
    same batch must still be found: a second URL of its body is an alias, an edit of it a version."""
    text = story(11)
    items = [
        article("https://a.example/11", text),
        article("https://a.example/amp/11", text),
        article("https://a.example/11", edited(text, 11), fetched_at=T0 + timedelta(hours=1)),
    ]
    with session_factory() as session, session.begin():
        results = store_articles(session, items)
    assert [r.outcome for r in results] == ["stored", "alias", "updated"]
    assert len({r.article_id for r in results}) == 1 and results[-1].version == 2
    assert count(session_factory, Article) == 1 and count(session_factory, ArticleVersion) == 2


def test_an_update_that_becomes_a_copy_joins_the_cluster(session_factory):
    wire = story(400)
    original = store(session_factory, article("https://a.example/wire", wire))
    placeholder = store(session_factory, article("https://b.example/live", story(401), source="beta"))
    assert placeholder.cluster_id != original.cluster_id
    # The live page is replaced by the wire copy: a new version, now in the wire story's cluster.
    updated = store(
        session_factory,
        article("https://b.example/live", edited(wire, 1), source="beta", fetched_at=T0 + timedelta(hours=1)),
    )
    assert (updated.outcome, updated.version) == ("updated", 2)
    assert updated.cluster_id == min(original.cluster_id, placeholder.cluster_id)
    assert count(session_factory, Cluster) == 1
    with session_factory() as session:
        keys = set(
            session.execute(
                sa.select(DedupKey.bucket).where(DedupKey.article_id == updated.article_id)
            ).scalars()
        )
        row = session.get(Article, updated.article_id)
    from storage.dedup import band_keys, minhash_signature, normalise_text

    assert keys == {bucket for _band, bucket in band_keys(minhash_signature(normalise_text(row.text)))}


def test_timestamp_only_change_is_not_a_version(session_factory):
    text = story(402)
    store(session_factory, article("https://a.example/ts", "Updated 09:12 GMT\n" + text))
    again = store(session_factory, article("https://a.example/ts", "Last updated 14:05 GMT\n" + text))
    assert (again.outcome, again.version) == ("unchanged", 1)
    assert count(session_factory, ArticleVersion) == 1


def test_a_rolled_back_savepoint_leaves_no_stale_source(session_factory):
    with session_factory() as session, session.begin():
        savepoint = session.begin_nested()
        store_article(session, article("https://new.example/1", story(500), source="newcomer"))
        savepoint.rollback()
        result = store_article(session, article("https://new.example/2", story(501), source="newcomer"))
    assert result.outcome == "stored"
    assert count(session_factory, Article) == 1


def test_a_body_many_pages_of_a_source_show_is_boilerplate_not_their_story(session_factory):
    """Five article URLs answering one run with the same wall: not one story and four duplicates."""
    wall = story(900)
    urls = [f"https://a.example/news/2024/story-{slug}" for slug in ("budget", "bridge", "strike", "storm", "vote")]
    outcomes = [store(session_factory, article(url, wall, title="Before you continue")).outcome for url in urls]
    # Two pages may share a body (a story moved once); a third page showing it makes it boilerplate.
    assert outcomes == ["stored", "alias", "boilerplate", "boilerplate", "boilerplate"]
    boilerplate = store(session_factory, article(urls[3], wall))
    assert set(boilerplate.urls) == set(urls[:2])  # the pages to ask again
    with session_factory() as session:
        pointed = set(session.execute(sa.select(ArticleUrl.url)).scalars())
    assert pointed == set(urls[:2])
    # Their real stories, served later, are stored each on its own.
    for n, url in enumerate(urls):
        result = store(session_factory, article(url, story(910 + n), fetched_at=T0 + timedelta(days=1)))
        assert result.outcome in ("stored", "updated")
    with session_factory() as session:
        texts = {row.canonical_url: row.text for row in session.execute(sa.select(Article.canonical_url, Article.text))}
    assert {texts[url] for url in urls} == {story(910 + n) for n in range(5)}


def test_renditions_of_one_page_stay_aliases(session_factory):
    """AMP, print and mobile copies of one article are one page, however many there are."""
    text = story(920)
    first = store(session_factory, article("https://a.example/news/story", text))
    for url in ("https://a.example/news/story/amp", "https://a.example/amp/news/story?print=1",
                "https://m.a.example/news/story/", "https://a.example/news/story?outputType=amp"):  # fmt: skip
        assert store(session_factory, article(url, text)).outcome == "alias", url
    assert count(session_factory, Article) == 1 and first.outcome == "stored"


def test_a_canonical_shared_by_different_stories_makes_no_versions(session_factory):
    """Five stories declaring a section page as canonical: five articles, not one at version 5."""
    hub = "https://a.example/news/"
    results = [
        store(session_factory, article(f"https://a.example/news/2024/story-{n}", story(930 + n), canonical_url=hub))
        for n in range(5)
    ]
    assert [r.outcome for r in results] == ["stored"] * 5
    assert len({r.article_id for r in results}) == 5 and {r.version for r in results} == {1}
    with session_factory() as session:
        texts = set(session.execute(sa.select(Article.text)).scalars())
    assert texts == {story(930 + n) for n in range(5)}


def test_a_canonical_still_versions_its_own_page_and_near_copies(session_factory):
    """The rule spares real updates: the canonical page itself, the same fetched URL, a near body."""
    canonical = "https://a.example/news/story"
    text = story(940)
    store(session_factory, article("https://a.example/news/story?page=1", text, canonical_url=canonical))
    rewritten = store(
        session_factory, article("https://a.example/news/story?page=1", story(941), canonical_url=canonical)
    )
    assert (rewritten.outcome, rewritten.version) == ("updated", 2)
    # Another rendition is no edit: it joins the story, and its fuller body is the story's now.
    near_copy = article("https://a.example/amp/news/story?x=1", story(941) + "\n\nMore.", canonical_url=canonical)
    near = store(session_factory, near_copy)
    assert (near.outcome, near.version) == ("unchanged", 2)
    # The canonical page read for the first time: its body is the story's, still no new version.
    itself = store(session_factory, article(canonical, story(942)))
    assert (itself.outcome, itself.version) == ("unchanged", 2)
    # The canonical page changed between two fetches: an edit.
    edit = store(session_factory, article(canonical, story(943)))
    assert (edit.outcome, edit.version) == ("updated", 3)
    assert count(session_factory, Article) == 1
    with session_factory() as session:
        assert session.execute(sa.select(Article.text)).scalar_one() == story(943)


def test_an_older_capture_of_an_edited_story_is_not_a_new_version(session_factory):
    """Importing a WARC file that holds a page's capture before and after an edit, after its newer
    text was stored, made a version of the old text and one of the new again, on every import."""
    text = story(40)
    changed = text + "\n\nThe minister later resigned."
    url = "https://a.example/40"
    store(session_factory, article(url, text, fetched_at=T0))
    assert store(session_factory, article(url, changed, fetched_at=T0 + timedelta(days=2))).outcome == "updated"
    for _ in range(2):  # the same two captures read again, in the file's order
        assert store(session_factory, article(url, text, fetched_at=T0)).outcome == "unchanged"
        assert store(session_factory, article(url, changed, fetched_at=T0 + timedelta(days=2))).outcome == "unchanged"
    older_unseen = store(session_factory, article(url, text + "\n\nA draft.", fetched_at=T0 + timedelta(days=1)))
    assert older_unseen.outcome == "unchanged"
    with session_factory() as session:
        row = session.get(Article, older_unseen.article_id)
        assert (row.text, row.version) == (changed, 2)
    assert count(session_factory, ArticleVersion) == 2
    newer = store(session_factory, article(url, changed + "\n\nCorrection.", fetched_at=T0 + timedelta(days=3)))
    assert (newer.outcome, newer.version) == ("updated", 3)


def test_an_edit_written_after_a_later_fetched_copy_is_still_a_version(session_factory):
    """A crawl writes pages in the order they were read, not fetched: the story's edited page may
    come after another URL of it fetched a moment later. It is newer than the stored text."""
    text = story(41)
    url = "https://a.example/41"
    store(session_factory, article(url, text, fetched_at=T0))
    day_two = T0 + timedelta(days=1)
    copy = article(f"{url}?utm_source=rss", text, canonical_url=url, fetched_at=day_two + timedelta(seconds=1))
    assert store(session_factory, copy).outcome == "unchanged"  # the story seen again, later
    edit = store(session_factory, article(url, text + "\n\nThe minister later resigned.", fetched_at=day_two))
    assert (edit.outcome, edit.version) == ("updated", 2)
