"""Full-text search, clusters and stats of storage.queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage.articles import ArticleIn, store_articles
from storage.db import open_database
from storage.queries import (
    ArticleFilter,
    count_articles,
    get_article,
    get_cluster,
    iter_articles,
    list_clusters,
    parse_search,
    version_diff,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FILLER = "council meeting budget schools roads parking library evening residents agreed plan " * 6


def make_item(source, slug, *, title, text, published_at=T0, language="en", fetched_at=None) -> ArticleIn:
    url = f"https://{source}.example/{slug}"
    return ArticleIn(
        source=source, url=url, canonical_url=url, title=title, text=text, authors=(), published_at=published_at,
        modified_at=None, language=language, description=None, section=None, tags=(), image_url=None,
        word_count=len(text.split()), fetched_at=fetched_at or published_at or T0,
    )  # fmt: skip


CORPUS = [
    make_item("alpha", "harbour", title="Harbour bridge reopens", text="The bridge opened at dawn. " + FILLER),
    make_item("beta", "mention", title="Council notes", text=FILLER + " Someone said harbour once. " + FILLER),
    make_item(
        "beta", "economy", title="Economists see slow growth", text="Economic outlook darkens. " + FILLER,
        published_at=T0 + timedelta(days=1),
    ),
    make_item(
        "gamma", "phrase", title="Red tape", text="The quick brown fox met a lazy dog. " + FILLER,
        language="de", published_at=T0 + timedelta(days=2),
    ),
    make_item("gamma", "scrambled", title="Scrambled", text="The brown quick dog met a fox. " + FILLER, published_at=None),
]


@pytest.fixture
def sessions(database_url):
    factory = open_database(database_url)
    with factory.begin() as session:
        store_articles(session, CORPUS)
    yield factory
    factory.kw["bind"].dispose()


def urls(sessions, **kw) -> list[str]:
    with sessions() as session:
        return [row.canonical_url.split("/")[-1] for row in iter_articles(session, ArticleFilter(**kw))]


def test_title_match_ranks_above_a_passing_mention(sessions):
    assert urls(sessions, search="harbour") == ["harbour", "mention"]
    assert urls(sessions, search="HARBOUR bridge") == ["harbour"]


def test_phrase_and_prefix(sessions):
    assert urls(sessions, search='"quick brown fox"') == ["phrase"]
    assert sorted(urls(sessions, search="quick brown fox")) == ["phrase", "scrambled"]
    assert sorted(urls(sessions, search="econ*")) == ["economy"]
    assert urls(sessions, search="econ") == []
    assert urls(sessions, search='"brown qu*"') == []  # inside a phrase * is just punctuation
    assert urls(sessions, search="brown qu*", sort="published") == ["phrase", "scrambled"]


def test_search_combines_with_filters_and_counts(sessions):
    assert urls(sessions, search="fox", language="de") == ["phrase"]
    assert urls(sessions, search="fox", source="alpha") == []
    assert urls(sessions, search="council", limit=1) == ["mention"]  # title + body beats body alone
    with sessions() as session:
        assert count_articles(session, ArticleFilter(search="quick")) == 2
        assert count_articles(session, ArticleFilter(source="gamma", limit=1)) == 1


def test_snippets_mark_the_matches(sessions):
    with sessions() as session:
        rows = list(iter_articles(session, ArticleFilter(search="dawn"), snippets=True))
    assert len(rows) == 1 and "«dawn»" in rows[0].snippet
    assert "snippet" in rows[0].as_dict()


@pytest.mark.parametrize(
    "text",
    ['"', '"unclosed phrase', "AND OR NOT", "NEAR(a b)", "title:harbour", "a^b", "x*y*", "-harbour", "((", "'; --",
     "col:\"x\" OR 1=1", "'''", "\\", "harbour*" * 50],
)  # fmt: skip
def test_fts_syntax_is_never_interpreted(sessions, text):
    with sessions() as session:
        try:
            list(iter_articles(session, ArticleFilter(search=text), snippets=True))
        except ValueError as exc:  # "nothing to search for" / too many terms: a clear refusal
            assert "search" in str(exc)


@pytest.mark.parametrize("text", ["%", "   ", "\x00harbour", "x" * 1_000_000, " ".join(["w"] * 40)])
def test_unusable_searches_are_refused_clearly(sessions, text):
    with pytest.raises(ValueError, match="search"):
        urls(sessions, search=text)


def test_parse_search():
    assert [(t.words, t.prefix) for t in parse_search('Fox "Lazy  DOG" e-mail econ* x')] == [
        (("fox",), False), (("lazy", "dog"), False), (("e", "mail"), False), (("econ",), True), (("x",), False),
    ]  # fmt: skip


def test_contains_is_a_literal_substring(sessions):
    assert urls(sessions, contains="met a lazy") == ["phrase"]
    assert urls(sessions, contains="%") == []


def test_seen_sort_and_relevance_needs_search(sessions):
    assert urls(sessions, sort="seen")[0] == "phrase"
    with pytest.raises(ValueError, match="relevance"):
        urls(sessions, sort="relevance")


def test_a_diff_shows_an_added_paragraph_and_leaves_the_one_before_it_alone(database_url):
    factory = open_database(database_url)
    first = "The bridge opened at dawn.\n\n" + FILLER
    with factory.begin() as session:
        store_articles(session, [make_item("alpha", "bridge", title="Bridge opens", text=first)])
        store_articles(session, [make_item("alpha", "bridge", title="Bridge opens", text=first + "\n\nUpdate: traffic flows.",
                                           fetched_at=T0 + timedelta(days=1))])  # fmt: skip
    with factory() as session:
        detail = get_article(session, "https://alpha.example/bridge")
    changed = [line for line in version_diff(detail, 1, 2).splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["+", "+Update: traffic flows."]


def test_fts_follows_updates_and_deletes(database_url):
    factory = open_database(database_url)
    with factory.begin() as session:
        store_articles(session, [CORPUS[0]])
        changed = make_item("alpha", "harbour", title="Harbour bridge reopens", text="Lighthouse keepers. " + FILLER,
                            fetched_at=T0 + timedelta(days=1))  # fmt: skip
        store_articles(session, [changed])
    assert urls(factory, search="lighthouse") == ["harbour"]
    assert urls(factory, search="dawn") == []
    with factory() as session:
        detail = get_article(session, "https://alpha.example/harbour")
    diff = version_diff(detail, 1, 2)
    assert "-The bridge opened at dawn." in diff and "+Lighthouse keepers." in diff
    with pytest.raises(ValueError, match="no version 3"):
        version_diff(detail, 1, 3)
    with factory.begin() as session:
        session.execute(sa.text("DELETE FROM article_versions"))
        session.execute(sa.text("DELETE FROM article_urls"))
        session.execute(sa.text("DELETE FROM dedup_keys"))
        session.execute(sa.text("DELETE FROM articles"))
    assert urls(factory, search="lighthouse") == []
    factory.kw["bind"].dispose()


def test_clusters(database_url):
    factory = open_database(database_url)
    wire = "Wire copy about the summit talks in Geneva between ministers. " + FILLER
    with factory.begin() as session:
        store_articles(session, [
            make_item("alpha", "summit", title="Summit talks begin", text=wire, published_at=T0),
            make_item("beta", "summit", title="Ministers meet in Geneva", text=wire, published_at=T0 + timedelta(hours=3)),
            make_item("gamma", "alone", title="Alone", text="Entirely unrelated words here. " * 20),
        ])  # fmt: skip
    with factory() as session:
        found = list_clusters(session)
        assert [c.size for c in found] == [2]
        story = found[0]
        assert story.sources == ["alpha", "beta"]
        assert [m.title for m in story.members] == ["Summit talks begin", "Ministers meet in Geneva"]
        assert list_clusters(session, min_size=1, limit=10)[0].id == story.id
        assert len(list_clusters(session, min_size=1, limit=10)) == 2
        assert list_clusters(session, min_sources=3) == []
        assert list_clusters(session, since=T0 + timedelta(hours=2))[0].id == story.id
        assert list_clusters(session, since=T0 + timedelta(days=1)) == []
        assert get_cluster(session, story.id).as_dict()["members"][1]["source"] == "beta"
        assert get_cluster(session, 999_999) is None
    factory.kw["bind"].dispose()


def test_a_decimal_number_is_found_on_every_store(sessions):
    """PostgreSQL's parser indexes "3.75" as one token; FTS5 as the phrase "3 75". Both find it."""
    with sessions.begin() as session:
        store_articles(session, [make_item("alpha", "fares", title="Ferry fares", text="A ticket now costs 3.75 pounds. " + FILLER)])
    assert urls(sessions, search="3.75") == ["fares"]
    assert urls(sessions, search="ticket 3.75") == ["fares"]
