"""Every date form sitemaps, feeds and headers use comes in as aware UTC, or as None."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from crawler.discovery.dates import to_utc
from crawler.discovery.feeds import read_feed
from crawler.discovery.sitemaps import read_sitemap

AWARE_FORMS = [
    # W3C datetime at every precision a sitemap may use.
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
    ("2024-05-01T10:20Z", datetime(2024, 5, 1, 10, 20, tzinfo=UTC)),
    ("2024-05-01T10:20+02:00", datetime(2024, 5, 1, 8, 20, tzinfo=UTC)),
    ("2024-05-01T10:20:30Z", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
    ("2024-05-01T10:20:30", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
    ("2024-05-01T10:20:30.25+00:00", datetime(2024, 5, 1, 10, 20, 30, 250000, tzinfo=UTC)),
    ("2024-05-01T10:20:30.123456-05:30", datetime(2024, 5, 1, 15, 50, 30, 123456, tzinfo=UTC)),
    ("2024-05-01 10:20:30+0200", datetime(2024, 5, 1, 8, 20, 30, tzinfo=UTC)),
    ("  2024-05-01T10:20:30Z\n", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
    # RFC 822 / HTTP dates (RSS pubDate, Last-Modified, Retry-After).
    ("Tue, 10 Jun 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 +0200", datetime(2003, 6, 10, 2, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 EST", datetime(2003, 6, 10, 9, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 -0000", datetime(2003, 6, 10, 4, tzinfo=UTC)),
    ("10 Jun 2003 04:00 +0000", datetime(2003, 6, 10, 4, tzinfo=UTC)),
    # The ends of the calendar, with offsets that stay inside it.
    ("0001-01-01T00:00:00-01:00", datetime(1, 1, 1, 1, tzinfo=UTC)),
    ("9999-12-31T23:00:00+01:00", datetime(9999, 12, 31, 22, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "expected"), AWARE_FORMS)
def test_text_forms_become_aware_utc(text, expected):
    found = to_utc(text)
    assert found == expected
    assert found.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "garbage",
        "2024-13-45",
        "2024-02-30",
        "2024-5",
        "-5",
        "Tue, 99 Foo 2003",
        # Offsets that push the ends of the calendar outside what a UTC datetime can hold.
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
        12345,
        b"2024-05-01",
    ],
)
def test_garbage_and_unrepresentable_dates_are_none(value):
    assert to_utc(value) is None


def test_python_values_become_aware_utc():
    assert to_utc(datetime(2024, 5, 1, 10)) == datetime(2024, 5, 1, 10, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert to_utc(datetime(2024, 5, 1, 10, tzinfo=plus_two)).tzinfo is UTC
    assert to_utc(date(2024, 5, 1)) == datetime(2024, 5, 1, tzinfo=UTC)
    assert to_utc(time.struct_time((2024, 5, 1, 10, 20, 0, 2, 122, 0))) == datetime(2024, 5, 1, 10, 20, tzinfo=UTC)
    # feedparser's tuple for 9999-12-31T23:59:59-05:00 is in year 10000.
    assert to_utc(time.struct_time((10000, 1, 1, 4, 59, 59, 5, 1, 0))) is None


def test_sitemap_dates_are_aware_whatever_their_form():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://a.example/one</loc><lastmod>2024-05-01</lastmod></url>
  <url><loc>https://a.example/two</loc><lastmod>2024-05-01T10:20+02:00</lastmod></url>
  <url><loc>https://a.example/three</loc><lastmod>yesterday</lastmod>
    <news:news><news:publication_date>2024-05-02</news:publication_date></news:news></url>
</urlset>"""
    one, two, three = read_sitemap(body, max_size=10_000).entries
    assert one.lastmod == datetime(2024, 5, 1, tzinfo=UTC) and one.lastmod.tzinfo is UTC
    assert two.lastmod == datetime(2024, 5, 1, 8, 20, tzinfo=UTC)
    assert three.lastmod is None
    assert three.news_publication_date == datetime(2024, 5, 2, tzinfo=UTC)


def test_feed_dates_are_aware_whatever_their_form():
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>
<item><link>https://a.example/one</link><pubDate>Tue, 10 Jun 2003 04:00:00 EST</pubDate></item>
<item><link>https://a.example/two</link><pubDate>2024-05-01</pubDate></item>
<item><link>https://a.example/three</link><pubDate>9999-12-31T23:59:59-05:00</pubDate></item>
<item><link>https://a.example/four</link><pubDate>not a date</pubDate></item>
</channel></rss>"""
    one, two, three, four = read_feed(body, "https://a.example/feed")
    assert one.published_at == datetime(2003, 6, 10, 9, tzinfo=UTC)
    assert two.published_at == datetime(2024, 5, 1, tzinfo=UTC) and two.published_at.tzinfo is UTC
    assert three.published_at is None
    assert four.published_at is None


def _page_item(published_at: datetime | None, modified_at: datetime | None):
    from crawler.extraction import Article
    from crawler.items import PageItem
    from crawler.pages import Page

    url = "https://a.example/news/one"
    article = Article(
        url=url, title="One", text="Words " * 50, authors=(), published_at=published_at, modified_at=modified_at,
        language="en", description=None, section=None, tags=(), image_url=None, canonical_url=url, word_count=50,
    )  # fmt: skip
    page = Page(url, 200, b"", "text/html", "utf-8", None, None, datetime(2024, 6, 1, tzinfo=UTC))
    return PageItem(source="a", page=page, requested_url=url, extraction=article)


def _normalise(item, since: datetime | None):
    """NormalisePipeline over a crawl run whose ``since`` is given: all the pipeline reads of the run."""
    from types import SimpleNamespace
    from unittest import mock

    from crawler.components.run import CrawlRun
    from crawler.pipelines import NormalisePipeline

    with mock.patch.object(CrawlRun, "of", return_value=SimpleNamespace(since=since)):
        return NormalisePipeline(SimpleNamespace()).process_item(item)


def test_article_dates_reach_storage_as_aware_utc_even_when_extraction_gives_them_naive():
    item = _normalise(_page_item(datetime(2024, 5, 1, 10), datetime(2024, 5, 2)), since=datetime(2024, 1, 1, tzinfo=UTC))
    assert item.article.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert item.article.modified_at == datetime(2024, 5, 2, tzinfo=UTC)
    # A naive date before an aware since is compared, not a TypeError.
    before = _normalise(_page_item(datetime(2023, 5, 1), None), since=datetime(2024, 1, 1, tzinfo=UTC))
    assert before.article is None and before.extraction.reason == "published-before-since"


def test_a_date_in_the_pages_own_offset_reaches_storage_in_utc():
    """Extraction keeps the page's offset (its day is the publisher's); the stored value is UTC."""
    new_york = timezone(timedelta(hours=-4))
    item = _normalise(_page_item(datetime(2024, 3, 14, 21, 30, tzinfo=new_york), None), since=None)
    assert item.article.published_at == datetime(2024, 3, 15, 1, 30, tzinfo=UTC)
    assert item.article.published_at.utcoffset() == timedelta(0)
