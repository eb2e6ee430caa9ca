"""The web view's pure helpers: bar geometry, side-by-side diff rows, links and snippets."""

from __future__ import annotations

from datetime import date

from crawler.web.app import safe_href, snippet_parts
from crawler.web.charts import bar_chart
from crawler.web.diff import DiffRow, side_by_side


def test_bars_keep_a_slot_for_every_day_and_scale_to_the_busiest():
    days = [(date(2026, 11, 1), 2), (date(2026, 11, 2), 0), (date(2026, 11, 3), 4)]
    chart = bar_chart(days, width=300, height=100)
    assert [bar.day for bar in chart.bars] == [day for day, _ in days]
    assert [bar.height for bar in chart.bars] == [49.5, 0, 99]
    assert [bar.x for bar in chart.bars] == [0, 100, 200]
    assert all(bar.y + bar.height == 100 for bar in chart.bars)


def test_a_chart_of_quiet_days_has_flat_bars():
    chart = bar_chart([(date(2026, 11, 1), 0), (date(2026, 11, 2), 0)])
    assert chart.peak == 0 and [bar.height for bar in chart.bars] == [0, 0]


def test_side_by_side_pairs_a_changed_line_with_its_replacement():
    rows = side_by_side("one\ntwo\nthree", "one\n2\nthree\nfour")
    assert rows == [
        DiffRow("equal", "one", "one"),
        DiffRow("replace", "two", "2"),
        DiffRow("equal", "three", "three"),
        DiffRow("insert", None, "four"),
    ]


def test_only_http_urls_become_links():
    assert safe_href("https://example.org/a") == "https://example.org/a"
    for hostile in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>", "vbscript:x", None):
        assert safe_href(hostile) is None


def test_snippet_parts_mark_the_matches():
    assert snippet_parts("the «harbour» bridge «opened»") == [
        ("the ", False), ("harbour", True), (" bridge ", False), ("opened", True),
    ]  # fmt: skip
