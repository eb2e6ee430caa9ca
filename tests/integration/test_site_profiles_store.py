"""Site profiles in the write path, on SQLite and PostgreSQL: learned from stored stories, stripped
from new ones, earlier stories re-cleaned as re-extractions (never versions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from test_storage_articles import T0, article, story

from storage import health
from storage import runs as run_log
from storage.batches import BatchTarget, FetchResult, write_batch
from storage.db import open_database
from storage.models import Article, ArticleVersion, FetchLog, Reextraction, SiteProfile, SiteProfileBlock, Source
from storage.queries import ArticleFilter, count_articles
from storage.reextraction import apply_reextraction
from storage.site_profiles import ProfileSettings, block_key, label_key

SITE = "https://alpha.example"
BOXES = (
    "Read also: the week in pictures, and what comes next for the harbour.",
    "Subscribe to our channel and get the day's news first, every morning.",
    "Found a mistake? Select it and press Ctrl+Enter to tell the editors.",
)
DATELINE = "WASHINGTON (Reuters) - "
SETTINGS = ProfileSettings(min_pages=10, min_block_pages=5, min_share=0.5)


def page_text(seed: int, *, dateline: bool = False) -> str:
    paragraphs = story(seed).split("\n\n")
    if dateline:
        paragraphs[0] = DATELINE + paragraphs[0]
    return "\n\n".join([paragraphs[0], BOXES[0], *paragraphs[1:], BOXES[1], BOXES[2]])


def fetched(seed: int, *, days: int = 0, dateline: bool = False) -> FetchResult:
    url = f"{SITE}/news/{seed}"
    item = article(url, page_text(seed, dateline=dateline), fetched_at=T0 + timedelta(days=days, minutes=seed))
    return FetchResult(url, 200, 1000, "stored", None, frontier_url=url, article=item)


@pytest.fixture
def target(database_url) -> BatchTarget:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
    sessions.kw["bind"].dispose()
    return BatchTarget(database_url, "alpha", run_id, site_profile=SETTINGS)


def texts(target: BatchTarget) -> dict[str, str]:
    with open_database(target.database_url)() as session:
        return dict(session.execute(sa.select(Article.canonical_url, Article.text)).all())


def test_a_profile_matures_and_cleans_every_story_without_a_version(target):
    first = [fetched(seed) for seed in range(1, 8)]
    assert write_batch(target, first) == ["stored"] * 7
    # Too few pages yet: nothing is taken for the site's template.
    assert all(BOXES[1] in text for text in texts(target).values())

    assert write_batch(target, [fetched(seed) for seed in range(8, 15)]) == ["stored"] * 7
    stored = texts(target)
    assert len(stored) == 14
    for url, text in stored.items():
        assert not any(box in text for box in BOXES), url
        seed = int(url.rsplit("/", 1)[1])
        assert text == story(seed)
    with open_database(target.database_url)() as session:
        profile = session.execute(sa.select(SiteProfile)).scalar_one()
        assert profile.pages == 14 and profile.matured_at is not None
        profiled = set(
            session.execute(sa.select(SiteProfileBlock.block_hash).where(SiteProfileBlock.profiled_at.is_not(None)))
            .scalars()
        )
        # The "Read also:" box is learned twice over: as itself and by its label.
        assert profiled == {block_key(box) for box in BOXES} | {label_key(BOXES[0])}
        assert set(session.execute(sa.select(Article.version)).scalars()) == {1}
        assert set(session.execute(sa.select(ArticleVersion.version)).scalars()) == {1}
        # The seven committed before the profile matured were re-cleaned; the batch it matured in
        # (at its tenth page) was stored clean.
        reextracted = session.execute(sa.select(Reextraction)).scalars().all()
        assert len(reextracted) == 7
        assert all(BOXES[0] in r.previous["text"] and r.extractor_version == "site-profile" for r in reextracted)
        # The version row holds the cleaned body too, so a diff between versions shows no template.
        assert all(v.text == story(v.article_id) for v in session.execute(sa.select(ArticleVersion)).scalars())

    # The next day, every page is fetched again with its boxes: unchanged, still version 1.
    again = write_batch(target, [fetched(seed, days=1) for seed in range(1, 15)])
    assert again == ["unchanged"] * 14
    with open_database(target.database_url)() as session:
        assert set(session.execute(sa.select(Article.version)).scalars()) == {1}
        assert session.execute(sa.select(sa.func.count()).select_from(Reextraction)).scalar_one() == 7


def test_a_recurring_dateline_survives_the_profile(target):
    write_batch(target, [fetched(seed, dateline=True) for seed in range(1, 15)])
    for text in texts(target).values():
        assert text.startswith(DATELINE)
        assert not any(box in text for box in BOXES)


def test_a_block_that_later_becomes_template_text_is_cleaned_from_stories_holding_it(target):
    write_batch(target, [fetched(seed) for seed in range(1, 13)])
    late_box = "Listen to this story in our new app, free for subscribers."

    def with_late_box(seed: int) -> FetchResult:
        result = fetched(seed, days=2)
        result.article = replace(result.article, text=result.article.text + "\n\n" + late_box)
        return result

    write_batch(target, [with_late_box(seed) for seed in range(20, 28)])
    for text in texts(target).values():
        assert late_box not in text
    with open_database(target.database_url)() as session:
        assert set(session.execute(sa.select(Article.version)).scalars()) == {1}


def test_one_batch_of_two_sources_counts_each_page_and_block_once(target):
    """A batch's pages are counted together: each source's count and each block's pages must still
    be those of counting the pages one by one, and a profile still matures within the batch."""

    def of_beta(seed: int) -> FetchResult:
        result = fetched(seed)
        url = f"https://beta.example/news/{seed}"
        result.url = result.frontier_url = url
        result.article = replace(result.article, source="beta", url=url, canonical_url=url)
        return result

    batch = [page for seed in range(1, 13) for page in (fetched(seed), of_beta(100 + seed))]
    batch.append(fetched(13))
    assert write_batch(target, batch) == ["stored"] * 25
    # Both profiles matured in the batch, and stripped its own stories.
    assert not any(box in text for text in texts(target).values() for box in BOXES)

    late_box = "Listen to this story in our new app, free for subscribers."

    def with_late_box(seed: int) -> FetchResult:
        result = fetched(seed)
        result.article = replace(result.article, text=result.article.text + "\n\n" + late_box)
        return result

    # A second batch: the first box's rows are counted on, the late box is new from its 3rd page.
    assert write_batch(target, [fetched(14), fetched(15), *map(with_late_box, range(16, 21))]) == ["stored"] * 7
    with open_database(target.database_url)() as session:
        counted = dict(
            session.execute(sa.select(Source.name, SiteProfile.pages).join(Source, Source.id == SiteProfile.source_id))
            .all()
        )
        blocks = session.execute(
            sa.select(Source.name, SiteProfileBlock.block_hash, SiteProfileBlock.pages, SiteProfileBlock.pages_before)
            .join(Source, Source.id == SiteProfileBlock.source_id)
            .where(SiteProfileBlock.block_hash.in_([block_key(BOXES[1]), block_key(late_box)]))
        ).all()
    assert counted == {"alpha": 20, "beta": 12}
    assert {(name, key == block_key(late_box), pages, before) for name, key, pages, before in blocks} == {
        ("alpha", False, 20, 0),
        ("beta", False, 12, 0),
        ("alpha", True, 5, 15),
    }


def logged_template_chars(target: BatchTarget) -> dict[int, tuple[int | None, int | None]]:
    """Each fetch's (body characters as read, characters stripped as template), by page seed."""
    with open_database(target.database_url)() as session:
        rows = session.execute(sa.select(FetchLog.url, FetchLog.body_chars, FetchLog.template_chars)).all()
    return {int(url.rsplit("/", 1)[1]): (body, template) for url, body, template in rows}


