"""Stories lost for good: one page served in the wrong shape, a shared canonical, a 304 never asked for.

Two crawls of one hostile server into one database. In the first, five article URLs answer with one
consent wall, five with one error page served as 200 (which no wall detector knows), and one with a
304 to a request that carried no validator; in the second the server has recovered. Every story
must be stored once by the end, and no wall stored as one. Ten more articles declare as canonical
the site root or their section page: ten stories, no versions.

Stories are counted by their normalised text, never by rows of a unique column.
"""

from __future__ import annotations

import collections
import re

import pytest
import sqlalchemy as sa
from reliability_kit import HostileServer, article_html, listing_html, own_index, run_crawl

from storage.dedup import normalise_text

pytestmark = pytest.mark.reliability

SLUGS = ("budget-vote", "bridge-repair", "tram-strike", "storm-damage", "school-plan")
LEGAL = " ".join(
    [
        "We and our partners use cookies and similar technologies to store and/or access information on a device,",
        "and process personal data such as unique identifiers and browsing data to deliver our services,",
        "measure audience engagement and site statistics, and develop and improve our services.",
        "If you choose to accept all, we will also use cookies and data for personalised advertising and content,",
        "and to build profiles from your activity. You can withdraw your consent at any time in the privacy settings.",
    ]
)
CONSENT_WALL = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Before you continue</title></head><body>"
    f"<div class='consent'><h1>Before you continue</h1><p>{LEGAL}</p><p>{LEGAL}</p><p>{LEGAL}</p>"
    "<form action='/consent' method='post'><button name='set' value='reject'>Reject all</button>"
    "<button name='set' value='accept'>Accept all</button></form><a href='/consent/options'>More options</a>"
    "</div></body></html>"
).encode()
ERROR_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Courier</title>"
    "<meta property='og:type' content='article'></head><body><article><h1>We will be right back</h1>"
    + "".join(
        f"<p>Our newsroom system is being moved to new servers this evening, part {n}. Pages may show this notice "
        "for a few minutes while the move completes; the stories you were looking for will return shortly, with "
        "their photographs, comments and corrections, exactly where they were before the move began.</p>"
        for n in range(4)
    )
    + "</article></body></html>"
).encode()

#: Normalised words of each wall's body: an article holding them stored the wall as a story.
WALL_MARKERS = ("we and our partners use cookies", "our newsroom system is being moved")
#: case -> what run 1 serves instead of the article
PAGES = {"consent-wall": CONSENT_WALL, "error-page-200": ERROR_PAGE}
CASES = ("consent-wall", "error-page-200", "canonical-root", "canonical-section")
#: Each case's articles are numbered from its own base, so every story has its own text.
NUMBERS = {case: 700_000 + 100 * index for index, case in enumerate((*CASES, "not-modified"))}


class Phase:
    """What the server serves: 1 (the broken run) or 2 (recovered)."""

    run = 1


def _index(case: str, server_links: list[str]):
    @own_index
    def route(handler, rest: str) -> None:
        if rest == "":
            return handler.send(200, listing_html(server_links))
        slug = rest.removeprefix("story/")
        if slug not in SLUGS:
            return handler.send(404, b"<html><body>not found</body></html>")
        number = NUMBERS[case] + SLUGS.index(slug)
        if case in PAGES and Phase.run == 1:
            return handler.send(200, PAGES[case])
        page = article_html(case, number)
        if case == "canonical-root":
            page = page.replace(b"</head>", f"<link rel='canonical' href='{handler.server.base_url}/'></head>".encode())
        if case == "canonical-section":
            section = f"{handler.server.base_url}/c/{case}/"
            page = page.replace(b"</head>", f"<link rel='canonical' href='{section}'></head>".encode())
        return handler.send(200, page)

    return route


@own_index
def _not_modified(handler, rest: str) -> None:
    """A broken cache: a 304 to the first request, though it carried no validator."""
    if rest == "":
        return handler.send(200, listing_html(["story"]))
    conditional = handler.headers.get("If-None-Match") or handler.headers.get("If-Modified-Since")
    with handler.server.lock:
        handler.server.story_hits += 1
        first = handler.server.story_hits == 1
    if first and not conditional:
        return handler.send(304, b"", content_type=None)
    return handler.send(200, article_html("not-modified", NUMBERS["not-modified"]))


