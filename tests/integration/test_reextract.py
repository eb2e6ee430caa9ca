"""``newsdesk reextract`` (issue 16): a crawl archived with a site template its profile had not yet
learned; once the template is learned, reextract cleans exactly the stories holding it from their
archived pages, as re-extractions and never as new versions, skips a story without a capture with
its reason, changes nothing when run again, and finishes after a kill -9 with nothing done twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from click.testing import CliRunner
from support.loopback import PageServer

from crawler.cli import cli
from crawler.demo.generated import article_text
from crawler.reextract import EXTRACTOR_VERSION
from storage.batches import FETCHED_READING
from storage.db import make_engine
from storage.site_profiles import block_key, label_key

REPO = Path(__file__).resolve().parents[2]
SOURCE = "boxed"
# A box the generic boilerplate rules keep: only the site's profile can tell it from the story.
BOX = "Read also: the week in pictures, from the harbour to the hills"


def story_page(number: int, boxed: bool, more: int = 0) -> bytes:
    """Story ``number``, with the box if ``boxed``, and ``more`` generated paragraphs' worth of length."""
    headline, paragraphs = article_text(number)
    paragraphs += [text for extra in range(more) for text in article_text(number * 1000 + extra)[1][:1]]
    body = [f"<p>{p}</p>" for p in paragraphs]
    if boxed:
        body.insert(2, f'<div class="inline-box"><p>{BOX}</p></div>')
    return (
        f"<html lang='en'><head><title>{headline}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='2026-11-{number % 28 + 1:02d}T08:00:00Z'></head>"
        f"<body><article><h1>{headline}</h1>{''.join(body)}</article></body></html>"
    ).encode()


class Site(PageServer):
    """``stories`` stories found through the sitemap; those ``boxed`` says carry the box."""

    def __init__(self, stories: int, boxed=lambda number: number % 2 == 0, more: int = 0):
        super().__init__()
        self.stories = stories
        self.boxed = boxed
        self.more = more

    def answer(self, raw_path: str) -> tuple[str, bytes] | None:
        path = urlsplit(raw_path).path
        if path == "/robots.txt":
            return "text/plain", f"User-agent: *\nSitemap: {self.base}/sitemap.xml\n".encode()
        if path == "/":
            return "text/html", b"<html><head><title>Home</title></head><body><p>Welcome.</p></body></html>"
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base}/news/{n}</loc></url>" for n in range(1, self.stories + 1))
            return "application/xml", (
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            ).encode()
        number = path.removeprefix("/news/")
        if number.isdigit() and 1 <= int(number) <= self.stories:
            return "text/html; charset=utf-8", story_page(int(number), self.boxed(int(number)), self.more)
        return None


def crawl_archived(site: Site, database_url: str, archive: Path, scrapy_crawl) -> None:
    """Crawl with archiving on and a profile that cannot mature yet (the box is kept in the text)."""
    scrapy_crawl(
        database_url, "-a", f"start_urls={site.base}/", "-a", f"source={SOURCE}",
        "-s", f"NEWSDESK_ARCHIVE_DIR={archive}", "-s", "NEWSDESK_SITE_PROFILE_MIN_PAGES=100000",
        "-s", "NEWSDESK_EXTRACT_WORKERS=1",
    )  # fmt: skip


def learn_the_box(database_url: str) -> None:
    """The source's profile learns the box as template text, as a matured profile would."""
    keys = [key for key in (block_key(BOX), label_key(BOX)) if key is not None]
    with make_engine(database_url).begin() as conn:
        learned = conn.execute(
            sa.text("UPDATE site_profile_blocks SET profiled_at = :now WHERE block_hash IN :keys").bindparams(
                sa.bindparam("keys", expanding=True)
            ),
            {"now": datetime.now(UTC), "keys": keys},
        )
        assert learned.rowcount == len(keys)  # the crawl counted the box's pages into the profile


def rows(database_url: str, query: str, **params) -> list:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query), params))
    finally:
        engine.dispose()


#: Articles a reextract has read (a crawl notes the reading it stored too).
READ_AGAIN = f"SELECT count(*) FROM article_readings WHERE outcome <> '{FETCHED_READING}'"


