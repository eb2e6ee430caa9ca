"""The sources registry: valid files load into frozen records; every mistake names source and field."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.sources import Source, SourcesError, load_sources, parse_duration, resolve_sources_path

ROOT = Path(__file__).resolve().parents[2]

VALID = """
[[source]]
name = "rt"
start_urls = ["https://www.rt.com/"]
feeds = ["https://www.rt.com/rss/"]
sitemaps = ["https://www.rt.com/sitemap.xml"]
article_url_allow = ['/\\d+-[^/]+/$']
article_url_deny = ['/tags/']
language = "en"
schedule = "*/30 * * * *"
max_pages = 100
max_depth = 0
since = 2026-01-01
recrawl_after = "6h"
timeout = "1h30m"
settings = { DOWNLOAD_DELAY = 1.5, CONCURRENT_REQUESTS_PER_DOMAIN = 2 }

[[source]]
name = "local"
start_urls = ["http://news.example/"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_into_frozen_records(tmp_path):
    sources = load_sources(write(tmp_path, VALID))

    assert list(sources) == ["rt", "local"]
    rt = sources["rt"]
    assert rt.start_urls == ("https://www.rt.com/",)
    assert rt.domains == ("www.rt.com",)  # defaults to the start URLs' hosts
    assert rt.feeds == ("https://www.rt.com/rss/",)
    assert rt.sitemaps == ("https://www.rt.com/sitemap.xml",)
    assert [p.pattern for p in rt.article_url_allow] == [r"/\d+-[^/]+/$"]
    assert rt.is_article_url("https://www.rt.com/news/612345-headline/")
    assert not rt.is_article_url("https://www.rt.com/tags/612345-headline/")
    assert rt.language == "en"
    assert rt.schedule == "*/30 * * * *"
    assert (rt.max_pages, rt.max_depth) == (100, 0)
    assert rt.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert rt.recrawl_after_delta == timedelta(hours=6)
    assert rt.timeout_delta == timedelta(hours=1, minutes=30)
    assert rt.settings == {"DOWNLOAD_DELAY": 1.5, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}
    local = sources["local"]
    assert (local.schedule, local.since, local.settings, local.feeds) == (None, None, {}, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rt.name = "other"  # type: ignore[misc]


def test_a_source_owns_the_pages_below_its_start_urls_and_its_domains_whole():
    business = Source(name="biz", start_urls=("https://www.example.com/business/",), domains=("amp.example.com",))
    assert "https://example.com/business/2026/story" in business.scope  # www. or not, one site
    assert "https://amp.example.com/sport/story" in business.scope
    assert "https://www.example.com/sport/story" not in business.scope


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('"2026-01-01"', datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T10:00:00+02:00", datetime(2026, 1, 1, 8, tzinfo=UTC)),
        ('"2026-01-01T10:00Z"', datetime(2026, 1, 1, 10, tzinfo=UTC)),
    ],
)
def test_since_is_aware_utc_whether_a_toml_date_or_a_string(tmp_path, written, expected):
    path = write(tmp_path, "[[source]]\n" + ENTRY + f"since = {written}\n")
    since = load_sources(path)["site"].since
    assert since == expected and since.tzinfo is UTC


@pytest.mark.parametrize("filename", ["sources.example.toml", "sources.demo.toml"])
def test_the_shipped_files_load(filename):
    sources = load_sources(ROOT / filename, variables={"demo": "http://127.0.0.1:8000"})
    assert sources
    assert all(isinstance(s, Source) and s.start_urls for s in sources.values())


def test_shipped_example_has_rt_with_its_feed():
    rt = load_sources(ROOT / "sources.example.toml")["rt"]
    assert "https://www.rt.com/rss/" in rt.feeds


def test_demo_placeholder_is_filled_from_variables():
    sources = load_sources(ROOT / "sources.demo.toml", variables={"demo": "http://127.0.0.1:8123/"})
    assert set(sources) == {"planet", "ledger", "courier"}
    assert sources["planet"].start_urls == ("http://127.0.0.1:8123/planet/",)
    assert all(s.schedule == "* * * * *" for s in sources.values())


def test_an_unfilled_placeholder_is_an_error():
    with pytest.raises(SourcesError, match=r"^planet\.start_urls: .*\{demo\}"):
        load_sources(ROOT / "sources.demo.toml")


ENTRY = 'name = "site"\nstart_urls = ["https://site.example/"]\n'


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ('colour = "red"\n', "colour", "unknown key"),
        ("article_url_allow = ['(unclosed']\n", "article_url_allow", "bad regular expression"),
        ("article_url_deny = ['*star']\n", "article_url_deny", "bad regular expression"),
        ('schedule = "61 * * * *"\n', "schedule", "bad cron expression"),
        ('schedule = "every day"\n', "schedule", "bad cron expression"),
        ('feeds = ["ftp://site.example/feed"]\n', "feeds", "not an http"),
        ("max_pages = 0\n", "max_pages", "whole number"),
        ('recrawl_after = "soon"\n', "recrawl_after", "not a duration"),
        ('timeout = "2 hours"\n', "timeout", "not a duration"),
        ("since = 2026-01-01T00:00:00\n", "since", "no time zone"),
        ("since = 0001-01-01T00:00:00+01:00\n", "since", "outside the years 1 to 9999 in UTC"),
        ('since = "2026-13-01"\n', "since", "not an ISO 8601 date"),
        ("language = 5\n", "language", "must be a str"),
        ("settings = { ITEM_PIPELINES = 1 }\n", "settings.ITEM_PIPELINES", "not a setting a source may override"),
        ('settings = { DOWNLOAD_DELAY = "fast" }\n', "settings.DOWNLOAD_DELAY", "must be int or float"),
    ],
)
def test_each_validation_error_names_source_and_field(tmp_path, extra, field, says):
    path = write(tmp_path, "[[source]]\n" + ENTRY + extra)
    with pytest.raises(SourcesError, match=rf"^site\.{re.escape(field)}: .*{says}") as caught:
        load_sources(path)
    assert caught.value.source == "site"
    assert caught.value.field == field


