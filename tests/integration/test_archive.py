"""The WARC archive written while crawling: offsets, digests, revisits, show --raw, kill -9, disk full."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import cli
from crawler.demo.generated import GeneratedSite
from storage.archive import payload_digest
from storage.db import make_engine

REPO = Path(__file__).resolve().parents[2]


def crawl_command(site: GeneratedSite, database_url: str, *settings: str) -> list[str]:
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"start_urls={site.base_url}/", "-a", "source=generated",
        "-s", f"NEWSDESK_DATABASE_URL={database_url}",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "NEWSDESK_EXTRACT_WORKERS=1",
        "-s", "NEWSDESK_STORE_BATCH_SIZE=10",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    for setting in settings:
        command += ["-s", setting]
    return command


def crawl(site: GeneratedSite, database_url: str, *settings: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        crawl_command(site, database_url, *settings), cwd=REPO, capture_output=True, text=True, timeout=300, env=env
    )


def rows(database_url: str, query: str) -> list:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)))
    finally:
        engine.dispose()


def record_at(path: str, offset: int):
    """The record at ``offset``, read in full (payload digest and all)."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        return record, record.raw_stream.read()


def assert_every_capture_points_at_its_record(database_url: str) -> int:
    captures = rows(database_url, "SELECT url, record_type, record_id, file, offset, length, payload_digest FROM captures")
    for url, record_type, record_id, file, offset, length, digest in captures:
        record, payload = record_at(file, offset)
        headers = record.rec_headers
        assert (record.rec_type, headers.get_header("WARC-Record-ID")) == (record_type, record_id)
        assert headers.get_header("WARC-Target-URI") == url
        assert headers.get_header("WARC-Payload-Digest") == digest
        if record_type == "response":
            assert payload_digest(payload) == digest
        with open(file, "rb") as stream:  # the length ends exactly where the next record begins
            stream.seek(offset + length)
            following = next(iter(ArchiveIterator(stream)), None)
            assert following is not None and following.rec_type == "request"
    return len(captures)


def read_whole(path: Path) -> list[str]:
    with open(path, "rb") as stream:
        return [record.rec_type for record in ArchiveIterator(stream)]


def test_crawl_archives_every_response_with_revisits_and_show_raw_prints_the_page(sqlite_url, tmp_path):
    archive = tmp_path / "archive"  # the default: beside the SQLite file
    with GeneratedSite(pages=30) as site:
        first = crawl(site, sqlite_url)
        assert first.returncode == 0, first.stderr[-3000:]
        second = crawl(site, sqlite_url)
        assert second.returncode == 0, second.stderr[-3000:]
        article_id, article_url = rows(sqlite_url, "SELECT id, url FROM articles ORDER BY id LIMIT 1")[0]
        served = urllib.request.urlopen(article_url).read()

    files = sorted(archive.glob("*.warc.gz"))
    assert len(files) == 2  # one per run
    assert not list(archive.glob("*.open"))
    for file in files:
        assert read_whole(file)[0] == "warcinfo"
    assert assert_every_capture_points_at_its_record(sqlite_url) > 60

    # robots.txt, hubs and error pages are archived too, not only stories.
    urls = {url for (url,) in rows(sqlite_url, "SELECT url FROM captures")}
    assert any(url.endswith("/robots.txt") for url in urls)
    assert rows(sqlite_url, "SELECT count(*) FROM captures WHERE status >= 400")[0][0] > 0
    # Every stored article is linked to the capture it was read from.
    unlinked = rows(sqlite_url, "SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM captures "
                                "WHERE article_id IS NOT NULL)")  # fmt: skip
    assert unlinked[0][0] == 0

    # The second run found the same pages: revisit records pointing at the first run's responses.
    revisits = rows(sqlite_url, "SELECT r.payload_digest, o.payload_digest, o.record_type, r.file, o.file FROM captures r "
                                "JOIN captures o ON o.record_id = r.refers_to WHERE r.record_type = 'revisit'")  # fmt: skip
    assert len(revisits) >= 30
    for digest, original_digest, original_type, _, _ in revisits:
        assert (digest, original_type) == (original_digest, "response")
    assert sum(file != original_file for *_, file, original_file in revisits) >= 30

    result = CliRunner().invoke(cli, ["--db", sqlite_url, "show", str(article_id), "--raw"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == served
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "show", str(article_id), "--raw", "--headers"])
    assert result.stdout_bytes.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/html" in result.stdout_bytes


def test_archive_off_writes_nothing(sqlite_url, tmp_path):
    with GeneratedSite(pages=5) as site:
        env = {**os.environ, "NEWSDESK_ARCHIVE": "false"}
        done = crawl(site, sqlite_url, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "archive").exists()
    assert rows(sqlite_url, "SELECT count(*) FROM captures")[0][0] == 0
    assert rows(sqlite_url, "SELECT count(*) FROM articles")[0][0] == 5


def test_kill_9_mid_archive_leaves_only_complete_records_and_resume_repairs_and_starts_a_new_file(sqlite_url, tmp_path):
    archive = tmp_path / "archive"
    with GeneratedSite(pages=200) as site:
        process = subprocess.Popen(
            crawl_command(site, sqlite_url), cwd=REPO, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if archive.exists() and sum(f.stat().st_size for f in archive.glob("*.warc.gz")) > 1_500_000:
                break
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        [killed_file] = archive.glob("*.warc.gz")
        assert (archive / f"{killed_file.name}.open").exists()  # it was killed mid-file
        # No row points at a partial record, whatever the kill cut.
        before = assert_every_capture_points_at_its_record(sqlite_url)
        assert before > 0

        finished = crawl(site, sqlite_url)
        assert finished.returncode == 0, finished.stderr[-3000:]

    files = sorted(archive.glob("*.warc.gz"))
    assert len(files) == 2 and killed_file in files  # the next run wrote a file of its own
    assert not list(archive.glob("*.open"))
    for file in files:  # every file reads to its end without an error
        assert read_whole(file)
    assert assert_every_capture_points_at_its_record(sqlite_url) > before
    assert rows(sqlite_url, "SELECT count(*) FROM articles")[0][0] == 200


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a small tmpfs")
def test_disk_full_stops_archiving_with_an_error_and_loses_no_article(sqlite_url, tmp_path):
    archive = tmp_path / "small"
    archive.mkdir()
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(archive)],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a user namespace: {probe.stderr.decode()[:200]}")
    with GeneratedSite(pages=40) as site:
        command = crawl_command(site, sqlite_url, f"NEWSDESK_ARCHIVE_DIR={archive}")
        mounted = ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=300k tmpfs "$0" && exec "$@"', str(archive),
                   *command]  # fmt: skip
        done = subprocess.run(mounted, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0  # the run has an error
    assert "No space left on device" in done.stderr
    [(status, error)] = rows(sqlite_url, "SELECT status, error FROM crawl_runs")
    assert status == "finished-with-errors"
    assert "archive" in error and "No space left on device" in error
    assert rows(sqlite_url, "SELECT count(*) FROM articles")[0][0] == 40