def test_the_crawl_log_says_how_much_of_each_story_was_site_template(target):
    write_batch(target, [fetched(seed) for seed in range(1, 11)])
    write_batch(target, [fetched(seed) for seed in range(11, 20)])
    logged = logged_template_chars(target)
    # The profile matures with the batch of the tenth page: before it, no text could be told template.
    assert {seed for seed, (_, template) in logged.items() if template is None} == set(range(1, 11))
    measured = {seed: chars for seed, chars in logged.items() if seed > 10}
    for seed, chars in measured.items():
        assert chars == (len(page_text(seed)), len(page_text(seed)) - len(story(seed)))
    with open_database(target.database_url)() as session:
        [entry] = health.source_health(session)
    share = sum(template for _, template in measured.values()) / sum(body for body, _ in measured.values())
    assert entry.latest.template_share == round(share, 3)
    assert entry.latest.profiled == 9


def test_a_site_without_a_template_has_none_of_its_text_taken(target):
    """A mature profile with no template blocks measures a share of 0, from the batch after it matured."""

    def plain(seed: int) -> FetchResult:
        url = f"{SITE}/news/{seed}"
        return FetchResult(url, 200, 1000, "stored", None, frontier_url=url, article=article(url, story(seed)))

    write_batch(target, [plain(seed) for seed in range(1, 11)])
    write_batch(target, [plain(seed) for seed in range(11, 15)])
    logged = logged_template_chars(target)
    assert {seed: chars for seed, chars in logged.items() if chars != (None, None)} == {
        seed: (len(story(seed)), 0) for seed in range(11, 15)
    }
    with open_database(target.database_url)() as session:
        [entry] = health.source_health(session)
    assert entry.latest.template_share == 0.0