@pytest.fixture(scope="module")
def server():
    with HostileServer() as main:
        main.story_hits = 0
        for case in CASES:
            main.routes[case] = _index(case, [f"story/{slug}" for slug in SLUGS])
        main.routes["not-modified"] = _not_modified
        yield main


@pytest.fixture(scope="module")
def crawls(server, tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('lost') / 'crawl.db'}"
    start = [server.case_url(case) for case in (*CASES, "not-modified")]
    Phase.run = 1
    first = run_crawl("lost stories", database_url, start)
    first_log = first.fetches()  # the database goes on to hold the second run's log too
    Phase.run = 2
    second = run_crawl("lost stories", database_url, start)
    return first, first_log, second


def _stories(database_url: str) -> list[tuple[str, str]]:
    """(canonical URL, normalised text) of every stored article, as they stand now."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT canonical_url, text FROM articles")).all()
    finally:
        engine.dispose()
    return [(url, normalise_text(text)) for url, text in rows]


def _expected(case: str, count: int) -> list[str]:
    texts = []
    for n in range(count):
        html = article_html(case, NUMBERS[case] + n).decode()
        paragraphs = re.findall(r"<p>(.*?)</p>", html)[1:]  # the byline is no part of the compared story
        texts.append(normalise_text(" ".join(paragraphs)))
    return texts


def _found(expected: list[str], stories: list[tuple[str, str]]) -> tuple[int, int]:
    """(stories found, duplicate copies): a story is found when its text is in an article's text."""
    found = duplicates = 0
    for text in expected:
        copies = sum(1 for _url, stored in stories if text in stored)
        found += copies > 0
        duplicates += max(0, copies - 1)
    return found, duplicates


def test_crawls_went_on(crawls):
    for crawl in (crawls[0], crawls[2]):
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        assert not crawl.crash_lines, "\n".join(crawl.crash_lines[:10])


@pytest.mark.parametrize(
    ("case", "count", "what"),
    [
        ("consent-wall", 5, "consent wall on 5 URLs in run 1, articles in run 2"),
        ("error-page-200", 5, "one 200 error page on 5 URLs in run 1, articles in run 2"),
        ("canonical-root", 5, "5 articles whose canonical is the home page"),
        ("canonical-section", 5, "5 articles whose canonical is their section page"),
        ("not-modified", 1, "304 to a request without a validator, then 200"),
    ],
)
def test_every_story_is_stored_once(crawls, server, results, case, count, what):
    second = crawls[2]
    stories = _stories(second.database_url)
    found, duplicates = _found(_expected(case, count), stories)
    walls = sum(
        1 for url, text in stories if url.startswith(server.case_url(case)) and any(m in text for m in WALL_MARKERS)
    )
    results.articles_lost += count - found
    results.duplicate_stories += duplicates
    outcomes = collections.Counter(row[2] for row in second.fetches_under(server.case_url(case, "story")))
    results.add(
        f"lost stories: {case}",
        f"{count} stories, 0 duplicate, 0 walls ({what})",
        f"{found} stories, {duplicates} duplicate, {walls} walls; both runs {dict(sorted(outcomes.items()))}",
        passed=found == count and duplicates == 0 and walls == 0,
    )
    assert (found, duplicates, walls) == (count, 0, 0)


def test_walls_are_interstitials_and_shared_bodies_boilerplate_in_the_broken_run(crawls, server):
    first_log = crawls[1]

    def outcomes(prefix: str) -> collections.Counter[str]:
        return collections.Counter(row[2] for row in first_log if row[0].startswith(prefix))

    assert outcomes(server.case_url("consent-wall", "story/")) == {"interstitial": 5}
    # Two pages may share a body (a story that moved); from the third it is boilerplate.
    assert outcomes(server.case_url("error-page-200", "story/")) == {"stored": 1, "duplicate": 1, "boilerplate": 3}
    [not_modified] = [row for row in first_log if row[0] == server.case_url("not-modified", "story")]
    assert not_modified[1:3] == (304, "error")