def story_number(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def reextract(database_url: str, *args: str):
    result = CliRunner().invoke(cli, ["reextract", "--db", database_url, *args])
    assert result.exit_code == 0, result.output
    return result.stderr.strip()


def test_reextract_cleans_exactly_the_stories_holding_a_learned_template(database_url, tmp_path, scrapy_crawl):
    with Site(stories=24) as site:
        crawl_archived(site, database_url, tmp_path / "archive", scrapy_crawl)
    stored = {story_number(url): article_id for article_id, url in rows(database_url, "SELECT id, url FROM articles")}
    assert len(stored) == 24
    boxed = {n for n in stored if n % 2 == 0}
    assert {story_number(url) for (url,) in rows(database_url, "SELECT url FROM articles WHERE text LIKE :box",
                                                 box=f"%{BOX}%")} == boxed  # fmt: skip
    # A story stored while archiving was off has no capture to read; one whose row points at the
    # wrong place in its file (a file rewritten since) has none that can be read.
    no_capture, unreadable = stored[2], stored[3]
    with make_engine(database_url).begin() as conn:
        conn.execute(sa.text("DELETE FROM captures WHERE article_id = :id"), {"id": no_capture})
        conn.execute(sa.text("UPDATE captures SET \"offset\" = 0 WHERE article_id = :id"), {"id": unreadable})
    learn_the_box(database_url)

    summary = reextract(database_url, "--workers", "2")
    assert summary.startswith("24 articles in ")
    assert summary.endswith("read 22, changed 11, unchanged 11; skipped: capture unreadable 1, no capture 1"), summary

    still_boxed = rows(database_url, "SELECT id FROM articles WHERE text LIKE :box", box=f"%{BOX}%")
    assert still_boxed == [(no_capture,)]
    assert rows(database_url, "SELECT id FROM articles WHERE markdown LIKE :box", box=f"%{BOX}%") == still_boxed
    changed = {article_id for (article_id,) in rows(database_url, "SELECT article_id FROM reextractions")}
    assert changed == {stored[n] for n in boxed} - {no_capture}
    for previous, version in rows(database_url, "SELECT previous, extractor_version FROM reextractions"):
        assert version == EXTRACTOR_VERSION
        assert BOX in (previous if isinstance(previous, dict) else json.loads(previous))["text"]
    # Re-extractions, not the publisher's edits: one version each, holding the cleaned text.
    assert rows(database_url, "SELECT DISTINCT version FROM articles") == [(1,)]
    assert rows(database_url, "SELECT max(version) FROM article_versions") == [(1,)]
    assert rows(database_url, "SELECT count(*) FROM article_versions WHERE text LIKE :box", box=f"%{BOX}%") == [(1,)]
    outcomes = dict(rows(database_url, "SELECT outcome, count(*) FROM article_readings GROUP BY outcome"))
    assert outcomes == {"changed": 11, "unchanged": 11, "no capture": 1, "capture unreadable": 1}

    # Nothing new to apply: nothing read; read again all the same, nothing changes.
    assert reextract(database_url).startswith("nothing to read again")
    again = reextract(database_url, "--all")
    assert again.endswith("changed 0, unchanged 22; skipped: capture unreadable 1, no capture 1"), again
    assert rows(database_url, "SELECT count(*) FROM reextractions") == [(11,)]
    # Everything was read by this extractor; a newer one would read all again.
    assert reextract(database_url, "--where-extractor-older-than", EXTRACTOR_VERSION).startswith("nothing")
    assert reextract(database_url, "--source", SOURCE, "--where-extractor-older-than", "9999", "--all").startswith(
        "24 articles"
    )
    # A selection no article matches is said to be empty, not "read already".
    assert reextract(database_url, "--all", "--since", "2999-01-01") == (
        "nothing to read: no article matches the --source, --since and --until given"
    )


def test_reextract_killed_mid_run_finishes_on_the_next_run_with_nothing_done_twice(
    database_url, tmp_path, scrapy_crawl
):
    stories = 60
    # Long stories: a chunk of them takes the one worker long enough to be killed in it.
    with Site(stories=stories, boxed=lambda number: True, more=200) as site:
        crawl_archived(site, database_url, tmp_path / "archive", scrapy_crawl)
    assert rows(database_url, "SELECT count(*) FROM articles") == [(stories,)]
    learn_the_box(database_url)
    command = [sys.executable, "-m", "crawler.cli", "--db", database_url, "reextract", "--workers", "1"]
    process = subprocess.Popen(command, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    engine = make_engine(database_url)
    deadline = time.monotonic() + 120
    read = 0
    while time.monotonic() < deadline and process.poll() is None and read == 0:
        with engine.connect() as conn:
            read = conn.execute(sa.text(READ_AGAIN)).scalar_one()
        time.sleep(0.01)
    engine.dispose()
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    done = rows(database_url, READ_AGAIN)[0][0]
    assert 0 < done < stories  # killed half-way, its finished chunks kept

    summary = reextract(database_url)
    assert summary.startswith(f"{stories - done} articles in ") and f"changed {stories - done}," in summary, summary
    assert rows(database_url, "SELECT count(*) FROM articles WHERE text LIKE :box", box=f"%{BOX}%") == [(0,)]
    # Each story cleaned once: one re-extraction each, no new version.
    assert rows(database_url, "SELECT count(*), count(DISTINCT article_id) FROM reextractions") == [(stories, stories)]
    assert rows(database_url, "SELECT max(version) FROM article_versions") == [(1,)]


def test_a_reading_bug_is_an_error_not_a_story_gone_and_the_article_is_read_next_run(sqlite_url, tmp_path,
                                                                                     scrapy_crawl, monkeypatch):  # fmt: skip
    """An exception in newsdesk's reading code must not note the article "no longer a story" (which
    would leave it unread by later runs): it is an error, the command exits non-zero, no note is
    written, and the next run reads it."""
    from crawler.extraction import article as extraction

    with Site(stories=4) as site:
        crawl_archived(site, sqlite_url, tmp_path / "archive", scrapy_crawl)
    learn_the_box(sqlite_url)
    extract = extraction._extract

    def raising_on_story_2(html, url, http_charset):
        if url.endswith("/news/2"):
            raise KeyError("a bug")
        return extract(html, url, http_charset)

    monkeypatch.setattr(extraction, "_extract", raising_on_story_2)
    failed = CliRunner().invoke(cli, ["reextract", "--db", sqlite_url, "--workers", "1"])
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.strip().splitlines()[-1].startswith("Error: 1 articles failed in newsdesk's reading code")
    assert "read 3, changed 1, unchanged 2; errors 1" in failed.stderr
    assert rows(sqlite_url, READ_AGAIN) == [(3,)]

    monkeypatch.setattr(extraction, "_extract", extract)
    assert reextract(sqlite_url).endswith("read 1, changed 1, unchanged 0")
    assert rows(sqlite_url, "SELECT count(*) FROM articles WHERE text LIKE :box", box=f"%{BOX}%") == [(0,)]


def test_what_a_crawl_or_an_import_stored_is_noted_as_read_so_reextract_reads_only_what_is_new(
    sqlite_url, tmp_path, scrapy_crawl
):
    """The first reextract after a crawl read every article again, to change nothing: the crawl's
    own reading (and an import's) is now noted, with its extractor and site profile."""
    with Site(stories=6) as site:
        crawl_archived(site, sqlite_url, tmp_path / "archive", scrapy_crawl)
    noted = "SELECT outcome, extractor_version, site_profile, count(*) FROM article_readings GROUP BY 1, 2, 3"
    assert rows(sqlite_url, noted) == [(FETCHED_READING, EXTRACTOR_VERSION, "", 6)]
    assert reextract(sqlite_url).startswith("nothing to read again")
    # The note is true: read again, the archived pages give the text the crawl stored.
    assert reextract(sqlite_url, "--all").endswith("read 6, changed 0, unchanged 6")
    # A profile that learned something since is news: those stories are read again.
    learn_the_box(sqlite_url)
    assert reextract(sqlite_url).startswith("6 articles in ")

    imported = f"sqlite:///{tmp_path / 'imported.db'}"
    archive = [str(path) for path in sorted((tmp_path / "archive").glob("*.warc.gz"))]
    result = CliRunner().invoke(cli, ["--db", imported, "import-warc", *archive])
    assert result.exit_code == 0, result.output
    assert rows(imported, noted) == [(FETCHED_READING, EXTRACTOR_VERSION, "", 6)]
    assert reextract(imported).startswith("nothing to read again")
