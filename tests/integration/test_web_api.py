"""The web view over HTTP on SQLite and PostgreSQL: the JSON API, downloads, refusals and headers."""

from __future__ import annotations

import csv
import html
import io
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import random
import re
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import sessionmaker
from support.web import serving
from test_source_health import crawl_day

from crawler.cli import cli
from crawler.web.app import CONTENT_SECURITY_POLICY
from storage.articles import ArticleIn, store_articles
from storage.db import make_engine, open_database, upgrade

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FILLER = "council meeting budget schools roads parking library evening residents agreed plan " * 6


def _article(source: str, slug: str, title: str, text: str, day: int, language: str = "en") -> ArticleIn:
    url = f"https://{source}.example/{slug}"
    return ArticleIn(
        source=source, url=url, canonical_url=url, title=title, text=text, authors=("A. Writer",),
        published_at=T0 + timedelta(days=day), modified_at=None, language=language, description=None,
        section=None, tags=(), image_url=None, word_count=len(text.split()), fetched_at=T0 + timedelta(days=day),
    )  # fmt: skip


STORIES = [
    _article("alpha", "harbour", "Harbour bridge reopens", "The harbour bridge opened at dawn.\n" + FILLER, 0),
    _article("alpha", "economy", "Economists see slow growth", "Economic outlook darkens.\n" + FILLER, 1),
    _article("beta", "harbour-copy", "Bridge over the harbour open again", "Harbour traffic resumes.\n" + FILLER, 1),
    _article("beta", "fete", "Village fête draws crowds", "Die Harbour Blaskapelle spielte.\n" + FILLER, 2, "de"),
]


@pytest.fixture
def site(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with sessionmaker(engine).begin() as session:
        store_articles(session, STORIES)
    engine.dispose()
    with serving(database_url) as base_url:
        yield base_url


def get(url: str) -> tuple[int, Message, str]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def test_search_api_pages_facets_and_sorts(site):
    status, headers, body = get(site + "/api/articles?q=harbour&per_page=2")
    found = json.loads(body)
    assert status == 200 and found["total"] == 3 and len(found["articles"]) == 2
    assert found["facets"]["source"] == [["beta", 2], ["alpha", 1]]
    assert found["facets"]["language"] == [["en", 2], ["de", 1]]
    assert found["facets"]["day"] == [["2026-11-04", 1], ["2026-11-03", 1], ["2026-11-02", 1]]
    assert all("«" in article["snippet"] for article in found["articles"])
    second = json.loads(get(site + "/api/articles?q=harbour&per_page=2&page=2")[2])
    assert len(second["articles"]) == 1
    titles = [a["title"] for a in json.loads(get(site + "/api/articles?source=alpha&sort=title")[2])["articles"]]
    assert titles == ["Economists see slow growth", "Harbour bridge reopens"]
    day = json.loads(get(site + "/api/articles?day=2026-11-03")[2])
    assert {a["title"] for a in day["articles"]} == {"Economists see slow growth", "Bridge over the harbour open again"}


def test_downloads_carry_every_match(site):
    status, headers, body = get(site + "/search.csv?q=harbour")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert sorted(row["title"] for row in csv.DictReader(io.StringIO(body))) == [
        "Bridge over the harbour open again", "Harbour bridge reopens", "Village fête draws crowds",
    ]  # fmt: skip
    lines = get(site + "/search.jsonl?source=beta")[2].splitlines()
    assert sorted(json.loads(line)["canonical_url"] for line in lines) == [
        "https://beta.example/fete", "https://beta.example/harbour-copy",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/?sort=loudest", "unknown sort 'loudest'"),
        ("/api/articles?sort=relevance", "relevance needs a search"),
        ("/api/articles?per_page=1000000", "per_page must be a whole number from 1 to 200"),
        ("/api/articles?page=-1", "page must be a whole number"),
        ("/api/articles?day=2026-02-30", "day must be a date"),
        ("/api/articles?since=yesterday", "since must be a date"),
        ("/search.csv?limit=99999999999", "limit must be a whole number"),
        ("/api/articles?q=%22%22", "nothing to search for"),
        ("/api/runs/1?outcome=exploded", "unknown outcome 'exploded'"),
        ("/sources?days=100000", "days must be a whole number from 1 to 366"),
    ],
)
def test_bad_parameters_get_a_400_with_a_message(site, path, message):
    status, headers, body = get(site + path)
    assert status == 400
    assert message in html.unescape(body)
    assert "Traceback" not in body and "File \"" not in body


@pytest.mark.parametrize("path", ["/", "/?q=harbour", "/articles/1", "/clusters", "/sources", "/runs", "/api/articles",
                                  "/articles/424242", "/?sort=nope", "/static/style.css"])  # fmt: skip
