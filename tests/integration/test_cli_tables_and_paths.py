"""Tables a person reads on an 80-column terminal, runs as tables or JSON, and ``--db`` as a path."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from crawler.cli import cli, output
from crawler.cli.crawl import next_command
from storage.articles import ArticleIn, store_articles
from storage.db import open_database
from storage.runs import finish_run, record_fetches, start_run

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
WIRE = "Ministers gathered in Geneva for summit talks on trade and tariffs. " + "council budget schools roads " * 20
LONG_TITLE = "Ministers gather in Geneva for summit talks on trade and tariffs as markets wobble again"
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def _item(source: str, slug: str, title: str) -> ArticleIn:
    url = f"https://{source}.example/{slug}"
    return ArticleIn(
        source=source, url=url, canonical_url=url, title=title, text=WIRE, authors=(), published_at=T0,
        modified_at=None, language="en", description=None, section=None, tags=(), image_url=None,
        word_count=len(WIRE.split()), fetched_at=T0,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path) -> str:
    path = tmp_path / "demo.db"
    sessions = open_database(f"sqlite:///{path}")
    with sessions.begin() as session:
        store_articles(session, [_item("evening-courier", "summit", LONG_TITLE), _item("ledger", "summit", "Trade talks")])
        run_id = start_run(session, "evening-courier", started_at=T0)
        record_fetches(session, run_id, [
            {"url": "https://evening-courier.example/2026/11/03/a-long-slug-about-the-council-budget-vote-tonight",
             "status": 200, "bytes": 12345, "outcome": "not-an-article", "reason": "index page: 40 links, little text"},
            {"url": "https://evening-courier.example/x", "status": 500, "bytes": 0, "outcome": "error",
             "reason": "HTTP 500"},
        ])  # fmt: skip
        counts = {"requests": 40, "stored": 2, "error": 1, "not-an-article": 12, "skipped-by-robots": 3}
        finish_run(session, run_id, status="finished-with-errors", counts=counts)
    sessions.kw["bind"].dispose()
    return str(path)


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setattr(output.console, "width", 80)


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


#: Columns whose cells must never be cut or wrapped: a cut id or date is a wrong one.
WHOLE_COLUMNS = {"id", "cluster", "published", "started", "status", "outcome", "size", "words", "article", "latest"}


def _whole_cells(lines: list[str]) -> list[tuple[str, str]]:
    """(header, cell) for every cell of a whole column in the table rows of ``lines``."""
    cells: list[tuple[str, str]] = []
    headers: list[str] = []
    for line in lines:
        if "┃" in line:
            headers = [cell.strip() for cell in line.split("┃")]
        elif "│" in line and headers:
            row = [cell.strip() for cell in line.split("│")]
            cells += [(header, cell) for header, cell in zip(headers, row) if header in WHOLE_COLUMNS and cell]
    return cells


@pytest.mark.parametrize(
    "args",
    [("articles",), ("articles", "--search", "geneva"), ("clusters",), ("runs",), ("runs", "show", "1"), ("stats",)],
    ids=" ".join,
)
def test_tables_fit_80_columns_without_cutting_ids_dates_or_outcomes(store, narrow, args):
    lines = _run("--db", store, *args).splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    if "--search" not in args:  # a search snippet marks its cut ends with "…"; nothing else may
        assert "…" not in "\n".join(lines)
    cells = _whole_cells(lines)
    assert cells, "the table has its id, date and outcome columns"
    for header, cell in cells:
        assert "…" not in cell, (header, cell)
        if header in ("published", "started"):
            assert DATE.fullmatch(cell), f"{header} {cell!r} is not a whole date and time"
        if header == "status" and args[0] == "runs" and len(args) == 1:
            assert cell == "finished-with-errors"
        if header == "latest":
            assert cell == "2026-11-03"
        if header == "outcome":
            assert cell in ("not-an-article", "error")
    words = {word for line in lines for word in re.findall(r"[\w-]+", line)}
    if args[0] in ("articles", "clusters"):
        assert set(LONG_TITLE.split()) <= words, "the headline wraps between words"
    if args[0] == "runs":
        assert {"skipped-by-robots", "not-an-article"} <= words, "outcome names wrap whole"


def test_runs_are_json_not_python_text(store):
    runs = json.loads(_run("--db", store, "runs", "--format", "json"))
    assert runs[0]["counts"]["skipped-by-robots"] == 3
    assert runs[0]["status"] == "finished-with-errors"
    fetches = json.loads(_run("--db", store, "runs", "show", "1", "--format", "json"))
    assert {fetch["outcome"] for fetch in fetches} == {"not-an-article", "error"}
    lines = _run("--db", store, "runs", "show", "1", "--format", "jsonl").splitlines()
    assert [json.loads(line)["status"] for line in lines] == [200, 500]


@pytest.mark.parametrize("where", ["before", "after"])
def test_db_as_a_plain_path_is_a_sqlite_file(store, tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    args = ["--db", "demo.db", "articles"] if where == "before" else ["articles", "--db", "demo.db"]
    rows = [json.loads(line) for line in _run(*args, "--format", "jsonl").splitlines()]
    assert {row["title"] for row in rows} == {LONG_TITLE, "Trade talks"}


def test_the_demo_says_which_command_lists_its_store():
    assert next_command("sqlite:///demo.db", ".venv/bin/newsdesk") == ".venv/bin/newsdesk articles --db sqlite:///demo.db"
    assert next_command("sqlite:///demo.db", "/usr/local/bin/newsdesk").startswith("newsdesk articles --db ")
