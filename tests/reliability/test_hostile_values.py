"""Values no page should hold: one that cannot be read or stored costs that value, never the story.

Dates that do not exist in UTC, JSON-LD nested 100,000 deep, NUL and lone surrogates in
structured data, NUL in an ETag header, a 9 KB canonical URL or a redirect to one, a 1.3 MB title.
The crawl writes to PostgreSQL when ``NEWSDESK_TEST_POSTGRES_URL`` is set (as in CI: most of these
fail only there), else to SQLite.
"""

from __future__ import annotations

import json
import random
import string

import pytest
import sqlalchemy as sa
from reliability_kit import HostileServer, crawl_database, article_html, assert_crawl_went_on, case_number, run_crawl

pytestmark = pytest.mark.reliability

# Random letters: PostgreSQL compresses an index row of one repeated letter to almost nothing.
LONG_TAIL = "/" + "".join(random.Random(9_040).choices(string.ascii_letters + string.digits, k=9_000))
HUGE_TITLE = " ".join(f"harbour{n}" for n in range(130_000))  # 1.3 MB of distinct words


def _with_json_ld(page: bytes, json_ld: str) -> bytes:
    script = f"<script type='application/ld+json'>{json_ld}</script>".encode()
    return page.replace(b"</head>", script + b"</head>", 1)


def _news_article(**fields: str) -> str:
    return json.dumps({"@type": "NewsArticle", **fields})


def _route(handler, case: str, rest: str) -> None:
    page = article_html(f"{case}, hostile", case_number(case) + 500_000)
    if case == "date-0001-offset":  # what .NET CMSs write for an unset date
        return handler.send(200, _with_json_ld(page, _news_article(dateModified="0001-01-01T00:00:00+01:00")))
    if case == "date-9999-negative-offset":
        return handler.send(200, _with_json_ld(page, _news_article(datePublished="9999-12-31T23:59:59-05:00")))
    if case == "json-ld-100k-deep":
        return handler.send(200, _with_json_ld(page, "[" * 100_000 + "]" * 100_000))
    if case == "nul-in-json-ld":
        ld = '{"@type": "NewsArticle", "description": "Stand\\u0000first", "author": {"@type": "Person", "name": "Jane\\u0000 Roe"}}'
        return handler.send(200, _with_json_ld(page, ld))
    if case == "surrogate-in-json-ld":
        ld = '{"@type": "NewsArticle", "description": "Stand \\ud800 first", "keywords": "port, \\udfff"}'
        return handler.send(200, _with_json_ld(page, ld))
    if case == "nul-in-etag":
        return handler.send(200, page, ETag='"abc\x00def"')
    if case == "long-canonical":
        link = f"<link rel='canonical' href='{handler.server.case_url(case, 'bad')}{LONG_TAIL}'>".encode()
        return handler.send(200, page.replace(b"</head>", link + b"</head>", 1))
    if case == "redirect-to-long-url":
        if rest == "bad":
            return handler.send(302, b"", Location=handler.server.case_url(case, "moved") + LONG_TAIL)
        return handler.send(200, page)  # the long URL, and no canonical link
    if case == "title-1.3mb":
        return handler.send(200, page.replace(b"<title>", f"<title>{HUGE_TITLE} ".encode(), 1).replace(
            b"<h1>", f"<h1>{HUGE_TITLE} ".encode(), 1))
    raise AssertionError(case)


CASES = [
    "date-0001-offset", "date-9999-negative-offset", "json-ld-100k-deep", "nul-in-json-ld", "surrogate-in-json-ld",
    "nul-in-etag", "long-canonical", "redirect-to-long-url", "title-1.3mb",
]  # fmt: skip


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    with crawl_database(tmp_path_factory.mktemp("hostile-values")) as url:
        yield url


@pytest.fixture(scope="module")
def server():
    with HostileServer() as main:
        for case in CASES:
            main.routes[case] = lambda handler, rest, case=case: _route(handler, case, rest)
        yield main


@pytest.fixture(scope="module")
def crawl(server, database_url):
    return run_crawl("hostile values", database_url, [server.case_url(case) for case in CASES])


def _stored_story(crawl, server, case: str) -> tuple[int, str | None, int]:
    """How many stored articles hold the case's story (by content), one title, and the case's dead letters."""
    marker = f"By Case Reporter ({case}, hostile)"
    engine = sa.create_engine(crawl.database_url)
    try:
        with engine.connect() as conn:
            titles = conn.execute(
                sa.text("SELECT title FROM articles WHERE text LIKE :marker"), {"marker": f"%{marker}%"}
            ).scalars().all()
            dead = conn.execute(
                sa.text("SELECT COUNT(*) FROM dead_letters WHERE url LIKE :prefix"),
                {"prefix": server.case_url(case) + "%"},
            ).scalar_one()
    finally:
        engine.dispose()
    return len(titles), (titles[0] if titles else None), dead


def test_hostile_values_crawl_went_on(crawl, server):
    assert_crawl_went_on(crawl, server, CASES)


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_value_costs_no_story(crawl, server, results, case):
    stories, title, dead = _stored_story(crawl, server, case)
    rows = crawl.fetches_under(server.case_url(case))
    outcomes = sorted({row[2] for row in rows if "/ok" not in row[0] and not row[0].endswith(f"/{case}/")})
    results.add(
        f"values: {case}",
        "story stored once, no dead letter",
        f"{stories} stored ({', '.join(outcomes) or 'not fetched'}), title {len(title or '')} chars, {dead} dead letters",
    )
    assert stories == 1, outcomes
    assert dead == 0
    assert title is None or len(title) <= 1_000


def test_dead_letters_and_leases_are_none(crawl):
    """Nothing was dead-lettered and no frontier row was left leased when the crawl ended."""
    engine = sa.create_engine(crawl.database_url)
    try:
        with engine.connect() as conn:
            leased = conn.execute(sa.text("SELECT COUNT(*) FROM frontier WHERE state = 'leased'")).scalar_one()
            dead = conn.execute(sa.text("SELECT COUNT(*) FROM dead_letters")).scalar_one()
    finally:
        engine.dispose()
    assert (leased, dead) == (0, 0)