def test_every_response_carries_the_strict_policy(site, path):
    _, headers, _ = get(site + path)
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'none'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_no_route_writes(site):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        request = urllib.request.Request(site + "/api/articles/1", method=method, data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 405


#: A feed URL as a site may write it, with markup: shown in a health reason, as text only.
HOSTILE_FEED = "https://fading.example/feed.xml?edition=<b id=injected-health>late</b>"


@pytest.fixture
def health_site(database_url):
    """Three sources crawled for four days up to today: one steady, one whose feed died today, one
    refused every request from its second day (it never stored a story)."""
    sessions = open_database(database_url)
    rng = random.Random(4)
    today = datetime.now(UTC).date()
    with sessions.begin() as session:
        for back in range(3, -1, -1):
            day = today - timedelta(days=back)
            crawl_day(session, day, source="steady", stories=30, rng=rng, template_share=0.2)
            crawl_day(session, day, source="fading", stories=30, rng=rng, feed=HOSTILE_FEED,
                      feed_status=410 if back == 0 else 200)  # fmt: skip
            crawl_day(session, day, source="refused", stories=0, errors=12, rng=rng,
                      feed_status=200 if back == 3 else 403)  # fmt: skip
    sessions.kw["bind"].dispose()
    with serving(database_url) as base_url:
        yield base_url, database_url, today


def test_sources_show_each_sources_health_as_newsdesk_health_judges_it(health_site):
    site, database_url, today = health_site
    cli_json = CliRunner().invoke(cli, ["--db", database_url, "health", "--format", "json"])
    assert cli_json.exit_code == 1, cli_json.output
    judged = {entry["source"]: entry for entry in json.loads(cli_json.output)}

    status, _, body = get(site + "/api/sources")
    assert status == 200
    api = {entry["source"]: entry["health"] for entry in json.loads(body)["sources"]}
    assert api == judged
    assert {name: entry["status"] for name, entry in api.items()} == {
        "fading": "alert", "refused": "alert", "steady": "ok",
    }  # fmt: skip
    assert api["fading"]["reasons"][0]["text"] == f"feed {HOSTILE_FEED} answered HTTP 410 since {today}"
    assert api["refused"]["reasons"][0]["text"] == f"every request answered HTTP 403 since {today - timedelta(days=2)}"
    assert api["steady"]["latest"]["template_share"] == pytest.approx(0.2, abs=0.05)

    status, _, page = get(site + "/sources")
    assert status == 200
    sections = {section.split("</h2>", 1)[0]: section for section in page.split("<h2>")[1:]}
    assert set(sections) == {"fading", "refused", "steady"}
    for name, entry in judged.items():
        assert f'class="health-{entry["status"]}">{entry["status"]}</strong>' in sections[name]
        for reason in entry["reasons"]:
            assert html.escape(reason["text"], quote=False) in sections[name]
    assert "% of the text site template" in sections["steady"]
    for name, entry in judged.items():
        errors = sum(entry["latest"]["errors"].values())
        assert re.search(r"stored, (\d+ \w+)", sections[name]).group(1) == f"{errors} error{'' if errors == 1 else 's'}"
    assert "2 alert" in page and "1 ok" in page
    # The feed URL's markup is shown as text, never as an element.
    assert "<b id=injected-health" not in page and "&lt;b id=injected-health&gt;" in page


def test_serve_refuses_a_remote_address_without_allow_remote(sqlite_url):
    result = CliRunner().invoke(cli, ["serve", "--db", sqlite_url, "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output and "Traceback" not in result.output


def test_newsdesk_serve_serves_the_store_read_only(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with sessionmaker(engine).begin() as session:
        store_articles(session, STORIES)
    engine.dispose()
    newsdesk = Path(sys.executable).parent / "newsdesk"
    plain_path = sqlite_url.removeprefix("sqlite:///")
    command = [str(newsdesk), "serve", "--db", plain_path, "--port", "0"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        # The line names the port it got, and is printed once the socket listens: no waiting.
        address = re.search(r"serving .* on (http://127\.0\.0\.1:[1-9]\d*)/", server.stderr.readline()).group(1)
        status, _, body = get(f"{address}/api/articles?q=economists")
        assert status == 200 and [a["title"] for a in json.loads(body)["articles"]] == ["Economists see slow growth"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_on_a_port_in_use_says_so_in_one_line_and_never_claims_to_serve(sqlite_url):
    upgrade(make_engine(sqlite_url))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", sqlite_url, "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"


@pytest.mark.parametrize(
    "query",
    ["/api/articles?until=9999-12-31", "/api/articles?day=9999-12-31", "/?until=9999-12-31", "/search.csv?day=9999-12-31",
     "/api/sources?end=9999-12-31", "/api/sources?end=0001-01-01", "/api/sources?end=0001-01-02&days=7",
     "/sources?end=0001-01-01"],
)  # fmt: skip
def test_the_first_and_last_days_of_the_calendar_are_bounds_not_errors(site, query):
    """A user's 9999-12-31 means "to the end": a day added to it must not overflow into a 500."""
    status, _, body = get(site + query)
    assert status == 200, body[:300]