@pytest.mark.parametrize(
    "start_urls", ['["file:///etc/passwd"]', '["javascript:alert(1)"]', '["https://"]', '[""]']
)
def test_start_urls_must_be_http(tmp_path, start_urls):
    path = write(tmp_path, f'[[source]]\nname = "site"\nstart_urls = {start_urls}\n')
    with pytest.raises(SourcesError, match=r"^site\.start_urls: "):
        load_sources(path)


@pytest.mark.parametrize("start_urls", ["", "start_urls = []\n"])
def test_start_urls_are_required(tmp_path, start_urls):
    path = write(tmp_path, f'[[source]]\nname = "site"\n{start_urls}')
    with pytest.raises(SourcesError, match=r"^site\.start_urls: at least one start URL"):
        load_sources(path)


def test_duplicate_names_are_refused(tmp_path):
    path = write(tmp_path, "[[source]]\n" + ENTRY + "\n[[source]]\n" + ENTRY)
    with pytest.raises(SourcesError, match=r"^site\.name: duplicate"):
        load_sources(path)


def test_a_source_needs_a_name(tmp_path):
    path = write(tmp_path, '[[source]]\nstart_urls = ["https://site.example/"]\n')
    with pytest.raises(SourcesError, match=r"^source #1\.name: "):
        load_sources(path)


def test_file_level_errors_are_one_line(tmp_path):
    with pytest.raises(SourcesError, match="sources file not found"):
        load_sources(tmp_path / "missing.toml")
    with pytest.raises(SourcesError, match="not valid TOML"):
        load_sources(write(tmp_path, "[[source]\n"))
    with pytest.raises(SourcesError, match="unknown top-level key"):
        load_sources(write(tmp_path, "[sources.rt]\nstart_urls = []\n"))
    assert issubclass(SourcesError, ValueError)  # the CLI turns ValueError into a usage error


def test_resolve_sources_path_prefers_explicit_then_env_then_cwd(monkeypatch):
    monkeypatch.setenv("NEWSDESK_SOURCES", "/etc/newsdesk/sources.toml")
    assert resolve_sources_path("mine.toml") == Path("mine.toml")
    assert resolve_sources_path(None) == Path("/etc/newsdesk/sources.toml")
    monkeypatch.delenv("NEWSDESK_SOURCES")
    assert resolve_sources_path(None) == Path("sources.toml")


def test_parse_duration():
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    for bad in ("", "h", "6", "6x", "-1h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