def test_apply_reextraction_keeps_what_it_replaces_and_search_follows(database_url):
    sessions = open_database(database_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
    target = BatchTarget(database_url, "alpha", run_id)
    original = story(3) + "\n\nZanzibarian promo line"
    write_batch(target, [FetchResult(f"{SITE}/a", 200, 1, "stored", None, article=article(f"{SITE}/a", original))])
    with sessions.begin() as session:
        article_id = session.execute(sa.select(Article.id)).scalar_one()
        same = {"text": original, "title": "A title", "authors": ("A. Writer",)}
        assert not apply_reextraction(session, article_id, same, extractor_version="x", reason="nothing new")
        assert apply_reextraction(
            session, article_id, {"text": story(3), "title": "A better title"}, extractor_version="x 2", reason="test"
        )
        with pytest.raises(ValueError):
            apply_reextraction(session, article_id, {"content_hash": "0"}, extractor_version="x", reason="no")
    with sessions() as session:
        row = session.get(Article, article_id)
        assert (row.text, row.title, row.version) == (story(3), "A better title", 1)
        [record] = session.execute(sa.select(Reextraction)).scalars()
        assert record.previous == {"text": original, "title": "A title"}
        assert (record.extractor_version, record.reason) == ("x 2", "test")
        assert count_articles(session, ArticleFilter(search="zanzibarian")) == 0
        assert count_articles(session, ArticleFilter(search='"better title"')) == 1
    # The next fetch of the same page with the new extraction finds it unchanged, not a version.
    again = article(f"{SITE}/a", story(3), title="A better title", fetched_at=T0 + timedelta(days=1))
    assert write_batch(target, [FetchResult(f"{SITE}/a", 200, 1, "stored", None, article=again)]) == ["unchanged"]
    sessions.kw["bind"].dispose()


def test_a_batch_locks_its_sources_profile_only_at_its_end(postgres_url, monkeypatch):
    """Every worker crawling a source counts pages into one profile row. A batch that locked it at
    its first stored story would hold it to its commit, and the workers' batches would run one at
    a time: while a batch stores its stories, another transaction can still lock the row."""
    sessions = open_database(postgres_url)
    with sessions.begin() as session:
        run_id = run_log.start_run(session, "alpha")
    target = BatchTarget(postgres_url, "alpha", run_id, site_profile=SETTINGS)
    write_batch(target, [fetched(1)])  # the profile row exists from here on

    import storage.articles as article_store

    store = article_store.store_article
    free_while_storing = []

    def store_then_try_the_profile_row(session, item, **options):
        result = store(session, item, **options)
        with sessions.begin() as other:
            other.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            try:
                other.execute(sa.select(SiteProfile.source_id).with_for_update()).all()
                free_while_storing.append(True)
            except sa.exc.OperationalError:
                free_while_storing.append(False)
        return result

    monkeypatch.setattr(article_store, "store_article", store_then_try_the_profile_row)
    assert write_batch(target, [fetched(seed) for seed in range(2, 6)]) == ["stored"] * 4
    assert free_while_storing == [True] * 4
    with sessions() as session:
        assert session.execute(sa.select(SiteProfile.pages)).scalar_one() == 5
    sessions.kw["bind"].dispose()
