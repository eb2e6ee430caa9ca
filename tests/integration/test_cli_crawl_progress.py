"""``newsdesk crawl`` and ``newsdesk demo`` as a person runs them: a live display on a terminal and
none in a pipe, and a demo that says what went wrong and what to type next."""

from __future__ import annotations

import os
import pty
import re
import shlex
import subprocess
import sys
from pathlib import Path

from storage.db import open_database
from storage.queries import ArticleFilter, iter_articles

REPO = Path(__file__).resolve().parents[2]
NEWSDESK = [sys.executable, "-m", "crawler.cli"]
#: The demo web is ours and on loopback: no guard, no throttling.
LOOPBACK = ("-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "-s", "AUTOTHROTTLE_ENABLED=false")
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def stored_count(database_url: str) -> int:
    with open_database(database_url)() as session:
        return len(list(iter_articles(session, ArticleFilter(limit=None))))


def run_on_a_terminal(command: list[str], **popen) -> tuple[int, str]:
    """Runs ``command`` with a pseudo-terminal as its stdin, stdout and stderr, as a shell would;
    returns its exit status and everything it wrote, escape codes removed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, close_fds=True, **popen)
    os.close(follower)
    written = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal's last descriptor
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    return process.wait(timeout=60), ESCAPE.sub("\n", written.decode("utf-8", "replace"))


def crawl_command(database_url: str, url: str) -> list[str]:
    return [*NEWSDESK, "--db", database_url, "crawl", "--url", url, "--source", "wire", *LOOPBACK]


def test_a_crawl_in_a_pipe_shows_no_progress_and_a_summary_that_fits_80_columns(demo_web, database_url):
    result = subprocess.run(
        crawl_command(database_url, demo_web.wire_url), cwd=REPO, capture_output=True, text=True, timeout=240,
        env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_count(database_url) > 0
    assert "pages/s" not in result.stdout + result.stderr
    assert "\x1b[" not in result.stdout + result.stderr, "no terminal escape codes in a pipe"
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert "…" not in result.stdout, "no header, status or count cut short"
    assert re.search(r"\bwire\s+│ finished\s+│ \d+ requests, \d+ stored", result.stdout), result.stdout


def test_a_crawl_on_a_terminal_shows_pages_stored_queued_and_errors(demo_web, database_url):
    code, written = run_on_a_terminal(crawl_command(database_url, demo_web.wire_url), cwd=REPO)
    assert code == 0, written[-3000:]
    figures = re.findall(r"wire\s+(\d+) pages\s+[\d.]+ pages/s\s+(\d+) stored\s+(\d+|…) queued\s+(\d+) errors", written)
    assert figures, written[-3000:]
    pages, stored, queued, errors = figures[-1]
    # The last figures drawn are the crawl's own: every story stored, nothing left waiting.
    assert int(stored) == stored_count(database_url) > 0
    assert int(pages) > int(stored)
    assert (queued, errors) == ("0", "0")
    # Scrapy's log lines are printed above the display, not through it.
    assert "Spider closed (finished)" in written


def test_the_demo_ends_with_the_command_that_lists_its_store(database_url, tmp_path):
    result = subprocess.run(
        [*NEWSDESK, "demo", "--db", database_url, "--show", "0"], cwd=tmp_path, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last == f"newsdesk articles --db {database_url}"
    typed = shlex.split(last)
    listed = subprocess.run([*NEWSDESK, *typed[1:], "--format", "jsonl"], cwd=tmp_path, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == stored_count(database_url) > 30


def test_the_demo_exits_non_zero_when_a_crawl_fails_and_says_what_to_type(sqlite_url, tmp_path):
    in_the_way = tmp_path / "archive-is-a-file"
    in_the_way.write_text("")
    environment = {**os.environ, "NEWSDESK_ARCHIVE_DIR": str(in_the_way / "warc")}
    result = subprocess.run(
        [*NEWSDESK, "demo", "--db", sqlite_url, "--show", "0"], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, env=environment,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-2000:]
    (error,) = result.stderr.strip().splitlines()
    assert error.startswith("Error: 4 demo crawls did not finish cleanly (planet finished-with-errors"), error
    assert "Not a directory" in error
    assert error.endswith(f"To see why: newsdesk runs --db {sqlite_url}")
    assert "To list them" not in result.stdout
    typed = shlex.split(error.rsplit("To see why: ", 1)[1])
    runs = subprocess.run([*NEWSDESK, *typed[1:], "--format", "jsonl"], cwd=tmp_path, capture_output=True, text=True)
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.count('"finished-with-errors"') == 4


def test_a_crawl_stopped_at_its_page_limit_says_what_is_left_and_the_next_one_goes_on(demo_web, sqlite_url):
    limited = subprocess.run(
        [*crawl_command(sqlite_url, demo_web.wire_url), "-s", "CLOSESPIDER_PAGECOUNT=3"], cwd=REPO,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert limited.returncode == 0, limited.stderr[-3000:]  # the limit asked for is not a failure
    left = re.search(r"wire: stopped early \(closespider_pagecount\) with (\d+) URLs? left in the frontier", limited.stderr)
    assert left and int(left.group(1)) > 0, limited.stderr[-3000:]
    shown = subprocess.run([*NEWSDESK, "--db", sqlite_url, "runs", "show", "1"], cwd=REPO, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert "finished: stopped early (closespider_pagecount)" in shown.stdout, shown.stdout
    before = stored_count(sqlite_url)
    rest = subprocess.run(crawl_command(sqlite_url, demo_web.wire_url), cwd=REPO, capture_output=True, text=True, timeout=240)
    assert rest.returncode == 0 and "left in the frontier" not in rest.stderr, rest.stderr[-3000:]
    assert stored_count(sqlite_url) > before
