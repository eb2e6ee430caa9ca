"""Values made fit for storage: NUL, lone surrogates, lengths per column, URLs over the limit."""

from __future__ import annotations

import json

import pytest

from storage import values


def test_text_drops_nul_and_replaces_lone_surrogates() -> None:
    assert values.text("a\x00b") == "ab"
    assert values.text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert values.text(None) is None
    # What is left encodes, as a database driver will encode it.
    values.text("x\udcff\x00y").encode("utf-8")


def test_text_keeps_valid_text_as_it_is() -> None:
    sample = "Zoë’s café — 東京 😀\n\tend"
    assert values.text(sample) is sample


@pytest.mark.parametrize("column", sorted(values.MAX_LENGTHS))
def test_capped_cuts_each_column_to_its_length(column: str) -> None:
    limit = values.MAX_LENGTHS[column]
    assert len(values.capped("x" * (limit + 50), column)) == limit
    assert values.capped("short", column) == "short"


def test_capped_cleans_before_it_cuts() -> None:
    assert values.capped("\x00" * 10, "title") is None
    assert values.capped("Head\x00line \ud800", "title") == "Headline \ufffd"


def test_fits_url_counts_utf8_bytes() -> None:
    base = "https://a.example/"
    assert values.fits_url(base + "a" * (values.MAX_URL_BYTES - len(base)))
    assert not values.fits_url(base + "a" * values.MAX_URL_BYTES)
    # 700 characters, 2,100 bytes.
    assert not values.fits_url(base + "東" * 700)
    assert values.fits_url(None)


def test_json_value_cleans_every_string_and_stays_bounded() -> None:
    document = {"ti\x00tle": ["a\x00", {"b": "c\ud800"}], "n": 3, "none": None}
    cleaned = values.json_value(document)
    assert cleaned == {"title": ["a", {"b": "c\ufffd"}], "n": 3, "none": None}
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
    deep: list = []
    node = deep
    for _ in range(5_000):
        node.append([])
        node = node[0]
    values.json_value(deep)  # no RecursionError
