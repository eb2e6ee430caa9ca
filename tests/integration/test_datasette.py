"""A real datasette over a newsdesk SQLite store with docs/datasette.yml: full-text search and the
canned queries (stories per day per source, clusters, versions) answer with the right rows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from storage.articles import ArticleIn, store_articles
from storage.db import make_engine, upgrade

REPO = Path(__file__).resolve().parents[2]
DATASETTE = Path(sys.executable).parent / "datasette"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FILLER = "council meeting budget schools roads parking library evening residents agreed plan " * 6
WIRE = "The reserve bank held its rate at 3.75 percent on Thursday. " + FILLER


def _article(
    source: str, slug: str, title: str, text: str, *, day: int, fetched_day: int | None = None
) -> ArticleIn:
    url = f"https://{source}.example/{slug}"
    fetched = T0 + timedelta(days=fetched_day if fetched_day is not None else day)
    return ArticleIn(
        source=source, url=url, canonical_url=url, title=title, text=text, authors=(),
        published_at=T0 + timedelta(days=day), modified_at=None, language="en", description=None, section=None,
        tags=(), image_url=None, word_count=len(text.split()), fetched_at=fetched,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "newsdesk.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    batches = [
        [
            _article("alpha", "harbour", "Harbour bridge reopens", "The harbour bridge opened at dawn. " + FILLER, day=0),
            _article("alpha", "rates", "Rates on hold", WIRE, day=1),
            _article("beta", "rates-copy", "Borrowers get no relief", WIRE, day=1),
            _article("beta", "fete", "Village fete draws crowds", "Brass band and cake stalls. " + FILLER, day=1),
        ],
        # The harbour story edited a day later: its second version.
        [_article("alpha", "harbour", "Harbour bridge reopens", "The harbour bridge opened at noon. " + FILLER,
                  day=0, fetched_day=1)],  # fmt: skip
    ]
    for batch in batches:
        with sessionmaker(engine).begin() as session:
            store_articles(session, batch)
    engine.dispose()
    return path


@pytest.fixture
def datasette(store):
    if not DATASETTE.exists():
        pytest.skip(f"{DATASETTE} is absent: install the dev extras (pip install -e '.[dev]')")
    command = [str(DATASETTE), "serve", "--immutable", str(store), "--metadata", str(REPO / "docs/datasette.yml"),
               "--host", "127.0.0.1", "--port", "0"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line, re.IGNORECASE)
            if found:
                break
        else:
            pytest.fail(f"datasette exited with {process.wait()}")
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url) as response:
        return json.load(response)


def test_full_text_search_returns_the_matching_rows_only(datasette):
    found = get_json(f"{datasette}/newsdesk/articles.json?_search=harbour&_shape=array&_col=title")
    assert [row["title"] for row in found] == ["Harbour bridge reopens"]
    assert len(get_json(f"{datasette}/newsdesk/articles.json?_shape=array&_col=title")) == 4


def test_canned_queries_answer_with_the_stores_rows(datasette):
    per_day = get_json(f"{datasette}/newsdesk/stories_per_day.json?days=100000&_shape=array")
    assert per_day == [
        {"day": "2026-11-03", "source": "alpha", "articles": 1},
        {"day": "2026-11-03", "source": "beta", "articles": 2},
        {"day": "2026-11-02", "source": "alpha", "articles": 1},
    ]
    clusters = get_json(f"{datasette}/newsdesk/clusters.json?_shape=array")
    assert sorted((row["source"], row["title"]) for row in clusters) == [
        ("alpha", "Rates on hold"), ("beta", "Borrowers get no relief"),
    ]  # fmt: skip
    assert len({row["cluster_id"] for row in clusters}) == 1
    versions = get_json(f"{datasette}/newsdesk/versions.json?_shape=array")
    assert [(row["source"], row["version"]) for row in versions] == [("alpha", 1), ("alpha", 2)]
