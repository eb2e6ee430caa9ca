"""read_page(): one parse gives the crawl its links, the page type and the article."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crawler.discovery.scope import CrawlScope
from crawler.extraction import Article, Rejection
from crawler.reading import PageReading, ReadRequest, join_parts, read_page
from storage.dedup import fingerprint

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
ARTICLE_URL = "https://courier.example/news/2024/03/14/harbour-bridge-reopens"
SCOPE = CrawlScope.from_start_urls(["https://courier.example/"])


def read(name: str, url: str = ARTICLE_URL, **options) -> PageReading:
    return read_page((FIXTURES / name).read_bytes(), ReadRequest(url=url, scope=SCOPE, **options))


def test_article_page_gives_links_article_and_fingerprint():
    reading = read("raw_news_page.html")
    assert "https://courier.example/news/ferry-timetable-changes" in reading.links
    assert "https://courier.example/authors/maria-olsen" in reading.links
    assert len(reading.links) == len(set(reading.links))
    assert isinstance(reading.extraction, Article)
    assert reading.extraction.title == "Harbour bridge reopens after two-year repair"
    assert reading.not_article_reason is None
    # The fingerprint is the one storage would compute from the text.
    assert reading.fingerprint == fingerprint(reading.extraction.text)


def test_links_are_canonical_and_in_scope_only():
    page = b"""<html><body><a href="/a?utm_source=x&b=2&a=1#top">A</a> <a href="/a?a=1&b=2">A again</a>
    <a href="https://other.example/x">elsewhere</a> <a href="HTTPS://COURIER.EXAMPLE:443/b">B</a></body></html>"""
    reading = read_page(page, ReadRequest(url="https://courier.example/", scope=SCOPE))
    assert reading.links == ("https://courier.example/a?a=1&b=2", "https://courier.example/b")


# Not web addresses, as pages carry them: w3lib 2.6 refuses the first three, Python the rest.
NO_WEB_ADDRESS = ["http://a b.example/x", "https://courier.example%2Fnews%2Fa", "http://999.1.1.1/",
                  "http://courier.example:99999/x", "http://[::1/x"]  # fmt: skip


@pytest.mark.parametrize("bad", NO_WEB_ADDRESS)
def test_a_url_that_is_no_web_address_costs_that_url_not_the_page(bad):
    """In a link, rel=canonical, og:url, rel=amphtml or syndication-source: the page is still read."""
    page = (FIXTURES / "raw_news_page.html").read_text()
    head = (f'<link rel="amphtml" href="{bad}"><meta name="syndication-source" content="{bad}">'
            f'<meta property="og:url" content="{bad}">')  # fmt: skip
    page = page.replace('<link rel="canonical" href="https://courier.example/news/2024/03/14/harbour-bridge-reopens">',
                        f'<link rel="canonical" href="{bad}">{head}')  # fmt: skip
    page = page.replace("</body>", f'<a href="{bad}">x</a></body>')
    assert bad in page
    reading = read_page(page.encode(), ReadRequest(url=ARTICLE_URL, scope=SCOPE))
    assert isinstance(reading.extraction, Article), reading.extraction
    assert reading.extraction.title == "Harbour bridge reopens after two-year repair"
    # The bad rel=canonical is passed over for the next declaration that is a web address: the
    # page's own og:url (relative), ahead of the bad one added after it.
    assert reading.extraction.canonical_url == ARTICLE_URL
    assert reading.extraction.rendition == "canonical" and reading.extraction.declared_renditions == ()
    assert "https://courier.example/news/ferry-timetable-changes" in reading.links


def test_listing_page_is_read_for_links_only():
    reading = read("listing_page.html", url="https://courier.example/news/")
    assert reading.extraction is None
    assert reading.not_article_reason.startswith("hub (")
    assert reading.links


def test_source_url_rules_and_discovery_only_reads_skip_extraction():
    by_rule = read("raw_news_page.html", may_be_article=False)
    assert by_rule.extraction is None and by_rule.not_article_reason == "URL matches no article rule"
    discovery = read("raw_news_page.html", extract=False)
    assert discovery.extraction is None and discovery.links == read("raw_news_page.html").links


def test_feeds_are_read_only_when_asked():
    page = b"""<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">
    <link rel="alternate" type="application/rss+xml" href="https://other.example/rss.xml"></head><body></body></html>"""
    request = ReadRequest(url="https://courier.example/", scope=SCOPE, want_feeds=True)
    assert read_page(page, request).feeds == ("https://courier.example/rss.xml",)
    assert read_page(page, ReadRequest(url="https://courier.example/", scope=SCOPE)).feeds == ()


def test_later_part_found_on_its_own_is_not_an_article_but_is_one_when_fetched_as_a_part():
    body = "<p>" + "The council met again on Tuesday to discuss the bridge works. " * 20 + "</p>"
    page = f"""<html><head><meta property="og:type" content="article">
    <link rel="prev" href="https://courier.example/news/story"></head>
    <body><article><h1>Bridge works, part two</h1>{body}</article></body></html>""".encode()
    url = "https://courier.example/news/story?page=2"
    alone = read_page(page, ReadRequest(url=url, scope=SCOPE))
    assert alone.not_article_reason == "a later part of a multi-page article"
    as_part = read_page(page, ReadRequest(url=url, scope=SCOPE, is_part=True))
    assert isinstance(as_part.extraction, Article)


def test_bytes_that_are_no_html_are_a_rejection_with_no_links():
    reading = read_page(b"%PDF-1.7 binary", ReadRequest(url="https://courier.example/x.pdf", scope=SCOPE))
    assert isinstance(reading.extraction, Rejection) and reading.extraction.reason == "not-html"
    assert reading.links == ()


def test_joined_parts_keep_the_first_metadata_and_all_text_in_order():
    first = read("raw_news_page.html")
    failed_part = PageReading(extraction=Rejection("too-little-text", "3 words"))
    assert join_parts([first, failed_part]) == (first.extraction, first.fingerprint)
    second = PageReading(extraction=replace(first.extraction, text="Part two."))
    extraction, body = join_parts([first, second])
    assert extraction.title == first.extraction.title
    assert extraction.text == first.extraction.text + "\n\nPart two."
    assert extraction.word_count == first.extraction.word_count + 2
    assert body is None  # storage fingerprints the joined text


def test_overlong_article_text_is_cut_at_a_paragraph_break():
    full = read("raw_news_page.html")
    paragraphs = full.extraction.text.split("\n\n")
    limit = len(paragraphs[0]) + 2 + len(paragraphs[1]) + 10
    cut = read("raw_news_page.html", max_text_chars=limit)
    assert cut.extraction.text == "\n\n".join(paragraphs[:2])
    assert cut.text_cut_from == len(full.extraction.text)
    assert cut.extraction.word_count < full.extraction.word_count
    assert cut.fingerprint == fingerprint(cut.extraction.text)
    assert full.text_cut_from == 0


def _tiny_elements_page(elements: int) -> bytes:
    links = "".join(f'<a href="/news/{n}">x</a>' for n in range(10))
    filler = "<i>x</i>" * elements
    return f"<html><head><title>T</title></head><body><article><h1>T</h1>{links}{filler}</article></body></html>".encode()


def test_a_page_over_the_element_cap_is_read_for_links_only():
    request = ReadRequest(url=ARTICLE_URL, scope=SCOPE, max_elements=1_000)
    reading = read_page(_tiny_elements_page(1_500), request)  # few enough tags to be parsed
    assert reading.extraction is None
    assert "NEWSDESK_MAX_PAGE_ELEMENTS" in reading.not_article_reason
    assert "https://courier.example/news/9" in reading.links


def test_bytes_far_past_the_element_cap_are_never_parsed():
    # 50,000 elements where 1,000 are allowed: cut before four '<' per allowed element.
    page = _tiny_elements_page(50_000) + b'<a href="/news/after-the-cut">late</a>'
    reading = read_page(page, ReadRequest(url=ARTICLE_URL, scope=SCOPE, max_elements=1_000))
    assert "NEWSDESK_MAX_PAGE_ELEMENTS" in reading.not_article_reason
    assert "https://courier.example/news/after-the-cut" not in reading.links


def test_a_real_article_is_far_under_the_element_cap():
    reading = read("raw_news_page.html", max_elements=50_000)
    assert isinstance(reading.extraction, Article)


def test_a_story_after_a_second_html_element_is_read_whole():
    """Real pages open a second <html> after </html> (a plugin's template holding the article);
    lxml keeps it beside the root, where nothing that walks the page from its root looked: the
    story was typed media and rejected as too little text."""
    paragraphs = "".join(
        f"<p>The harbour board met on day {n} and said the bridge would reopen once the last inspections "
        f"of its cables and deck were finished and signed off by the engineers.</p>"
        for n in range(1, 13)
    )
    page = (
        "<!DOCTYPE html><html><head><title>Harbour bridge reopens</title></head><body>"
        + "<img src='/a.png'>" * 20
        + "<a href='/news/other-story'>Another story about the harbour</a></body></html>\n"
        + f"<html><body><div class='post'><h1>Harbour bridge reopens</h1>{paragraphs}"
        + "<a href='/news/ferry-timetable-changes'>Ferry timetable changes</a></div></body></html>"
    ).encode()
    reading = read_page(page, ReadRequest(url=ARTICLE_URL, scope=SCOPE))
    assert reading.not_article_reason is None
    assert isinstance(reading.extraction, Article)
    assert reading.extraction.text.count("harbour board met") == 12
    assert "https://courier.example/news/ferry-timetable-changes" in reading.links
