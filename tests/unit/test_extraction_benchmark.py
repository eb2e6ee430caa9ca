"""benchmarks/extraction.py: the metric and the readability-lxml adapter it compares newsdesk with."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# Loaded from its file under a name of its own, so that benchmarks/ never goes on sys.path for the
# tests collected after this one.
_spec = importlib.util.spec_from_file_location(
    "extraction_benchmark", Path(__file__).resolve().parents[2] / "benchmarks" / "extraction.py"
)
extraction_benchmark = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = extraction_benchmark  # dataclasses look their module up by name
_spec.loader.exec_module(extraction_benchmark)

ARTICLE = (
    "<html><head><title>Harbour</title></head><body><nav><a href='/'>Home</a></nav><article>"
    "<p>The harbour bridge reopened on Thursday after three weeks of repairs to its deck</p>"
    "<p>Engineers replaced forty steel plates and repainted the railings before the reopening</p>"
    "<p>Ferries that carried commuters during the closure return to their winter timetable</p>"
    "</article></body></html>"
)


def test_readability_text_keeps_paragraphs_apart() -> None:
    """Paragraph text glued together would invent words ("deckEngineers") and lose shingles."""
    pytest.importorskip("readability")
    text, *_ = extraction_benchmark.run_readability(ARTICLE.encode(), "https://courier.example/a")
    lines = text.split("\n")
    assert "The harbour bridge reopened on Thursday after three weeks of repairs to its deck" in lines
    assert "deckEngineers" not in text


def test_score_text_counts_shingles_both_ways() -> None:
    truth = "one two three four five six"
    precision, recall = extraction_benchmark.score_text("one two three four five", truth)
    assert precision == 1.0
    assert recall == pytest.approx(2 / 3)
    assert extraction_benchmark.score_text("", truth) == (None, 0.0)


def test_workers_warm_extraction_up_before_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unwarmed, a worker's first pages pay dateparser's one-off loading, which a crawl never does."""
    import crawler.extraction

    calls = []
    monkeypatch.setattr(crawler.extraction, "warm_up", lambda: calls.append("warm_up"))
    ran = []
    monkeypatch.setattr(
        extraction_benchmark,
        "EXTRACTORS",
        {"probe": lambda html, url: ran.append(url) or ("", None, None, None)},
    )
    extraction_benchmark.warm_up_worker()
    assert calls == ["warm_up"]
    assert len(ran) == 1


def test_every_extractor_reads_first_on_some_pages() -> None:
    """The first to read a page is timed with cold caches: no extractor may always be it."""
    orders = [extraction_benchmark.run_order(f"{n:04d}") for n in range(200)]
    names = list(extraction_benchmark.EXTRACTORS)
    assert all(sorted(order) == sorted(names) for order in orders)
    firsts = {order[0] for order in orders}
    assert firsts == set(names)
