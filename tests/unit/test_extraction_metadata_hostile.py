"""One metadata value that cannot be read costs that field, never the story."""

from __future__ import annotations

import json

import lxml.html
import pytest

from crawler.extraction import Article, extract_article
from crawler.extraction.metadata import parse_date
from crawler.extraction.metadata.structured import MAX_JSON_LD_DEPTH, json_ld_objects

_BODY = "<p>" + "The council voted on the new harbour plan after a long debate about its costs. " * 12 + "</p>"
_URL = "https://news.example/2024/03/05/harbour-plan"


def _page(json_ld: str) -> str:
    return (
        "<html lang='en'><head><title>Harbour plan approved</title>"
        f"<script type='application/ld+json'>{json_ld}</script></head>"
        f"<body><article><h1>Harbour plan approved</h1>{_BODY}</article></body></html>"
    )


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",  # what .NET CMSs write for an unset date
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+0100",
        "2024-03-05T10:00:00+99:00",
    ],
)
def test_dates_outside_utc_are_no_date(value: str) -> None:
    assert parse_date(value) is None


def test_unset_modified_date_drops_that_field_only() -> None:
    ld = json.dumps(
        {
            "@type": "NewsArticle",
            "headline": "Harbour plan approved",
            "author": {"@type": "Person", "name": "Jane Roe"},
            "dateModified": "0001-01-01T00:00:00+01:00",
            "datePublished": "2024-03-05T10:00:00Z",
        }
    )
    result = extract_article(_page(ld), _URL)
    assert isinstance(result, Article), result
    assert result.modified_at is None
    assert result.published_at is not None and result.published_at.year == 2024
    assert result.authors == ("Jane Roe",)


def test_year_9999_with_negative_offset_is_dropped() -> None:
    ld = json.dumps({"@type": "NewsArticle", "datePublished": "9999-12-31T23:59:59-05:00"})
    result = extract_article(_page(ld), _URL)
    assert isinstance(result, Article), result
    assert result.published_at is None or result.published_at.year < 9999


def test_json_ld_nested_100k_deep_is_skipped() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    result = extract_article(_page(deep), _URL)
    assert isinstance(result, Article), result
    assert result.title == "Harbour plan approved"


def test_json_ld_nested_under_the_parser_limit_is_cut_without_recursion() -> None:
    # Deep enough that a recursive walk of the author list would overflow the stack.
    depth = 900
    authors = "[" * depth + '"Jane Roe"' + "]" * depth
    ld = '{"@type": "NewsArticle", "headline": "Harbour plan approved", "author": ' + authors + "}"
    tree = lxml.html.fromstring(_page(ld))
    (article,) = json_ld_objects(tree)
    level, value = 1, article["author"]
    while isinstance(value, list):
        level, value = level + 1, value[0]
    assert level <= MAX_JSON_LD_DEPTH + 1
    result = extract_article(_page(ld), _URL)
    assert isinstance(result, Article), result


def test_a_field_that_raises_is_noted_and_the_rest_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.extraction.metadata import record

    def broken(*_args: object) -> tuple[str, ...]:
        raise OverflowError("tags too odd")

    monkeypatch.setattr(record, "_tags", broken)
    ld = json.dumps({"@type": "NewsArticle", "headline": "Harbour plan approved", "keywords": "port, council"})
    result = extract_article(_page(ld), _URL)
    assert isinstance(result, Article), result
    assert result.tags == ()
    assert result.title == "Harbour plan approved"
    assert result.notes == ("tags: OverflowError",)
