"""Metadata: trust order, dates in UTC and never in the future, authors, titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.extraction import Article, extract_article
from crawler.extraction.metadata import clean_title, parse_date, split_authors

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
BODY = (
    "<p>The town council voted on Tuesday to keep the outdoor swimming pool open for another three summers, "
    "after a campaign by residents collected more than four thousand signatures in a month.</p>"
    "<p>The pool needs a new filter system and repairs to its changing rooms, which the council estimates "
    "will cost about half a million over the next two years, paid partly from a regional sports fund.</p>"
    "<p>Opening hours stay the same, and the season starts in the last week of May if the weather allows.</p>"
)


def page(head: str, body_prefix: str = "") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body><article>{body_prefix}{BODY}</article></body></html>"


def extract(
    html: str | bytes, url: str = "https://town.example/news/pool-stays-open"
) -> Article:
    result = extract_article(html, url)
    assert isinstance(result, Article), result
    return result


def test_json_ld_beats_meta_tags() -> None:
    article = extract(
        (FIXTURES / "jsonld_over_meta.html").read_bytes(),
        "https://nordkurier.example/a?ref=home",
    )
    assert article.published_at == datetime(2023, 11, 1, 17, 45, tzinfo=UTC)
    assert article.modified_at == datetime(2023, 11, 3, 8, 15, tzinfo=UTC)
    assert article.authors == ("Jana Krüger", "Ole Hansen")  # not the meta "Redaktion"
    assert article.section == "Wirtschaft"
    assert article.tags == ("Energie", "Stadtwerke", "Strompreis")
    assert article.image_url == "https://cdn.nordkurier.example/img/strom.jpg"
    assert (
        article.canonical_url
        == "https://nordkurier.example/wirtschaft/strompreis-sinkt"
    )
    assert article.title == "Stadtwerke senken den Strompreis"
    assert article.language == "de"


def test_meta_tags_when_no_json_ld() -> None:
    article = extract(
        (FIXTURES / "raw_news_page.html").read_bytes(),
        "https://courier.example/news/2024/03/14/harbour-bridge-reopens",
    )
    assert article.title == "Harbour bridge reopens after two-year repair"
    assert article.authors == ("Maria Olsen", "Tom Becker")
    assert article.published_at == datetime(2024, 3, 14, 6, 30, tzinfo=UTC)
    assert article.modified_at == datetime(2024, 3, 14, 11, 5, tzinfo=UTC)
    assert article.section == "Local news"
    assert article.tags == ("Transport", "Infrastructure")
    assert article.language == "en"
    assert (
        article.description
        == "Traffic returned to the Harbour bridge on Thursday morning."
    )
    assert (
        article.image_url == "https://courier.example/media/bridge-opening.jpg"
    )  # made absolute
    assert (
        article.canonical_url
        == "https://courier.example/news/2024/03/14/harbour-bridge-reopens"
    )


def test_future_dates_are_rejected() -> None:
    article = extract(
        (FIXTURES / "future_date.html").read_bytes(),
        "https://observatory.example/meteors",
    )
    assert article.published_at is None
    assert article.modified_at is None


def test_future_json_ld_date_falls_back_to_meta() -> None:
    head = (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Pool stays open",'
        '"datePublished":"2098-01-01T00:00:00Z"}</script>'
        '<meta property="article:published_time" content="2024-06-04T09:00:00-04:00">'
    )
    article = extract(page(head))
    assert article.published_at == datetime(2024, 6, 4, 13, 0, tzinfo=UTC)


def test_url_date_is_the_last_resort() -> None:
    article = extract(
        page("<title>Pool stays open</title>"),
        "https://town.example/2021/07/09/pool-stays-open/",
    )
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2021-07-09"
    assert article.published_at.tzinfo is not None


def test_dates_are_aware_utc() -> None:
    parsed = parse_date("2024-02-29T23:30:00-02:00")
    assert parsed == datetime(2024, 3, 1, 1, 30, tzinfo=UTC)
    assert parse_date("2024-02-29") == datetime(2024, 2, 29, tzinfo=UTC)
    assert parse_date("Thu, 14 Mar 2024 07:30:00 +0100") == datetime(
        2024, 3, 14, 6, 30, tzinfo=UTC
    )
    assert parse_date("20240314T0730") is not None
    assert parse_date("not a date") is None
    assert parse_date("2024-13-45") is None
    tomorrow_and_a_bit = datetime.now(UTC) + timedelta(days=1, hours=2)
    assert parse_date(tomorrow_and_a_bit.isoformat()) is None
    assert (
        parse_date((datetime.now(UTC) + timedelta(hours=5)).isoformat()) is not None
    )  # clock skew


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Anna Berg and Lars Lind"], ("Anna Berg", "Lars Lind")),
        (["by ANNA BERG & LARS LIND"], ("Anna Berg", "Lars Lind")),
        (["Anna Berg, Lars Lind and Mia Holm"], ("Anna Berg", "Lars Lind", "Mia Holm")),
        (["By Anna Berg | March 3, 2024"], ("Anna Berg",)),
        (["Anna Berg", "anna berg", "The Harbour Times"], ("Anna Berg",)),
        (["https://facebook.com/annaberg"], ()),
        (["By Anna Berg, Updated 10:30 AM"], ("Anna Berg",)),
    ],
)
def test_split_authors(raw: list[str], expected: tuple[str, ...]) -> None:
    assert split_authors(raw, exclude=["The Harbour Times"]) == expected


def test_byline_meta_is_split_in_extraction() -> None:
    article = extract(
        page(
            "<title>Pool stays open</title><meta name='author' content='By Anna Berg and Lars Lind'>"
        )
    )
    assert article.authors == ("Anna Berg", "Lars Lind")


def test_site_name_author_is_dropped() -> None:
    head = (
        "<title>Pool stays open</title><meta property='og:site_name' content='Town Gazette'>"
        '<script type="application/ld+json">{"@type":"NewsArticle","author":[{"@type":"Organization",'
        '"name":"Town Gazette"},{"@type":"Person","name":"Per Dahl"}]}</script>'
    )
    assert extract(page(head)).authors == ("Per Dahl",)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pool stays open | Town Gazette", "Pool stays open"),
        ("Pool stays open - Town Gazette", "Pool stays open"),
        ("Pool stays open — Town Gazette", "Pool stays open"),
        ("Pool stays open | News | Town Gazette", "Pool stays open | News"),
        ("Town Gazette | Pool stays open", "Pool stays open"),
        ("Pool stays open - town.example", "Pool stays open"),
        (
            "Pool stays open - but only for three summers",
            "Pool stays open - but only for three summers",
        ),
    ],
)
def test_title_suffix_matching_the_site_is_removed(title: str, expected: str) -> None:
    assert (
        clean_title(
            title, site_names=["Town Gazette"], headlines=[], host="www.town.example"
        )
        == expected
    )


def test_title_suffix_removed_when_headline_is_the_prefix() -> None:
    # The suffix is not a known site name, but the h1 shows where the headline ends.
    html = page(
        "<title>Pool stays open - for now: Riverside Evening Mail</title>",
        "<h1>Pool stays open - for now</h1>",
    )
    assert extract(html).title == "Pool stays open - for now"


def test_title_from_og_title_when_no_site_name() -> None:
    html = page(
        "<title>Pool stays open · Gazette</title><meta property='og:title' content='Pool stays open'>"
        "<meta property='og:site_name' content='Gazette'>"
    )
    assert extract(html).title == "Pool stays open"


def test_language_from_html_lang_and_description() -> None:
    html = page(
        "<title>x</title><meta name='description' content='  The pool\u200b stays open. '>"
    ).replace("<html>", "<html lang='en-US'>")
    article = extract(html)
    assert article.language == "en"
    assert article.description == "The pool stays open."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Genevieve Carlton, Ph.D.", ("Genevieve Carlton",)),
        ("Doris Munoz, MD, FOMA", ("Doris Munoz",)),
        ("Michael Greger, M.D. FACLM", ("Michael Greger",)),
        ("Author: Isaiah Shelton", ("Isaiah Shelton",)),
        ("Reviewed by Ana Ruiz", ("Ana Ruiz",)),
        ("The Author", ()),
    ],
)
def test_credentials_and_labels_are_not_authors(
    raw: str, expected: tuple[str, ...]
) -> None:
    assert split_authors([raw]) == expected


def test_person_named_like_the_site_is_kept() -> None:
    # A personal blog: the site is named after its author.
    head = (
        "<title>Pool stays open | Per Dahl</title><meta property='og:site_name' content='Per Dahl'>"
        '<script type="application/ld+json">{"@type":"BlogPosting","headline":"Pool stays open",'
        '"author":{"@type":"Person","name":"Per Dahl"}}</script>'
    )
    article = extract(page(head), "https://perdahl.example/pool")
    assert article.authors == ("Per Dahl",)
    assert article.title == "Pool stays open"


def test_pipe_suffixes_are_removed_even_for_unknown_sites() -> None:
    html = page(
        "<title>Pool stays open for three more summers | Opinion | Valley Mail</title>"
    )
    assert extract(html).title == "Pool stays open for three more summers"


def test_dash_inside_a_headline_is_kept() -> None:
    html = page("<title>Pool stays open - but only for three summers</title>")
    assert extract(html).title == "Pool stays open - but only for three summers"


def test_capitalised_h1_gives_way_to_the_metadata_spelling() -> None:
    html = page(
        "<title>Pool Stays Open For Three Summers | Gazette</title>",
        "<h1>POOL STAYS OPEN FOR THREE SUMMERS</h1>",
    )
    assert extract(html).title == "Pool Stays Open For Three Summers"


def test_logo_h1_is_not_the_title() -> None:
    html = page(
        "<title>Pool stays open for three summers - Town Gazette</title><meta property='og:site_name' content='Town Gazette'>",
        "<h1>Town Gazette</h1>",
    )
    assert extract(html).title == "Pool stays open for three summers"


def test_malformed_json_ld_values_are_ignored() -> None:
    head = (
        "<title>Pool stays open</title>"
        '<script type="application/ld+json">{"@type":["NewsArticle"],"@graph":"nonsense","author":5,'
        '"image":42,"keywords":{"a":1},"datePublished":["2024-05-01"],"headline":{"x":1},'
        '"articleSection":null,"mainEntityOfPage":{"@id":7}}</script>'
        '<script type="application/ld+json">[1, "two", null, {"@type": "Person"}]</script>'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Trailing comma",}</script>'
    )
    article = extract(page(head), "https://town.example/pool")
    assert article.title == "Pool stays open"
    assert article.authors == ()
    assert article.tags == ()
    assert article.image_url is None


def test_site_named_only_by_the_masthead_logo_is_cut_from_the_title() -> None:
    # Div soup: no h1, no og:site_name; the logo says which part of <title> is the site.
    article = extract(
        (FIXTURES / "div_soup_masthead.html").read_bytes(),
        "http://127.0.0.1:8080/ledger/city/quarry-street-library-late-opening",
    )
    assert (
        article.title == "Quarry Street library to stay open late three nights a week"
    )
    assert article.authors == ("Dev Kaur",)


def test_h1_equal_to_the_title_prefix_cuts_an_unknown_suffix() -> None:
    html = page(
        "<title>Pool stays open for three summers - Metro Ledger</title>",
        "<h1>Pool stays open for three summers</h1>",
    )
    assert (
        extract(html, "http://127.0.0.1:8080/ledger/pool").title
        == "Pool stays open for three summers"
    )


def test_masthead_text_is_not_a_reason_to_drop_the_h1() -> None:
    html = page(
        "<title>Pool stays open for three summers</title>",
        "<div class='logo'>Pool stays open</div><h1>Pool stays open for three summers</h1>",
    )
    assert extract(html).title == "Pool stays open for three summers"


@pytest.mark.parametrize(
    "author_json",
    [
        '{"@type": "Person", "name": "Reporter 7"}',
        '[{"@type": "Person", "name": "Reporter 7"}]',
        '[{"@type": "Person", "name": "Reporter 7"}, {"@type": "Organization", "name": "Town Gazette"}]',
    ],
)
def test_json_ld_person_names_are_read_even_with_digits(author_json: str) -> None:
    head = (
        "<title>Pool stays open | Town Gazette</title><meta property='og:site_name' content='Town Gazette'>"
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",'
        f'"headline": "Pool stays open", "author": {author_json}}}</script>'
    )
    assert extract(page(head)).authors == ("Reporter 7",)


def test_a_digit_still_disqualifies_an_unstructured_byline() -> None:
    assert split_authors(["Reporter 7"]) == ()
    assert split_authors(["Reporter 7"], structured=True) == ("Reporter 7",)
    assert split_authors(["Anna Berg, Updated 10:30"], structured=True) == (
        "Anna Berg",
    )


def test_json_ld_author_given_by_id_reference_is_resolved() -> None:
    # Yoast-style @graph: the article names its author by @id only.
    head = (
        "<title>Pool stays open</title><meta property='og:site_name' content='Town Gazette'>"
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
        '{"@type": "NewsArticle", "@id": "https://town.example/pool#article", "headline": "Pool stays open",'
        '"author": {"@id": "https://town.example/#/person/1"}, "publisher": {"@id": "https://town.example/#org"}},'
        '{"@type": "Person", "@id": "https://town.example/#/person/1", "name": "Per Dahl"},'
        '{"@type": "Organization", "@id": "https://town.example/#org", "name": "Town Gazette"}]}</script>'
    )
    assert extract(page(head)).authors == ("Per Dahl",)


def test_personal_site_publisher_person_is_not_stripped_from_authors() -> None:
    head = (
        "<title>Pool stays open</title><meta name='author' content='Per Dahl'>"
        '<script type="application/ld+json">{"@graph": ['
        '{"@type": "BlogPosting", "headline": "Pool stays open", "author": {"name": "Per Dahl", "@id": "#me"},'
        '"publisher": {"@id": "#me"}}, {"@type": ["Person", "Organization"], "@id": "#me", "name": "Per Dahl"}]}'
        "</script>"
    )
    assert extract(page(head), "https://perdahl.example/pool").authors == ("Per Dahl",)


def test_twitter_written_by_label_names_the_author() -> None:
    head = (
        "<title>Pool stays open</title><meta name='twitter:label1' content='Written by'>"
        "<meta name='twitter:data1' content='Anna Berg'>"
        "<meta name='twitter:label2' content='Est. reading time'><meta name='twitter:data2' content='2 minutes'>"
    )
    assert extract(page(head)).authors == ("Anna Berg",)


def test_dates_keep_the_offset_the_publisher_states_and_so_its_day() -> None:
    """Published at 21:30 in New York is the 14th there, though already the 15th in UTC."""
    head = (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Pool stays open",'
        '"datePublished":"2024-03-14T21:30:00-04:00"}</script>'
    )
    article = extract(page(head))
    assert article.published_at == datetime(2024, 3, 15, 1, 30, tzinfo=UTC)  # the same instant
    assert article.published_at.utcoffset() == timedelta(hours=-4)
    assert article.published_at.date().isoformat() == "2024-03-14"


def test_a_date_without_a_time_keeps_its_day() -> None:
    head = '<meta property="article:published_time" content="2024-03-14">'
    article = extract(page(head))
    assert article.published_at == datetime(2024, 3, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feb 08, 2022", datetime(2022, 2, 8, tzinfo=UTC)),
        ("Dec 19th 2025", datetime(2025, 12, 19, tzinfo=UTC)),
        ("8 Oct 2022", datetime(2022, 10, 8, tzinfo=UTC)),
        ("Sept. 4, 2025", datetime(2025, 9, 4, tzinfo=UTC)),
        # A named zone is read too: 9:06 pm in Chicago is 03:06 the next day in UTC.
        ("January 2, 2025, 9:06 pm CST", datetime(2025, 1, 3, 3, 6, tzinfo=UTC)),
        ("Thursday, January 7, 2026 12:15 am", datetime(2026, 1, 7, 0, 15, tzinfo=UTC)),
        ("Oct 01, 2025T10:00:00+03:00", datetime(2025, 10, 1, 7, 0, tzinfo=UTC)),
        # Drupal's default: weekday, month/day/year, clock.
        ("Thu, 09/25/2025 - 11:38", datetime(2025, 9, 25, 11, 38, tzinfo=UTC)),
        ("13/11/2025 09:21:40", datetime(2025, 11, 13, 9, 21, 40, tzinfo=UTC)),
        ("13.03.2024", datetime(2024, 3, 13, tzinfo=UTC)),
        ("2019/1/22", datetime(2019, 1, 22, tzinfo=UTC)),
        ("2025-9-12", datetime(2025, 9, 12, tzinfo=UTC)),
        ("25/12/16", datetime(2016, 12, 25, tzinfo=UTC)),
        ('"2025-12-17T13:22:47Z"', datetime(2025, 12, 17, 13, 22, 47, tzinfo=UTC)),
    ],
)
def test_dates_written_for_readers_are_read(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


def test_a_numeric_date_readable_both_ways_is_not_guessed() -> None:
    assert parse_date("03-13-2026") == datetime(2026, 3, 13, tzinfo=UTC)
    assert parse_date("03-09-2026") is None
    assert parse_date("01/07/16") is None
    assert parse_date("31/02/2024") is None
    assert parse_date("Smarch 5, 2024") is None


def test_a_written_json_ld_date_is_read_below_machine_dates() -> None:
    head = (
        '<script type="application/ld+json">{"@type":"Article","headline":"Pool stays open",'
        '"datePublished":"Jun 24, 2025","dateModified":"Jul 18, 2025"}</script>'
        '<meta property="article:published_time" content="2024-08-25T09:00:00Z">'
    )
    article = extract(page(head))
    assert article.published_at == datetime(2024, 8, 25, 9, 0, tzinfo=UTC)
    assert article.modified_at == datetime(2025, 7, 18, tzinfo=UTC)


def test_an_unreadable_meta_date_gives_way_to_the_next_date_tag() -> None:
    head = (
        '<meta name="date" content="01/07/16">'
        '<meta property="og:published_time" content="2024-10-08T00:00:00-04:00">'
        '<meta http-equiv="last-modified" content="10-07-2024">'
        '<meta name="lastmod" content="2024-10-14T16:46:33-04:00">'
    )
    article = extract(page(head))
    assert article.published_at == datetime(2024, 10, 8, 4, 0, tzinfo=UTC)
    assert article.modified_at == datetime(2024, 10, 14, 20, 46, 33, tzinfo=UTC)


def test_htmldate_fallback_on_the_modified_tag_is_not_the_publication() -> None:
    # No publication tag: htmldate answers with article:modified_time unless asked without it.
    head = '<meta property="article:modified_time" content="2024-10-28T22:26:10+00:00">'
    byline = (
        '<p class="entry-meta"><time class="entry-time">April 26, 2024</time> · '
        '<time class="entry-modified-time">Updated on: October 28, 2024</time></p>'
    )
    article = extract(page(head, byline))
    assert article.published_at == datetime(2024, 4, 26, tzinfo=UTC)
    assert article.modified_at == datetime(2024, 10, 28, 22, 26, 10, tzinfo=UTC)


def test_a_copyright_year_is_no_publication_day() -> None:
    # htmldate answers "2023-01-01" for a page whose only date is its © line.
    footer = "<p>© 2023 Town Gazette. All rights reserved.</p>"
    assert extract(page("<title>Pool stays open</title>", footer)).published_at is None
    modified = '<meta property="article:modified_time" content="2024-10-28T22:26:10+00:00">'
    article = extract(page(modified, footer))
    assert article.published_at == datetime(2024, 10, 28, tzinfo=UTC)


def test_the_pages_own_time_element_beats_a_sidebars_dates() -> None:
    sidebar = (
        '<div class="sidebar"><ul>'
        '<li><a href="/gateway-api">Kubernetes: the new Gateway API</a><div class="date">2025-12-16</div></li>'
        '<li><a href="/recap">Recap 2025</a><div class="date">2025-12-10</div></li>'
        "</ul></div>"
    )
    byline = (
        '<ul class="post-meta"><li>Written by Walter</li>'
        '<li>Published on <time datetime="2025-12-19">2025-12-19</time></li></ul>'
    )
    article = extract(page("<title>Recap 2025</title>", sidebar + byline))
    assert article.published_at == datetime(2025, 12, 19, tzinfo=UTC)


def test_time_elements_of_teaser_cards_are_not_the_pages_date() -> None:
    cards = "".join(
        f'<div class="card"><a href="/story-{n}">Other story {n}</a>'
        f'<time class="card__date" datetime="2025-10-2{n}">2{n} October 2025</time></div>'
        for n in range(3)
    )
    byline = (
        '<p class="byline"><time class="entry-date" datetime="2025-11-12T09:30:00+00:00">'
        "12 November 2025</time></p>"
    )
    article = extract(page("<title>Sample menus</title>", f'<div class="related">{cards}</div>{byline}'))
    assert article.published_at == datetime(2025, 11, 12, 9, 30, tzinfo=UTC)


def test_metadata_title_cut_short_gives_way_to_the_full_h1() -> None:
    html = page(
        "<title>Desk set-up step by step: your monitor, laptop, and k | Oakwood</title>",
        "<h1>Desk set-up step by step: your monitor, laptop, and keyboard (checklist)</h1>",
    )
    assert (
        extract(html).title
        == "Desk set-up step by step: your monitor, laptop, and keyboard (checklist)"
    )


def test_section_label_h1_is_not_the_headline() -> None:
    html = page(
        "<title>Index Funds: How to Invest | Vanguard</title>"
        "<meta property='og:title' content='Index Funds: How to Invest | Vanguard'>",
        "<h1>Index funds</h1>",
    )
    assert extract(html).title == "Index Funds: How to Invest"


def test_site_suffix_inside_the_h1_is_cut() -> None:
    html = page(
        "<title>Best exhibitions of the year – Artlyst - Artlyst</title>"
        "<meta property='og:site_name' content='Artlyst'>",
        "<h1>Best exhibitions of the year – Artlyst</h1>",
    )
    assert extract(html).title == "Best exhibitions of the year"


def test_h1_agreeing_word_for_word_with_og_title_wins_over_a_shorter_title() -> None:
    html = page(
        "<title>Bold.org | Real Estate 101</title>"
        "<meta property='og:title' content='Real Estate Investing for Beginners Real Estate 101'>",
        "<h1>Real Estate Investing for Beginners Real Estate 101</h1>",
    )
    assert extract(html).title == "Real Estate Investing for Beginners Real Estate 101"


def test_h1_with_a_byline_glued_on_gives_way_to_the_metadata_headline() -> None:
    html = page(
        "<meta property='og:title' content='Pool stays open for three more summers'>",
        "<h1>Pool stays open for three more summers Posted on July 1, 2024 by admin</h1>",
    )
    assert extract(html).title == "Pool stays open for three more summers"


def test_site_suffix_is_cut_even_when_og_title_repeats_the_whole_title() -> None:
    html = page(
        "<title>Book Reviews – The Writing Center</title>"
        "<meta property='og:title' content='Book Reviews – The Writing Center'>"
        "<meta property='og:site_name' content='The Writing Center'>",
        "<h1>Book Reviews</h1>",
    )
    assert extract(html).title == "Book Reviews"


def test_h1_typography_is_kept_when_the_metadata_says_the_same_in_ascii() -> None:
    html = page(
        "<title>Council's pool won't close - \"for now\" | Town Gazette</title>"
        "<meta property='og:site_name' content='Town Gazette'>",
        "<h1>Council\u2019s pool won\u2019t close \u2014 \u201cfor now\u201d</h1>",
    )
    assert (
        extract(html).title
        == "Council\u2019s pool won\u2019t close \u2014 \u201cfor now\u201d"
    )


def test_title_is_nfc_with_single_spaces() -> None:
    html = page("<title>Cafe\u0301 by the pool\n   stays   open</title>")
    assert extract(html).title == "Caf\u00e9 by the pool stays open"


@pytest.mark.parametrize(
    ("title", "site_names", "expected"),
    [
        ("Town Gazette: Pool stays open", ["Town Gazette"], "Pool stays open"),
        ("Town: Pool stays open", [], "Pool stays open"),  # the host's name, town.example
        # A topic label, not the site: "Town Gazette" is not "Town Gazette Opinion".
        (
            "Town Gazette Opinion: Pool stays open",
            ["Town Gazette"],
            "Town Gazette Opinion: Pool stays open",
        ),
        ("Swimming: Pool stays open", ["Town Gazette"], "Swimming: Pool stays open"),
    ],
)
def test_site_name_written_as_a_label_before_the_headline_is_removed(
    title: str, site_names: list[str], expected: str
) -> None:
    assert (
        clean_title(title, site_names=site_names, headlines=[], host="www.town.example")
        == expected
    )


def test_h1_in_the_title_before_a_seo_subtitle_is_the_headline() -> None:
    html = page(
        "<title>Pool stays open for three summers - What the council vote means for swimmers | Gazette</title>",
        "<h1>Pool stays open for three summers</h1>",
    )
    assert extract(html).title == "Pool stays open for three summers"


def test_site_name_that_repeats_the_page_title_is_not_a_site_name() -> None:
    # og:site_name filled with the <title>: cutting it would leave no title at all.
    full = "Pool stays open for three summers | Gazette"
    html = page(
        f"<title>{full}</title><meta property='og:title' content='{full}'>"
        f"<meta property='og:site_name' content='{full}'>",
        "<h1>Pool stays open for three summers</h1>",
    )
    assert extract(html).title == "Pool stays open for three summers"


def test_source_domain_glued_to_the_h1_is_not_part_of_the_headline() -> None:
    # A link aggregator's h1: headline, the linked site, the comment count.
    html = page(
        "<title>Pool stays open for three more summers - Linkboard</title>"
        "<meta property='og:site_name' content='Linkboard'>",
        "<h1><a href='/s/1'>Pool stays open for three more summers</a> "
        "<span>(<a href='https://gazette.example/pool'>gazette.example</a>)</span> <span>87</span></h1>",
    )
    assert extract(html).title == "Pool stays open for three more summers"


@pytest.mark.parametrize(
    ("h1", "expected"),
    [
        # "The" or a year in front belong to the headline the reader sees...
        (
            "The pool price guide and summer opening hours",
            "The pool price guide and summer opening hours",
        ),
        (
            "2025 pool price guide and summer opening hours",
            "2025 pool price guide and summer opening hours",
        ),
        # ...a label or a date glued in front do not.
        (
            "Council news: pool price guide and summer opening hours",
            "pool price guide and summer opening hours",
        ),
        (
            "May 14 2025 pool price guide and summer opening hours",
            "pool price guide and summer opening hours",
        ),
    ],
)
def test_words_in_front_of_the_metadata_title_inside_the_h1(
    h1: str, expected: str
) -> None:
    html = page(
        "<meta property='og:title' content='pool price guide and summer opening hours'>",
        f"<h1>{h1}</h1>",
    )
    assert extract(html).title == expected


def test_a_real_question_mark_in_the_h1_is_kept() -> None:
    html = page(
        "<title>Will the pool stay open? | Gazette</title>",
        "<h1>Will the pool stay open?</h1>",
    )
    assert extract(html).title == "Will the pool stay open?"


def test_a_suffix_spelling_the_site_names_initials_is_cut() -> None:
    html = page(
        "<title>Pool stays open for three more summers – TG</title>"
        "<meta property='og:site_name' content='Town Gazette'>"
    )
    assert extract(html).title == "Pool stays open for three more summers"


def test_line_break_in_the_h1_separates_words() -> None:
    html = page(
        "<title>Gazette</title>",
        "<h1>Pool stays open<br>for three more summers</h1>",
    )
    assert extract(html).title == "Pool stays open for three more summers"


def test_masthead_h1_site_name_glued_to_the_title_is_cut() -> None:
    # A blog theme: the h1 is the site, the <title> is "site headline" with no separator.
    html = page(
        "<title>town.example Pool stays open for three summers</title>",
        "<h1><a href='/'>town.example</a></h1>",
    )
    assert extract(html).title == "Pool stays open for three summers"


def test_site_name_at_the_start_of_a_headline_stays_when_the_h1_is_the_headline() -> None:
    html = page(
        "<title>town.example sells its pool to the council</title>",
        "<h1>town.example sells its pool to the council</h1>",
    )
    assert extract(html).title == "town.example sells its pool to the council"
