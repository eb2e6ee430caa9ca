"""A story's Markdown from extraction to the database, `newsdesk show --format markdown` and exports."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.extraction import Article, extract_article
from storage.articles import ArticleIn, store_articles
from storage.db import open_database
from tests.unit.test_extraction_markdown import STRUCTURED_PAGE

URL = "https://town.example/news/pool-stays-open"


@pytest.fixture
def db(database_url) -> str:
    article = extract_article(STRUCTURED_PAGE, URL)
    assert isinstance(article, Article), article
    factory = open_database(database_url)
    with factory.begin() as session:
        store_articles(session, [ArticleIn(
            source="town", url=URL, canonical_url=URL, title=article.title, text=article.text,
            markdown=article.markdown, authors=(), published_at=None, modified_at=None, language="en",
            description=None, section=None, tags=(), image_url=None, word_count=article.word_count,
            fetched_at=datetime(2026, 11, 20, tzinfo=UTC),
        )])  # fmt: skip
    factory.kw["bind"].dispose()
    return database_url


def _ok(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_show_prints_the_story_as_markdown(db):
    output = _ok("--db", db, "show", URL, "--format", "markdown")
    assert output.startswith("# Pool stays open\n\n")
    assert "\n## What changes for swimmers\n" in output
    assert "\n- Morning lanes open at six on weekdays\n" in output
    assert "\n> The pool belongs to the town.\n" in output


def test_exports_carry_the_markdown(db, tmp_path):
    jsonl, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    _ok("--db", db, "export", "--format", "jsonl", "-o", str(jsonl))
    _ok("--db", db, "export", "--format", "csv", "-o", str(table))
    (row,) = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert "## What changes for swimmers" in row["markdown"]
    with table.open(newline="", encoding="utf-8") as handle:
        (csv_row,) = list(csv.DictReader(handle))
    assert csv_row["markdown"] == row["markdown"]
