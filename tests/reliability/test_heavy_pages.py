"""Pages that are heavy to read, not to download: 20 MB of text, 200,000 links, 300 levels of
nesting, 6 MB of tiny elements or of tiny links; and sixteen 5 MB pages at once, with the crawl
process, and the crawl's whole process tree, under a memory budget."""

from __future__ import annotations

import pytest
from reliability_kit import HostileServer, article_html, assert_crawl_went_on, listing_html, own_index, run_crawl

pytestmark = pytest.mark.reliability

MB = 1024 * 1024
LINK_CAP = 100
LINKS = 200_000
#: Sixteen 5 MB pages fetched together: the crawl process (not its extraction workers) stays below.
CONCURRENT_RSS_BUDGET_MB = 640
CONCURRENT_PAGES = 16
#: The crawl's whole tree (crawl process, fork server, two extraction workers, writer), summed
#: proportional memory (PSS), on a machine of two cores (two workers) reading pages of tiny elements.
TREE_BUDGET_MB = 1024
TINY_PAGE_BYTES = 6 * MB
ELEMENT_CAP_REASON = "NEWSDESK_MAX_PAGE_ELEMENTS"


def huge_html() -> bytes:
    """About 20 MB of paragraphs, each unique, numbered; the last one must never reach extraction."""
    head = b"<!DOCTYPE html><html><head><title>Endless report</title><meta property='og:type' content='article'></head><body><article><h1>Endless report</h1>"
    paragraphs = []
    size, number = len(head), 0
    while size < 20 * MB:
        paragraph = f"<p>Paragraph {number} of the endless report says item {number * 7919 % 100003} moved.</p>\n".encode()
        paragraphs.append(paragraph)
        size += len(paragraph)
        number += 1
    paragraphs.append(b"<p>LAST-PARAGRAPH-MARKER</p>")
    return head + b"".join(paragraphs) + b"</article></body></html>"


def _huge(handler, rest: str) -> None:
    handler.send(200, huge_html())


def _links(handler, rest: str) -> None:
    if rest == "bad":
        anchors = "".join(f'<a href="x/{n}">{n}</a> ' for n in range(LINKS))
        return handler.send(200, f"<html><head><title>Links</title></head><body>{anchors}</body></html>".encode())
    handler.send(404)


def _deep(handler, rest: str) -> None:
    page = article_html("deep", 3003)
    depth = 300
    page = page.replace(b"<body>", b"<body>" + b"<div>" * depth).replace(b"</body>", b"</div>" * depth + b"</body>")
    handler.send(200, page)


@own_index
def _concurrent(handler, rest: str) -> None:
    if rest == "":
        return handler.send(200, listing_html([f"page/{n}" for n in range(CONCURRENT_PAGES)] + ["ok"]))
    number = int(rest.rsplit("/", 1)[-1])
    page = article_html("concurrent", 5000 + number)
    filler = b"<!-- " + b"f" * (5 * MB - len(page) - 64) + b" -->"
    handler.send(200, page.replace(b"</body>", filler + b"</body>"))


def tiny_page(unit: str) -> bytes:
    """About ``TINY_PAGE_BYTES`` of one tiny element repeated (``{n}`` numbers it), as an article."""
    head = "<!DOCTYPE html><html><head><title>Tiny</title><meta property='og:type' content='article'></head><body><article><h1>Tiny</h1>"
    parts, size, number = [head], len(head), 0
    while size < TINY_PAGE_BYTES:
        part = unit.format(n=number)
        parts.append(part)
        size += len(part)
        number += 1
    return ("".join(parts) + "</article></body></html>").encode()


def _tiny_elements(handler, rest: str) -> None:
    handler.send(200, tiny_page("<i>x</i>"))


def _tiny_links(handler, rest: str) -> None:
    if rest == "bad":
        return handler.send(200, tiny_page('<a href="x/{n}">x</a>'))
    handler.send(404)


@pytest.fixture(scope="module")
def server():
    with HostileServer() as main:
        main.routes.update({"huge-html": _huge, "links-200k": _links, "deep-nesting": _deep, "concurrent": _concurrent})
        main.routes.update({"tiny-elements": _tiny_elements, "tiny-links": _tiny_links})
        yield main


@pytest.fixture(scope="module")
def heavy(server, tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('heavy') / 'crawl.db'}"
    starts = [server.case_url(case) for case in ("huge-html", "links-200k", "deep-nesting")]
    settings = {"DOWNLOAD_MAXSIZE": 25 * MB, "NEWSDESK_MAX_LINKS_PER_PAGE": LINK_CAP}
    return run_crawl("heavy pages", database_url, starts, settings)


@pytest.fixture(scope="module")
def concurrent(server, tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('concurrent') / 'crawl.db'}"
    settings = {"CONCURRENT_REQUESTS": CONCURRENT_PAGES, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENT_PAGES}
    return run_crawl("16 x 5 MB", database_url, [server.case_url("concurrent")], settings)


