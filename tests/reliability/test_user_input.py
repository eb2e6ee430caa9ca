"""What a user or a sources file can hand newsdesk, in the reliability table: each class of bad
input is one clear line and a non-zero exit, never a traceback, a hang or an empty crawl that
exits 0. The per-case tests live beside the code (tests/integration/test_cli_one_line_errors.py,
test_read_only_reads.py, test_extract_guard.py, test_export.py); here each class is tried as a
whole and reported as one row, so `make reliability` shows them with the hostile web.
"""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from click.testing import CliRunner

from crawler.addresses import is_forbidden_address
from crawler.cli import cli
from storage.db import upgrade

pytestmark = pytest.mark.reliability


def _fails_in_one_line(args: list[str]) -> bool:
    result = CliRunner().invoke(cli, args)
    clean_exit = result.exception is None or isinstance(result.exception, SystemExit)
    one_line = (
        result.exit_code not in (0, None)
        and clean_exit
        and "Traceback" not in result.output
        and len(result.stderr.strip().splitlines()) == 1
    )
    if not one_line:  # what came out, in the test's output: a case that failed once must say how
        print(f"{' '.join(args)}: exit {result.exit_code}, {result.exception!r}, stderr {result.stderr[-1500:]!r}")
    return one_line


@pytest.fixture
def db(sqlite_url) -> str:
    upgrade(sqlite_url)
    return sqlite_url


def _report(results, case: str, expected: str, tried: list, failed: list) -> None:
    observed = f"{len(tried) - len(failed)}/{len(tried)} as expected" + (f"; not: {failed[:3]}" if failed else "")
    results.add(case, expected, observed, passed=not failed)
    assert not failed


def test_bad_settings_are_one_line_naming_the_setting(db, results):
    settings = [
        "CONCURRENT_REQUESTS_PER_DOMAIN=0", "DOWNLOAD_DELAY=inf", "NEWSDESK_FRONTIER_BATCH=0",
        "DOWNLOAD_TIMEOUT=nan", "DOWNLOAD_TIMEOUT=-1", "DOWNLOAD_MAXSIZE=-1", "LOG_LEVEL=BOGUS",
    ]  # fmt: skip
    failed = [s for s in settings if not _fails_in_one_line(["--db", db, "crawl", "--url", "http://127.0.0.1:9/", "-s", s])]
    _report(results, "user input: -s settings that hung or emptied a crawl", "one line naming it", settings, failed)


def test_values_that_overflowed_are_one_line(db, results):
    cases = [
        ["articles", "--since", "²d"], ["articles", "--since", "99999999d"], ["articles", "--limit", str(2**63)],
        ["show", str(2**63)], ["runs", "show", str(2**64)], ["crawl", "--url", "http://127.0.0.1:9/", "--recrawl-after", "99999999999d"],
        ["db", "upgrade", "--revision", "nosuchrev"], ["db", "upgrade", "--revision", "head+1"],
        ["articles", "--since", "0001-01-01T00:00:00+01:00"], ["export", "-o", "corpus.jsonl"],
        ["crawl", "--url", "http://999.1.1.1/"], ["crawl", "--url", "http://a%20b.example/"],
    ]  # fmt: skip
    failed = [" ".join(args) for args in cases if not _fails_in_one_line(["--db", db, *args])]
    _report(results, "user input: spans, dates, integers, revisions, missing choices", "one line, exit != 0", cases, failed)


def test_broken_sources_files_are_one_line(db, tmp_path, results):
    # name: (the source's lines, a word the one line must hold)
    files = {
        "port 99999": (b'start_urls = ["http://a.example:99999/"]', "start_urls"),
        "broken IPv6": (b'start_urls = ["http://[::1/"]', "start_urls"),
        "host with a space": (b'start_urls = ["http://a%20b.example/"]', "start_urls"),
        "bad IPv4": (b'start_urls = ["http://999.1.1.1/"]', "start_urls"),
        "Latin-1 bytes": ('start_urls = ["http://caf\xe9.example/"]'.encode("latin-1"), "UTF-8"),
        "overflowing since": (b'start_urls = ["http://a.example/"]\nsince = "0001-01-01T00:00:00+01:00"', "since"),
        "overflowing recrawl_after": (b'start_urls = ["http://a.example/"]\nrecrawl_after = "99999999999d"', "recrawl_after"),
    }  # fmt: skip
    failed = []
    for number, (name, (lines, word)) in enumerate(files.items()):
        path = tmp_path / f"{number}.toml"
        path.write_bytes(b'[[source]]\nname = "a"\n' + lines + b"\n")
        args = ["--db", db, "schedule", "--list", "--sources", str(path)]
        if not _fails_in_one_line(args) or word not in CliRunner().invoke(cli, args).stderr:
            failed.append(name)
    _report(results, "user input: broken sources.toml", "one line naming the field", list(files), failed)


def test_addresses_that_hide_loopback_are_refused(results):
    hidden = ["::127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::127.0.0.1", "2002:7f00:1::1", "fec0::1",
              "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::169.254.169.254"]  # fmt: skip
    failed = [address for address in hidden if not is_forbidden_address(address)]
    _report(results, "guard: IPv6 forms embedding a forbidden IPv4", "refused", hidden, failed)


def test_reads_need_no_write_access_and_wait_for_no_writer(db, tmp_path, results):
    writer = sqlite3.connect(tmp_path / "newsdesk.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        during_lock = CliRunner().invoke(cli, ["--db", db, "runs", "--format", "jsonl"])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    missing = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'none.db'}", "articles"])
    checks = {
        "answers while a writer holds the lock": during_lock.exit_code == 0,
        "a missing store is one line and is not created": missing.exit_code != 0 and not (tmp_path / "none.db").exists(),
    }
    failed = [name for name, ok in checks.items() if not ok]
    _report(results, "read paths: write lock held, store missing", "answer / one line", list(checks), failed)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_export_never_replaces_a_device(db, tmp_path, results):
    device = tmp_path / "full"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.stat("/dev/full").st_rdev)
    refused = _fails_in_one_line(["--db", db, "export", "--format", "jsonl", "-o", str(device), "--force"])
    still_device = stat.S_ISCHR(os.stat(device).st_mode)
    failed = [] if refused and still_device else [f"refused={refused} still a device={still_device}"]
    _report(results, "export -o <a device> --force", "refused, device untouched", ["device"], failed)