@pytest.fixture(scope="module")
def tiny(server, tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('tiny') / 'crawl.db'}"
    starts = [server.case_url(case) for case in ("tiny-elements", "tiny-links")]
    return run_crawl("6 MB of tiny elements / links", database_url, starts, {"NEWSDESK_MAX_LINKS_PER_PAGE": LINK_CAP})


def _row(crawl, url: str) -> tuple[str, str]:
    rows = [row for row in crawl.fetches() if row[0] == url]
    assert rows, f"{url} not in the crawl log"
    return rows[-1][2], rows[-1][3] or ""


def test_heavy_crawl_went_on(heavy, server):
    assert_crawl_went_on(heavy, server, ["huge-html", "links-200k", "deep-nesting"])


def test_twenty_megabytes_of_html_are_cut_before_extraction(heavy, server, results):
    url = server.case_url("huge-html", "bad")
    outcome, reason = _row(heavy, url)
    import sqlalchemy as sa

    engine = sa.create_engine(heavy.database_url)
    with engine.connect() as conn:
        text = conn.execute(sa.text("SELECT text FROM articles WHERE canonical_url = :u"), {"u": url}).scalar_one_or_none()
    engine.dispose()
    results.add(
        "size: 20 MB of unique paragraphs",
        "cut at 5 MB, then stored, timed out or over the element cap",
        f"{outcome} {reason}, stored text {len(text or ''):,} chars",
    )
    # 5 MB of paragraphs is 65,000 of them: over NEWSDESK_MAX_PAGE_ELEMENTS, read for links only.
    assert (
        outcome == "stored"
        or (outcome == "error" and "extraction-timeout" in reason)
        or (outcome == "not-an-article" and ELEMENT_CAP_REASON in reason)
    ), (outcome, reason)
    if text is not None:
        assert "LAST-PARAGRAPH-MARKER" not in text and len(text.encode()) <= 5 * MB


def test_two_hundred_thousand_links_are_capped(heavy, server, results):
    followed = server.hits_under("/c/links-200k/x/")
    capped = int(heavy.stats().get("newsdesk/capped/links_per_page", 0))
    outcome, reason = _row(heavy, server.case_url("links-200k", "bad"))
    results.add("size: page with 200,000 links", f"{LINK_CAP} followed", f"{followed} followed, {capped:,} cut; page {outcome}")
    # The page is 5.7 MB: the part past NEWSDESK_MAX_HTML_BYTES (5 MB) is not read at all, nor the
    # part past four '<' per element of NEWSDESK_MAX_PAGE_ELEMENTS.
    assert followed == LINK_CAP and 0 < capped <= LINKS - LINK_CAP


def test_three_hundred_levels_of_nesting(heavy, server, results):
    outcome, reason = _row(heavy, server.case_url("deep-nesting", "bad"))
    results.add("size: HTML nested 300 deep", "stored", f"{outcome} {reason}")
    assert outcome == "stored", reason


def test_sixteen_five_megabyte_pages_at_once_stay_in_budget(concurrent, server, results):
    assert_crawl_went_on(concurrent, server, ["concurrent"])
    stored = set(concurrent.article_urls())
    pages = [server.case_url("concurrent", f"page/{n}") for n in range(CONCURRENT_PAGES)]
    results.add(
        "size: 16 x 5 MB pages concurrently",
        f"all stored, RSS < {CONCURRENT_RSS_BUDGET_MB} MB",
        f"{sum(p in stored for p in pages)} stored, {concurrent.peak_rss_mb:.0f} MB in {concurrent.seconds:.0f} s",
    )
    assert all(page in stored for page in pages)
    assert concurrent.peak_rss_mb < CONCURRENT_RSS_BUDGET_MB


@pytest.mark.parametrize("case", ["tiny-elements", "tiny-links"])
def test_six_megabytes_of_tiny_elements_are_read_for_links_only(tiny, server, results, case):
    outcome, reason = _row(tiny, server.case_url(case, "bad"))
    results.add(f"size: 6 MB page of {case}", "links only, element cap named", f"{outcome} {reason}")
    assert outcome == "not-an-article" and ELEMENT_CAP_REASON in reason, (outcome, reason)


def test_pages_of_tiny_elements_keep_the_crawl_tree_in_budget(tiny, server, results):
    assert_crawl_went_on(tiny, server, ["tiny-elements", "tiny-links"])
    followed = server.hits_under("/c/tiny-links/x/")
    results.add(
        "size: 6 MB of tiny elements and of tiny links",
        f"tree PSS <= {TREE_BUDGET_MB} MB",
        f"tree {tiny.tree_sum_peak_mb:.0f} MB, crawl {tiny.peak_rss_mb:.0f} MB, largest {tiny.tree_peak_rss_mb:.0f} MB; "
        f"{followed} links followed in {tiny.seconds:.0f} s",
    )
    assert tiny.tree_sum_peak_mb <= TREE_BUDGET_MB
    assert followed == LINK_CAP
