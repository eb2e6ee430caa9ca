"""import-warc: crafted bad records skipped by reason, our own archive re-imported into an empty
store, two workers on PostgreSQL splitting one list of files, and readers in other processes
storing what one reading in the worker stores, a dead or hung reader costing its page alone."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.stories import duplicate_stories, story_key
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.cli import cli
from crawler.demo.generated import GeneratedSite
from crawler import warc_import
from crawler.warc_import import ImportFilter, import_worker
from storage.db import make_engine, upgrade

REPO = Path(__file__).resolve().parents[2]


def response(writer: WARCWriter, url: str, body: bytes, *, status: str = "200 OK", content_type: str = "text/html",
             length: int | None = None, headers: tuple[tuple[str, str], ...] = ()):  # fmt: skip
    http = StatusAndHeaders(status, [("Content-Type", content_type), *headers], protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http, length=length)
    writer.write_record(record)


def write_warc(path: Path, pages: list[tuple[str, bytes]], *, gzip: bool = True) -> None:
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip, warc_version="WARC/1.1")
        for url, body in pages:
            response(writer, url, body)


def fetch_pages(site: GeneratedSite, numbers) -> list[tuple[str, bytes]]:
    return [(site.article_url(n), urllib.request.urlopen(site.article_url(n)).read()) for n in numbers]


def rows(database_url: str, query: str) -> list:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)))
    finally:
        engine.dispose()


def test_bad_records_are_counted_by_reason_and_the_good_ones_stored(sqlite_url, tmp_path):
    with GeneratedSite(pages=4) as site:
        pages = fetch_pages(site, [1, 2, 3])
    path = tmp_path / "mixed.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        writer.write_record(writer.create_warcinfo_record("mixed.warc.gz", {"software": "test"}))
        response(writer, *pages[0])
        writer.write_record(writer.create_warc_record("dns:example.com", "response", payload=io.BytesIO(b"1.2.3.4"),
                                                      warc_content_type="text/dns"))  # fmt: skip
        response(writer, "http://example.com/report.pdf", b"%PDF-1.7 ...", content_type="application/pdf")
        response(writer, "http://example.com/binary", b"\x89PNG\r\n\x1a\n\x00\x00" * 50)
        response(writer, "http://example.com/gone", b"<html>gone</html>", status="404 Not Found")
        response(writer, *pages[1])
        # A record that says it is 60 MB: skipped unread (here it is cut short as well).
        response(writer, "http://example.com/huge", b"<html>" + b"x" * 1000, length=60 * 1024 * 1024)
    truncated = tmp_path / "truncated.warc.gz"
    write_warc(truncated, [pages[2], (f"{pages[2][0]}?copy", pages[2][1])])
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - 200])  # the last record cut mid-gzip
    plain = tmp_path / "plain.warc"
    write_warc(plain, [pages[2]], gzip=False)

    upgrade(sqlite_url)
    counts = import_worker(sqlite_url, [str(path), str(truncated), str(plain)], ImportFilter())
    assert counts["stored"] == 3
    assert counts["skipped/not-http"] == 1
    assert counts["skipped/not-html-content-type"] == 1
    assert counts["skipped/not-html-body"] == 1
    assert counts["skipped/http-status"] == 1
    assert counts["skipped/over-50-MB"] == 1
    assert counts["skipped/warcinfo-record"] == 1
    stored = {url for (url,) in rows(sqlite_url, "SELECT url FROM articles")}
    assert stored == {pages[0][0], pages[1][0], pages[2][0]}
    assert duplicate_stories(sqlite_url) == 0
    # Every file is done; imported articles print as served.
    assert rows(sqlite_url, "SELECT DISTINCT state FROM warc_import_files") == [("done",)]
    [(article_id,)] = rows(sqlite_url, f"SELECT id FROM articles WHERE url = '{pages[1][0]}'")
    shown = CliRunner().invoke(cli, ["--db", sqlite_url, "show", str(article_id), "--raw"])
    assert shown.stdout_bytes == pages[1][1]
    # Options that would print something else are refused, not ignored.
    for options in (["--raw", "--format", "json"], ["--raw", "--diff", "1", "1"], ["--headers"],
                    ["--diff", "1", "1", "--format", "json"]):  # fmt: skip
        refused = CliRunner().invoke(cli, ["--db", sqlite_url, "show", str(article_id), *options])
        assert refused.exit_code == 2 and refused.stdout_bytes == b"", (options, refused.output)


@pytest.mark.parametrize("cut_at", ["inside-a-feed-record", "inside-a-warc-header"])
def test_a_file_cut_inside_a_record_that_is_not_a_page_is_counted_cut(sqlite_url, tmp_path, cut_at):
    with GeneratedSite(pages=1) as site:
        pages = fetch_pages(site, [1])
    path = tmp_path / "feed.warc"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=False, warc_version="WARC/1.1")
        response(writer, *pages[0])
        start = out.tell()
        response(writer, "http://example.com/feed.xml", b"<rss>" + b"<item>x</item>" * 2000 + b"</rss>",
                 content_type="application/rss+xml")  # fmt: skip
    data = path.read_bytes()
    path.write_bytes(data[: start + (40 if cut_at == "inside-a-warc-header" else 4000)])
    counts = import_worker(sqlite_url, [str(path)], ImportFilter())
    assert (counts["stored"], counts["skipped/truncated-or-corrupt"]) == (1, 1), counts
    assert not [key for key in counts if key.startswith("skipped/None")]


def test_a_page_whose_record_the_file_cuts_short_is_not_stored_cut_short(sqlite_url, tmp_path):
    """A copy of a WARC file cut in the middle of a record's gzip member reads without an error
    from warcio: the page came out a fraction of itself and was stored so."""
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    whole = tmp_path / "whole.warc.gz"
    write_warc(whole, pages)
    data = whole.read_bytes()
    first_member_end = len(gzip_member(pages[0]))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: first_member_end + (len(data) - first_member_end) * 9 // 10])
    upgrade(sqlite_url)
    counts = import_worker(sqlite_url, [str(cut)], ImportFilter())
    assert (counts["stored"], counts["skipped/truncated-or-corrupt"]) == (1, 1), counts
    assert rows(sqlite_url, "SELECT url FROM articles") == [(pages[0][0],)]


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
def test_a_corrupt_record_in_the_middle_is_skipped_and_the_file_goes_on(sqlite_url, tmp_path, compressed):
    """warcio read a corrupt gzip member on to the file's end (a line of stderr per block): the
    records after it were lost, and a garbled record in a plain file ended the file too."""
    with GeneratedSite(pages=5) as site:
        pages = fetch_pages(site, [1, 2, 3, 4, 5])
    # Pages of real size: warcio reads a file in 16 KB blocks, and a small file is one block.
    noise = random.Random(5).randbytes(60_000).hex().encode()
    pages = [(url, body.replace(b"</body>", b"<!-- " + noise + b" --></body>")) for url, body in pages]
    path = tmp_path / ("day.warc.gz" if compressed else "day.warc")
    write_warc(path, pages, gzip=compressed)
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        spans = [(records.get_record_offset(), records.get_record_length()) for _ in records]
    offset, length = spans[1]  # page 2's record
    data = bytearray(path.read_bytes())
    garbled = offset + length // 2 if compressed else offset  # inside its gzip data, or its WARC header
    data[garbled : garbled + 64] = bytes(64) if compressed else b"x" * 64
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(path)])
    stored = {url for (url,) in rows(sqlite_url, "SELECT url FROM articles")}
    assert stored == {url for url, _ in pages} - {pages[1][0]}, result.stderr
    assert "truncated-or-corrupt 1" in result.stderr and "Error -3" not in result.stderr, result.stderr
    assert duplicate_stories(sqlite_url) == 0


def gzip_member(page: tuple[str, bytes]) -> bytes:
    """The bytes one page's record takes in a gzip WARC file, written as write_warc writes it."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    response(writer, *page)
    return out.getvalue()


def test_an_export_holds_one_kind_of_record_whatever_the_files_behind_it(sqlite_url, tmp_path):
    """Captures imported from a plain .warc and from a gzip one, exported together: a .warc.gz of
    gzip members only, a .warc of plain records only (a file that mixes them is not a WARC file
    tools read), and either brings both stories into another store."""
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    plain, packed = tmp_path / "plain.warc", tmp_path / "packed.warc.gz"
    write_warc(plain, [pages[0]], gzip=False)
    write_warc(packed, [pages[1]])
    upgrade(sqlite_url)
    assert import_worker(sqlite_url, [str(plain), str(packed)], ImportFilter())["stored"] == 2
    for name in ("out.warc.gz", "out.warc"):
        out = tmp_path / name
        result = CliRunner().invoke(cli, ["--db", sqlite_url, "export", "--format", "warc", "--since", "2000-01-01",
                                          "-o", str(out)])  # fmt: skip
        assert result.exit_code == 0, result.output
        data = out.read_bytes()
        records = gzip.decompress(data) if name.endswith(".gz") else data  # raises on a plain record among members
        assert records.count(b"WARC/1.1\r\n") == 3 and b"\x1f\x8b" not in records  # warcinfo, 2 responses
        elsewhere = f"sqlite:///{tmp_path / (name + '.db')}"
        assert CliRunner().invoke(cli, ["--db", elsewhere, "import-warc", str(out)]).exit_code == 0
        assert {url for (url,) in rows(elsewhere, "SELECT url FROM articles")} == {pages[0][0], pages[1][0]}


def test_a_directory_names_its_warc_files_and_what_names_none_is_one_line(sqlite_url, tmp_path):
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    (tmp_path / "crawl" / "day2").mkdir(parents=True)
    write_warc(tmp_path / "crawl" / "a.warc.gz", [pages[0]])
    write_warc(tmp_path / "crawl" / "day2" / "b.warc", [pages[1]], gzip=False)
    (tmp_path / "crawl" / "notes.txt").write_text("not a WARC file")
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "crawl")])
    assert result.exit_code == 0, result.output
    assert "stored 2" in result.stderr and "truncated-or-corrupt" not in result.stderr  # notes.txt not read
    for target, said in [(tmp_path / "empty", "no WARC files"), (tmp_path / "none*.warc.gz", "no file matches"),
                         (tmp_path / "gone.warc.gz", "no such file"),
                         ("ftp://archive.example/a.warc.gz", "only http and https URLs")]:  # fmt: skip
        result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(target)])
        line = result.stderr.strip()
        assert result.exit_code == 1 and "\n" not in line and said in line and line.endswith(str(target)), line


def test_a_file_that_is_not_warc_at_all_fails_the_command_and_the_others_are_imported(sqlite_url, tmp_path, caplog):
    with GeneratedSite(pages=1) as site:
        write_warc(tmp_path / "day.warc.gz", fetch_pages(site, [1]))
    (tmp_path / "page.warc.gz").write_bytes(gzip.compress(b"<html><body>saved by a browser</body></html>"))
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "*.warc.gz")])
    assert result.exit_code == 1 and "stored 1" in result.stderr, result.output
    assert result.stderr.strip().splitlines()[-1] == "Error: 1 of the files hold no WARC record (named above)"
    assert rows(sqlite_url, "SELECT status FROM crawl_runs") == [("finished-with-errors",)]
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    again = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "*.warc.gz")])
    assert again.exit_code == 1 and "2 of the files hold no WARC record" in again.stderr, again.output  # named every run
    # Compressed noise of one long first line: with spaces warcio reads it as an ARC header.
    noise = random.Random(7).randbytes(20_000).replace(b"\n", b"")
    for name, first_line in [("words.warc.gz", noise), ("one-word.warc.gz", noise.replace(b" ", b""))]:
        (tmp_path / name).write_bytes(gzip.compress(first_line))
        caplog.clear()
        result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / name)])
        said = [r.getMessage() for r in caplog.records if f"{name}: not a WARC file" in r.getMessage()]
        assert result.exit_code == 1 and len(said) == 1 and len(said[0]) < 400, (result.stderr, said)  # not 20 KB


def test_a_stopped_worker_gives_its_file_back_and_one_held_elsewhere_is_named(sqlite_url, tmp_path, monkeypatch):
    from crawler import warc_import

    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    write_warc(tmp_path / "a.warc.gz", [pages[0]])
    write_warc(tmp_path / "b.warc.gz", [pages[1]])
    files = [str(tmp_path / "a.warc.gz"), str(tmp_path / "b.warc.gz")]

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(warc_import, "_import_file", stopped)
        with pytest.raises(KeyboardInterrupt):
            import_worker(sqlite_url, files, ImportFilter())
    assert rows(sqlite_url, "SELECT DISTINCT state FROM warc_import_files") == [("pending",)]  # read again at once

    engine = make_engine(sqlite_url)
    with engine.begin() as conn:  # a worker elsewhere holds b.warc.gz
        conn.execute(sa.text("UPDATE warc_import_files SET state = 'leased', lease_owner = 'elsewhere:42',"
                             " lease_expires_at = '2999-01-01 00:00:00' WHERE path LIKE '%b.warc.gz'"))  # fmt: skip
    engine.dispose()
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", *files])
    assert result.exit_code == 0 and "stored 1" in result.stderr, result.output
    assert "1 of 2 files are leased by another worker (elsewhere:42) and were not read here" in result.stderr
    assert "2999-01-01 00:00:00 UTC" in result.stderr


def test_a_file_held_by_a_killed_worker_of_this_machine_is_taken_over_at_once(sqlite_url, tmp_path):
    """After kill -9 of an import, running it again waited out the dead worker's lease (5 minutes),
    saying it was another worker's and exiting 0 having read nothing."""
    with GeneratedSite(pages=1) as site:
        write_warc(tmp_path / "a.warc.gz", fetch_pages(site, [1]))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid names no process now
    upgrade(sqlite_url)
    with make_engine(sqlite_url).begin() as conn:
        conn.execute(sa.text("INSERT INTO warc_import_files (path, state, lease_owner, lease_expires_at)"
                             " VALUES (:path, 'leased', :owner, '2999-01-01 00:00:00')"),
                     {"path": str(tmp_path / "a.warc.gz"), "owner": f"{socket.gethostname()}:{gone.pid}"})  # fmt: skip
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "a.warc.gz")])
    assert result.exit_code == 0 and "stored 1" in result.stderr and "leased by another" not in result.stderr, result.stderr
    assert rows(sqlite_url, "SELECT state FROM warc_import_files") == [("done",)]


def test_files_an_earlier_run_imported_are_named_not_read_again(sqlite_url, tmp_path):
    with GeneratedSite(pages=3) as site:
        pages = fetch_pages(site, [1, 2, 3])
    write_warc(tmp_path / "a.warc.gz", [pages[0]])
    first = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "a.warc.gz")])
    assert first.exit_code == 0 and "earlier run" not in first.stderr, first.stderr
    write_warc(tmp_path / "b.warc.gz", [pages[1]])
    again = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "*.warc.gz")])
    assert again.exit_code == 0, again.output
    assert "stored 1" in again.stderr
    assert "1 of 2 files were imported by an earlier run and not read again (--again reads them)" in again.stderr
    # a.warc.gz replaced at its path by one that holds more (a complete copy of a cut download).
    write_warc(tmp_path / "a.warc.gz", [pages[0], pages[2]])
    forced = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", "--again", str(tmp_path / "*.warc.gz")])
    assert forced.exit_code == 0 and "earlier run" not in forced.stderr, forced.stderr
    assert "stored 1, unchanged 2" in forced.stderr, forced.stderr
    assert len(rows(sqlite_url, "SELECT id FROM articles")) == 3 and duplicate_stories(sqlite_url) == 0


class _WarcServer:
    """Serves WARC files on 127.0.0.1 and counts the GETs of each path. A file listed in ``cut``
    promises more bytes than it sends (a connection that drops mid-download); one in ``no_length``
    sends half of itself with no Content-Length and closes the connection. With ``held``, every
    download hangs until the event is set."""

    def __init__(self, files: dict[str, bytes], cut: frozenset[str] = frozenset(), no_length: frozenset[str] = frozenset(),
                 held: threading.Event | None = None):  # fmt: skip
        self.files, self.cut, self.no_length, self.gets = files, cut, no_length, Counter()
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                served.gets[self.path] += 1
                if held is not None:
                    held.wait(60)
                body = served.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/warc")
                if self.path in served.no_length:  # half the file, then the connection closes
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    return
                self.send_header("Content-Length", str(len(body) + (4096 if self.path in served.cut else 0)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_a_url_that_serves_no_warc_file_leaves_nothing_among_the_downloads(sqlite_url, tmp_path):
    """The page a URL served instead of a WARC file was kept as a .warc download, which failed every
    later `import-warc` of the archive directory ("not a WARC file")."""
    downloads = tmp_path / "archive" / "downloads"
    with _WarcServer({"/latest.warc.gz": b"<html><body>Our archive has moved</body></html>"}) as server:
        url = f"{server.base}/latest.warc.gz"
        for _ in range(2):  # named every time it is given
            result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", url, "--allow-private",
                                              "--download-dir", str(downloads)])  # fmt: skip
            assert result.exit_code == 1 and "1 of the files hold no WARC record" in result.stderr, result.output
            assert [path for path in downloads.rglob("*") if path.is_file()] == []
    later = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "archive")])
    assert "no WARC files" in later.stderr and "not a WARC file" not in later.stderr, later.output


def test_a_warc_file_given_by_url_is_downloaded_kept_and_read_once(sqlite_url, tmp_path):
    with GeneratedSite(pages=3) as site:
        pages = fetch_pages(site, [1, 2, 3])
    write_warc(tmp_path / "day.warc.gz", pages[:2])
    write_warc(tmp_path / "cut.warc.gz", pages[2:])
    files = {"/crawl-data/day.warc.gz": (tmp_path / "day.warc.gz").read_bytes(),
             "/crawl-data/cut.warc.gz": (tmp_path / "cut.warc.gz").read_bytes()}  # fmt: skip
    downloads = tmp_path / "downloads"
    with _WarcServer(files, cut=frozenset({"/crawl-data/cut.warc.gz"})) as server:
        day, cut, gone = (f"{server.base}/crawl-data/{name}" for name in ("day.warc.gz", "cut.warc.gz", "gone.warc.gz"))
        command = ["--db", sqlite_url, "import-warc", day, cut, gone, "--download-dir", str(downloads)]

        refused = CliRunner().invoke(cli, command)
        assert refused.exit_code == 1 and "3 WARC files could not be downloaded" in refused.stderr, refused.output
        assert not server.gets  # a private address is refused before any connection
        assert rows(sqlite_url, "SELECT DISTINCT state FROM warc_import_files") == [("failed",)]

        first = CliRunner().invoke(cli, [*command, "--allow-private"])
        assert first.exit_code == 1, first.output
        assert "stored 2" in first.stderr and "2 WARC files could not be downloaded" in first.stderr
        kept = [path for path in downloads.rglob("*") if path.is_file()]
        assert [path.name.split("-", 1)[1] for path in kept] == ["day.warc.gz"]  # nothing cut short, no .part left
        assert rows(sqlite_url, "SELECT path, state FROM warc_import_files ORDER BY path") == [
            (cut, "failed"), (day, "done"), (gone, "failed")]  # fmt: skip
        raw = CliRunner().invoke(cli, ["--db", sqlite_url, "show", "1", "--raw"])
        assert raw.exit_code == 0 and raw.stdout_bytes in {body for _, body in pages[:2]}

        server.cut = frozenset()  # the connection holds this time
        again = CliRunner().invoke(cli, [*command, "--allow-private"])
        assert "stored 1" in again.stderr and "1 WARC files could not be downloaded" in again.stderr, again.output
        assert "1 of 3 files were imported by an earlier run" in again.stderr
        assert server.gets["/crawl-data/day.warc.gz"] == 1 and server.gets["/crawl-data/cut.warc.gz"] == 2

        # A worker killed after its download: the file it leased is read from the copy kept.
        engine = make_engine(sqlite_url)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE warc_import_files SET state = 'leased', lease_expires_at = '2000-01-01'"))
        engine.dispose()
        resumed = CliRunner().invoke(cli, [*command, "--allow-private"])
        assert resumed.exit_code == 1 and "stored 0" in resumed.stderr, resumed.output  # gone.warc.gz is still gone
        assert server.gets["/crawl-data/day.warc.gz"] == 1 and server.gets["/crawl-data/cut.warc.gz"] == 2
    assert rows(sqlite_url, "SELECT count(*) FROM articles") == [(3,)] and duplicate_stories(sqlite_url) == 0


def test_a_download_cut_where_no_length_tells_is_fetched_again_and_a_bad_download_dir_costs_its_file(
    sqlite_url, tmp_path
):
    with GeneratedSite(pages=4) as site:
        write_warc(tmp_path / "day.warc.gz", fetch_pages(site, [1, 2, 3, 4]))
    body = (tmp_path / "day.warc.gz").read_bytes()
    (tmp_path / "a-file").write_text("not a directory")
    with _WarcServer({"/day.warc.gz": body}, no_length=frozenset({"/day.warc.gz"})) as server:
        url = f"{server.base}/day.warc.gz"
        command = ["--db", sqlite_url, "import-warc", url, "--allow-private", "--download-dir", str(tmp_path / "dl")]
        bad_dir = CliRunner().invoke(cli, [*command[:-1], str(tmp_path / "a-file" / "dl")])
        assert bad_dir.exit_code == 1 and "1 WARC files could not be downloaded" in bad_dir.stderr, bad_dir.output
        cut = CliRunner().invoke(cli, command)
        assert cut.exit_code == 1 and "1 WARC files could not be downloaded" in cut.stderr, cut.output
        assert not [path for path in (tmp_path / "dl").rglob("*") if path.is_file()]  # the cut copy is not kept
        assert rows(sqlite_url, "SELECT state FROM warc_import_files") == [("failed",)]
        server.no_length = frozenset()
        whole = CliRunner().invoke(cli, command)
    assert whole.exit_code == 0, whole.output
    assert rows(sqlite_url, "SELECT count(*) FROM articles") == [(4,)] and duplicate_stories(sqlite_url) == 0


def test_a_url_that_failed_is_not_tried_again_by_the_other_workers_of_one_command(sqlite_url, tmp_path):
    downloads = warc_import.Downloads(str(tmp_path / "dl"), allow_private=True)
    with _WarcServer({}) as server:
        urls = [f"{server.base}/gone.warc.gz"]
        first = import_worker(sqlite_url, urls, ImportFilter(), downloads=downloads)
        second = import_worker(sqlite_url, urls, ImportFilter(), downloads=downloads)  # a second worker of the command
    assert first["error/download-failed"] == 1 and second["error/download-failed"] == 0
    assert server.gets["/gone.warc.gz"] == 1


def test_a_warc_url_with_a_password_is_refused_without_showing_it(sqlite_url):
    url = "https://reader:s3cret@archive.example:8443/a.warc.gz"
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", url])
    assert result.exit_code == 1 and "user name or password" in result.stderr and "s3cret" not in result.output
    assert result.stderr.strip().endswith(": https://archive.example:8443/a.warc.gz"), result.stderr  # its port kept


@pytest.mark.parametrize(("path", "exit_code", "said"), [("", 2, "an empty path"), ("/dev/null", 1, "not a file")])
def test_a_path_that_is_no_file_is_named_for_what_it_is(sqlite_url, path, exit_code, said):
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", path])
    assert result.exit_code == exit_code and said in result.stderr and "no such file" not in result.stderr, result.output


@pytest.mark.parametrize("name", ["none.warc.gz", "none.warc"])
def test_an_export_that_selects_nothing_is_a_warc_file_import_warc_reads(sqlite_url, tmp_path, name):
    upgrade(sqlite_url)
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "export", "--format", "warc", "-o", str(out)])
    assert result.exit_code == 0 and "0 articles written" in result.output, result.output
    with open(out, "rb") as stream:
        records = [(record.rec_type, record.rec_headers.get_header("WARC-Filename")) for record in ArchiveIterator(stream)]
    assert records == [("warcinfo", name)]
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    imported = CliRunner().invoke(cli, ["--db", elsewhere, "import-warc", str(out)])
    assert imported.exit_code == 0, imported.output


@pytest.mark.parametrize("url", ["http:///a.warc.gz", "http://127.0.0.1:99999/a.warc.gz", "http://[::1/a.warc.gz"])
def test_a_warc_url_no_download_can_reach_is_a_usage_error_not_a_file_left_to_retry(sqlite_url, url):
    upgrade(sqlite_url)
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", url, "--allow-private"])
    assert result.exit_code == 2 and url in result.stderr, result.output
    assert rows(sqlite_url, "SELECT count(*) FROM warc_import_files")[0][0] == 0


def _sigterm_once_leased(database_url: str, tmp_path, names: list[str], *options: str):
    """Run import-warc on ``names`` served by a server whose downloads hang, send SIGTERM to the
    command's process once every file is leased; returns the process, its stderr and the pids of
    the workers that held the files."""
    import signal
    import time

    with GeneratedSite(pages=len(names)) as site:
        pages = fetch_pages(site, range(1, len(names) + 1))
    for name, page in zip(names, pages, strict=True):
        write_warc(tmp_path / name, [page])
    release = threading.Event()
    with _WarcServer({f"/{name}": (tmp_path / name).read_bytes() for name in names}, held=release) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "--db", database_url, "import-warc",
             *(f"{server.base}/{name}" for name in names), *options, "--allow-private",
             "--download-dir", str(tmp_path / "dl")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            for _ in range(900):  # until the workers hold every file
                if rows_or_none(database_url, "SELECT state FROM warc_import_files") == [("leased",)] * len(names):
                    break
                time.sleep(0.1)
            owners = rows(database_url, "SELECT lease_owner FROM warc_import_files")
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=90)
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
    return process, stderr, [int(owner.rsplit(":", 1)[1]) for (owner,) in owners]


def test_sigterm_stops_an_import_as_ctrl_c_does(sqlite_url, tmp_path):
    """A service manager's SIGTERM: the run says it was interrupted and the file is given back."""
    process, stderr, _ = _sigterm_once_leased(sqlite_url, tmp_path, ["day.warc.gz"])
    assert process.returncode != 0, stderr
    assert rows(sqlite_url, "SELECT state FROM warc_import_files") == [("pending",)]
    assert rows(sqlite_url, "SELECT status FROM crawl_runs") == [("interrupted",)], stderr


def test_sigterm_to_the_main_process_alone_stops_every_worker(sqlite_url, tmp_path):
    """``kill PID`` of a --workers 2 import: the workers stop too, each giving its file back, instead
    of going on importing after the command has ended."""
    process, stderr, workers = _sigterm_once_leased(sqlite_url, tmp_path, ["one.warc.gz", "two.warc.gz"], "--workers", "2")
    assert process.returncode != 0, stderr
    assert rows(sqlite_url, "SELECT state FROM warc_import_files") == [("pending",), ("pending",)], stderr
    assert rows(sqlite_url, "SELECT status FROM crawl_runs") == [("interrupted",), ("interrupted",)], stderr
    assert rows(sqlite_url, "SELECT count(*) FROM articles") == [(0,)]
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def rows_or_none(database_url: str, query: str):
    """The rows, or None while the command has not made the table yet."""
    try:
        return rows(database_url, query)
    except sa.exc.OperationalError:
        return None


@pytest.mark.parametrize("taken_over", [False, True])
def test_a_long_download_renews_its_lease_and_one_taken_over_is_left_whole(sqlite_url, tmp_path, monkeypatch, taken_over):
    from crawler import page_fetch, warc_import
    from storage import archive as archive_store

    with GeneratedSite(pages=2) as site:
        write_warc(tmp_path / "day.warc.gz", fetch_pages(site, [1, 2]))
    renewals = []

    def renew(session, path, owner, lease):
        renewals.append(path)
        return not taken_over

    monkeypatch.setattr(warc_import, "KEEP_ALIVE_SECONDS", 0.0)
    monkeypatch.setattr(page_fetch, "DOWNLOAD_CHUNK_BYTES", 1024)
    monkeypatch.setattr(archive_store, "renew_import_lease", renew)
    downloads = warc_import.Downloads(str(tmp_path / "downloads"), allow_private=True)
    with _WarcServer({"/day.warc.gz": (tmp_path / "day.warc.gz").read_bytes()}) as server:
        url = f"{server.base}/day.warc.gz"
        counts = import_worker(sqlite_url, [url], ImportFilter(), downloads=downloads)
    left = sorted(path.name for path in (tmp_path / "downloads").rglob("*") if path.is_file())
    if taken_over:  # the other worker downloads and imports it; this one leaves no half file behind
        assert renewals == [url] and left == [] and counts["stored"] == 0
        assert rows(sqlite_url, "SELECT state FROM warc_import_files") == [("leased",)]
    else:
        chunks = -(-(tmp_path / "day.warc.gz").stat().st_size // 1024)
        assert renewals.count(url) >= chunks and len(left) == 1 and counts["stored"] == 2


def test_an_imported_page_keeps_its_validators_for_the_next_conditional_request(sqlite_url, tmp_path):
    with GeneratedSite(pages=1) as site:
        [(url, body)] = fetch_pages(site, [1])
    path = tmp_path / "a.warc.gz"
    with open(path, "wb") as out:
        response(WARCWriter(out, gzip=True, warc_version="WARC/1.1"), url, body,
                 headers=(("ETag", '"v7"'), ("Last-Modified", "Tue, 01 Dec 2026 08:00:00 GMT")))  # fmt: skip
    upgrade(sqlite_url)
    assert import_worker(sqlite_url, [str(path)], ImportFilter())["stored"] == 1
    assert rows(sqlite_url, "SELECT etag, last_modified FROM articles") == [('"v7"', "Tue, 01 Dec 2026 08:00:00 GMT")]


def test_host_and_date_filters(sqlite_url, tmp_path):
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    path = tmp_path / "a.warc.gz"
    write_warc(path, pages)
    upgrade(sqlite_url)
    counts = import_worker(sqlite_url, [str(path)], ImportFilter(host="*.example.org"))
    assert (counts["stored"], counts["skipped/host-filter"]) == (0, 2)
    # A site on a port is named host:port (its source's name): the port is matched when given.
    port = urlsplit(pages[0][0]).port
    reopen(sqlite_url)
    assert import_worker(sqlite_url, [str(path)], ImportFilter(host=f"127.0.0.1:{port + 1}"))["skipped/host-filter"] == 2
    reopen(sqlite_url)
    assert import_worker(sqlite_url, [str(path)], ImportFilter(host=f"127.0.0.1:{port}"))["stored"] == 2


def reopen(database_url: str) -> None:
    """Every file of the import list pending again, as ``import-warc --again`` leaves them."""
    with make_engine(database_url).begin() as conn:
        conn.execute(sa.text("UPDATE warc_import_files SET state = 'pending'"))


def test_a_long_stretch_of_skipped_records_still_renews_the_lease_and_says_the_run_is_alive(
    sqlite_url, tmp_path, monkeypatch
):
    """A --host filter over a CC-NEWS file skips nearly every record: were the lease renewed only
    when a batch is written, it would lapse and hand the file to a second worker, and the run
    would look killed to the next command."""
    from crawler import warc_import
    from storage import archive as archive_store
    from storage import runs as run_log

    with GeneratedSite(pages=3) as site:
        pages = fetch_pages(site, [1, 2, 3])
    path = tmp_path / "elsewhere.warc.gz"
    write_warc(path, pages * 10)
    upgrade(sqlite_url)
    renewals, beats = [], []
    renew, beat = archive_store.renew_import_lease, run_log.beat
    monkeypatch.setattr(warc_import, "KEEP_ALIVE_SECONDS", 0.0)  # every record is "a minute later"
    monkeypatch.setattr(archive_store, "renew_import_lease", lambda *a, **k: renewals.append(a[1]) or renew(*a, **k))
    monkeypatch.setattr(run_log, "beat", lambda *a, **k: beats.append(a[1]) or beat(*a, **k))
    counts = import_worker(sqlite_url, [str(path)], ImportFilter(host="*.example.org"))
    assert (counts["stored"], counts["skipped/host-filter"]) == (0, 30)
    assert renewals == [str(path)] * 30
    assert len(beats) == 30
    assert rows(sqlite_url, "SELECT state FROM warc_import_files") == [("done",)]


@pytest.mark.parametrize("fails_midway", [False, True], ids=["at-the-end", "after-an-error"])
def test_a_run_that_cannot_be_recorded_at_its_end_does_not_pass_for_a_success(
    sqlite_url, tmp_path, monkeypatch, fails_midway
):
    """The store gone when the run is closed: a clean import must not return as if all were
    written; an import already failing keeps its own error, not the store's."""
    from crawler import warc_import
    from storage import runs as run_log

    with GeneratedSite(pages=1) as site:
        pages = fetch_pages(site, [1])
    path = tmp_path / "a.warc.gz"
    write_warc(path, pages)
    upgrade(sqlite_url)

    def store_gone(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE crawl_runs", {}, Exception("database is gone"))

    def reading_breaks(*args, **kwargs):
        raise RuntimeError("the worker broke")

    monkeypatch.setattr(run_log, "finish_run", store_gone)
    if fails_midway:
        monkeypatch.setattr(warc_import, "_import_file", reading_breaks)
    expected = RuntimeError if fails_midway else sa.exc.OperationalError
    with pytest.raises(expected):
        import_worker(sqlite_url, [str(path)], ImportFilter())


def test_publishers_signals_of_headers_and_meta_are_recorded_and_can_refuse(database_url, tmp_path):
    with GeneratedSite(pages=4) as site:
        pages = fetch_pages(site, [1, 2, 3, 4])
    (reserved_url, reserved), (noarchive_url, plain), (free_url, free), (later_url, later_page) = pages
    noarchive = plain.replace(b"<head>", b'<head><meta name="robots" content="noarchive">', 1)
    assert noarchive != plain
    path = tmp_path / "signals.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        response(writer, reserved_url, reserved, headers=(("TDM-Reservation", "1"), ("X-Robots-Tag", "noai")))
        response(writer, noarchive_url, noarchive)
        response(writer, free_url, free)
    upgrade(database_url)
    result = CliRunner().invoke(cli, ["--db", database_url, "import-warc", str(path)])
    assert result.exit_code == 0, result.output
    found = rows(database_url, "SELECT a.url, s.tdm_reserved, s.tdm_origin, s.noarchive, s.noai FROM articles a "
                               "JOIN article_signals s ON s.article_id = a.id")  # fmt: skip
    assert {row[0]: tuple(row[1:]) for row in found} == {
        reserved_url: (True, "header", False, True),
        noarchive_url: (None, None, True, False),
        free_url: (None, None, False, False),
    }
    listed = CliRunner().invoke(cli, ["--db", database_url, "articles", "--tdm-allowed", "--exclude-noarchive",
                                      "--format", "json"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    assert [article["url"] for article in json.loads(listed.output)] == [free_url]

    # NEWSDESK_REFUSE_TDM_RESERVED, read by the command: a reserved page is counted as skipped, never stored.
    later = tmp_path / "later.warc.gz"
    with open(later, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        response(writer, later_url, later_page, headers=(("tdm-reservation", "1"),))
    result = CliRunner().invoke(cli, ["--db", database_url, "import-warc", str(later)],
                                env={"NEWSDESK_REFUSE_TDM_RESERVED": "true"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "skipped: tdm-reserved 1" in result.stderr
    assert rows(database_url, f"SELECT count(*) FROM articles WHERE url = '{later_url}'") == [(0,)]
    [(outcome, reason)] = rows(database_url, f"SELECT outcome, reason FROM fetch_log WHERE url = '{later_url}'")
    assert outcome == "skipped" and reason.startswith("tdm-reserved"), reason


def test_import_of_our_own_archive_into_an_empty_store_reproduces_the_corpus(sqlite_url, tmp_path):
    crawled = f"sqlite:///{tmp_path / 'crawled' / 'c.db'}"
    (tmp_path / "crawled").mkdir()
    with GeneratedSite(pages=30) as site:
        done = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={site.base_url}/",
             "-a", "source=generated", "-s", f"NEWSDESK_DATABASE_URL={crawled}",
             "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "-s", "AUTOTHROTTLE_ENABLED=false",
             "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-s", "LOG_LEVEL=WARNING"],
            cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "crawled" / "archive" / "*.warc.gz")])
    assert result.exit_code == 0, result.output

    def corpus(url: str) -> tuple[set, set]:
        found = rows(url, "SELECT canonical_url, text, cluster_id FROM articles")
        stories = {(canonical, story_key(text)) for canonical, text, _ in found}
        clusters: dict = {}
        for canonical, _, cluster in found:
            clusters.setdefault(cluster, set()).add(canonical)
        return stories, {frozenset(members) for members in clusters.values()}

    assert corpus(sqlite_url) == corpus(crawled)
    assert len(corpus(sqlite_url)[0]) == 30
    # And each story with every field a crawl stores: the Markdown, the validators, the story's URLs.
    stored_fields = (
        "canonical_url, url, title, text, markdown, authors, published_at, modified_at, language, description,"
        " section, tags, image_url, word_count, etag, last_modified"
    )
    articles = f"SELECT {stored_fields} FROM articles ORDER BY canonical_url"
    assert rows(sqlite_url, articles) == rows(crawled, articles)
    assert all(markdown for (markdown,) in rows(sqlite_url, "SELECT markdown FROM articles"))
    story_urls = "SELECT url, rendition FROM article_urls ORDER BY url"
    assert rows(sqlite_url, story_urls) == rows(crawled, story_urls)
    # Every HTML page read is in the import run's crawl log with what became of it, as in a crawl's.
    logged = dict(rows(sqlite_url, "SELECT url, outcome || ': ' || coalesce(reason, '') FROM fetch_log"))
    assert logged[f"{site.base_url}/"].startswith("not-an-article: hub"), logged[f"{site.base_url}/"]
    [(counts,)] = rows(sqlite_url, "SELECT counts FROM crawl_runs")
    counts = json.loads(counts)
    assert len(logged) == counts["stored"] + counts["skipped/not-an-article"] + counts.get("duplicate", 0)

    # export --format warc writes the captures behind the articles: enough to rebuild them elsewhere.
    exported = tmp_path / "shared.warc.gz"
    result = CliRunner().invoke(cli, ["--db", crawled, "export", "--format", "warc", "--since", "2000-01-01",
                                      "-o", str(exported)])  # fmt: skip
    assert result.exit_code == 0, result.output
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    result = CliRunner().invoke(cli, ["--db", elsewhere, "import-warc", str(exported)])
    assert result.exit_code == 0, result.output
    assert corpus(elsewhere)[0] == corpus(crawled)[0]


@pytest.mark.postgres
def test_two_workers_on_postgresql_split_the_files_and_store_nothing_twice(postgres_url, tmp_path):
    with GeneratedSite(pages=40) as site:
        pages = fetch_pages(site, range(1, 41))
    files = []
    for index in range(8):
        path = tmp_path / f"part-{index}.warc.gz"
        # Overlapping files: each page is in two of them.
        write_warc(path, pages[index * 5 : index * 5 + 5] + pages[(index * 5 + 5) % 40 : (index * 5 + 5) % 40 + 5])
        files.append(str(path))
    upgrade(postgres_url)
    command = [sys.executable, "-m", "crawler.cli", "--db", postgres_url, "import-warc", str(tmp_path / "*.warc.gz")]
    workers = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=300)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert rows(postgres_url, "SELECT count(*) FROM warc_import_files WHERE state = 'done'")[0][0] == 8
    # Each file was read by one worker only.
    owners = rows(postgres_url, "SELECT lease_owner, count(*) FROM warc_import_files GROUP BY 1")
    assert sum(n for _, n in owners) == 8
    # "N records in T s ...", followed by a note when the other worker still held a file at the end.
    summaries = [next(line for line in output.splitlines() if " records in " in line) for output in outputs]
    read = sum(int(summary.split(" records in ")[0].replace(",", "")) for summary in summaries)
    assert read == 80
    assert rows(postgres_url, "SELECT count(*) FROM articles")[0][0] == 40
    assert duplicate_stories(postgres_url) == 0


def articles_in_order(database_url: str) -> list[tuple]:
    """What a reader sees of each stored article, in the order they were stored."""
    return rows(database_url, "SELECT url, canonical_url, title, text, authors, published_at, modified_at, language, "
                              "description, section, tags, image_url, word_count, content_hash FROM articles "
                              "ORDER BY id")  # fmt: skip


def test_readers_in_other_processes_store_what_one_reading_in_the_worker_stores(tmp_path):
    with GeneratedSite(pages=40) as site:
        pages = fetch_pages(site, range(1, 41))
    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        for index, (url, body) in enumerate(pages):
            response(writer, url, body)
            if index % 10 == 0:  # a page not worth a reader, and a copy of a story under another URL
                response(writer, f"{url}.pdf", b"%PDF-1.7", content_type="application/pdf")
                response(writer, f"{url}?copy", body)
        response(writer, "http://example.com/not-a-story", b"<html><body><p>Menu</p></body></html>")
    record_urls = []
    for url, _ in pages:
        record_urls += [url, f"{url}?copy"]
    inline = f"sqlite:///{tmp_path / 'inline.db'}"
    pooled = f"sqlite:///{tmp_path / 'pooled.db'}"
    upgrade(inline)
    upgrade(pooled)
    counts_inline = import_worker(inline, [str(path)], ImportFilter(), readers=1)
    counts_pooled = import_worker(pooled, [str(path)], ImportFilter(), readers=2)

    assert counts_pooled == counts_inline
    assert counts_inline["stored"] >= 40 and counts_inline["skipped/not-an-article"] == 1
    stored = articles_in_order(pooled)
    assert stored == articles_in_order(inline)
    # Stored in the order of the file's records, whichever reader finished first.
    stored_urls = [url for url, *_ in stored]
    assert stored_urls == [url for url in record_urls if url in stored_urls] and len(stored_urls) >= 40
    captures = "SELECT url, record_id, \"offset\", length FROM captures ORDER BY id"
    assert rows(pooled, captures) == rows(inline, captures)
    assert duplicate_stories(pooled) == 0


def test_a_page_whose_reader_dies_or_hangs_is_an_error_and_the_rest_of_the_file_is_stored(tmp_path):
    with GeneratedSite(pages=6) as site:
        pages = fetch_pages(site, range(1, 7))
    path = tmp_path / "broken.warc.gz"
    crash_url, hang_url = f"{pages[1][0]}/crash", f"{pages[3][0]}/hang"
    write_warc(path, [pages[0], (crash_url, pages[1][1]), pages[2], (hang_url, pages[3][1]), pages[4], pages[5]])
    database_url = f"sqlite:///{tmp_path / 'import.db'}"
    upgrade(database_url)
    # A process of its own, whose fork server (and so every reader) loads the breaking reader.
    script = (
        "import json, sys\n"
        "from storage import processes\n"
        "processes.forkserver_context('support.breaking_reader')\n"
        "from crawler import settings\n"
        "settings.NEWSDESK_EXTRACT_TIMEOUT = 5.0\n"
        "from crawler.warc_import import ImportFilter, import_worker\n"
        f"counts = import_worker({database_url!r}, [{str(path)!r}], ImportFilter(), readers=2)\n"
        "print(json.dumps(counts))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["error/extraction-crashed"] == 1 and counts["error/extraction-timeout"] == 1
    assert (counts["records"], counts["stored"]) == (6, 4)
    assert crash_url in done.stderr and hang_url in done.stderr
    stored = {url for (url,) in rows(database_url, "SELECT url FROM articles")}
    assert stored == {pages[n][0] for n in (0, 2, 4, 5)}
    assert {url for (url,) in rows(database_url, "SELECT url FROM captures")} == stored
    assert rows(database_url, "SELECT state FROM warc_import_files") == [("done",)]


def test_a_reading_bug_is_an_error_of_the_run_and_the_command_exits_non_zero(sqlite_url, tmp_path, monkeypatch):
    """An exception in newsdesk's own reading code is not a page that is no article: it is counted
    as an error, the run says so and the command exits non-zero, and the file goes on."""
    from crawler.extraction import article as extraction

    with GeneratedSite(pages=3) as site:
        pages = fetch_pages(site, [1, 2, 3])
    path = tmp_path / "a.warc.gz"
    buggy_url = f"{pages[1][0]}/bug"
    write_warc(path, [pages[0], (buggy_url, pages[1][1]), pages[2]])
    extract = extraction._extract

    def raising_on_one_page(html, url, http_charset):
        if url == buggy_url:
            raise KeyError("a bug")
        return extract(html, url, http_charset)

    monkeypatch.setattr(extraction, "_extract", raising_on_one_page)
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(path), "--readers", "1"])

    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1].startswith("Error: 1 pages failed")
    assert "stored 2" in result.stderr and "error/extraction-failed 1" in result.stderr
    [(status, error)] = rows(sqlite_url, "SELECT status, error FROM crawl_runs")
    assert status == "finished-with-errors" and "1 pages failed" in error
    assert {url for (url,) in rows(sqlite_url, "SELECT url FROM articles")} == {pages[0][0], pages[2][0]}


def test_the_crawls_limits_on_html_elements_and_text_apply_to_imported_pages(sqlite_url, tmp_path, monkeypatch):
    from crawler import settings as crawl_settings

    with GeneratedSite(pages=3) as site:
        pages = fetch_pages(site, [1, 2, 3])
    elements = max(len(lxml.html.fromstring(body).xpath("//*")) for _, body in pages)

    def at_top_of_body(body: bytes, html: bytes) -> bytes:
        return re.sub(rb"(<body[^>]*>)", lambda m: m.group(1) + html, body, count=1)

    many_elements = at_top_of_body(pages[1][1], b"<i></i>" * elements)
    # The story only after NEWSDESK_MAX_HTML_BYTES: cut there, nothing of it is read.
    padded = at_top_of_body(pages[2][1], b"<!-- " + b"x" * 2 * len(many_elements) + b" -->")
    path = tmp_path / "a.warc.gz"
    write_warc(path, [pages[0], (f"{pages[1][0]}?big", many_elements), (f"{pages[2][0]}?padded", padded)])
    monkeypatch.setattr(crawl_settings, "NEWSDESK_MAX_PAGE_ELEMENTS", elements + 10)
    monkeypatch.setattr(crawl_settings, "NEWSDESK_MAX_ARTICLE_CHARS", 200)
    monkeypatch.setattr(crawl_settings, "NEWSDESK_MAX_HTML_BYTES", len(many_elements) + 10)
    upgrade(sqlite_url)

    counts = import_worker(sqlite_url, [str(path)], ImportFilter())

    assert counts["skipped/over-max-elements"] == 1
    assert counts["html_cut"] == 1 and counts["skipped/not-an-article"] == 1
    assert counts["stored"] == 1 and counts["text_cut"] == 1
    [(url, length)] = rows(sqlite_url, "SELECT url, length(text) FROM articles")
    assert url == pages[0][0] and length <= 200


def test_workers_registering_the_same_files_at_once_both_go_on(postgres_url):
    """Two workers add one list in overlapping transactions: the second waits for the first's rows
    and leaves them, instead of failing on the duplicate path (as one did in CI)."""
    import threading

    from sqlalchemy.orm import Session

    from storage import archive as archive_store

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    paths = ["/warcs/a.warc.gz", "/warcs/b.warc.gz"]
    errors = []
    with Session(engine) as first:
        archive_store.register_import_files(first, paths)  # not committed yet

        def second() -> None:
            try:
                with Session(engine) as session, session.begin():
                    archive_store.register_import_files(session, paths)
            except Exception as exc:  # noqa: BLE001 - the assertion below reports it
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)  # it waits on the first's uncommitted rows
        first.commit()
    thread.join(timeout=30)
    assert not errors
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).where(sa.text("path like '/warcs/%'")).select_from(sa.text("warc_import_files"))) == 2


def test_a_capture_whose_record_is_corrupt_or_cut_is_one_line_for_show_and_reextract(sqlite_url, tmp_path, caplog):
    """`show --raw` of a capture whose gzip member was damaged printed a traceback quoting
    kilobytes of its bytes, and one whose file was cut short printed the page cut short."""
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    noise = random.Random(5).randbytes(60_000).hex().encode()
    pages = [(url, body.replace(b"</body>", b"<!-- " + noise + b" --></body>")) for url, body in pages]
    path = tmp_path / "day.warc.gz"
    write_warc(path, pages)
    assert CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(path)]).exit_code == 0
    ids = dict(rows(sqlite_url, "SELECT url, id FROM articles"))
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        (first, first_length), (second, _) = [(records.get_record_offset(), records.get_record_length()) for _ in records]
    data = bytearray(path.read_bytes())
    data[first + first_length // 2 : first + first_length // 2 + 64] = bytes(64)  # page 1's member corrupt
    path.write_bytes(bytes(data[: second + (len(data) - second) // 2]))  # page 2's record cut in half
    for url, said in [(pages[0][0], "CorruptMember"), (pages[1][0], "bytes short of its length")]:
        shown = CliRunner().invoke(cli, ["--db", sqlite_url, "show", str(ids[url]), "--raw"])
        line = shown.stderr.strip()
        assert shown.exit_code == 1 and "\n" not in line and said in line and len(line) < 400, shown.output
        assert shown.stdout_bytes == b""
    caplog.clear()
    summary = CliRunner().invoke(cli, ["--db", sqlite_url, "reextract", "--all"]).stderr.strip()
    assert summary.endswith("skipped: capture unreadable 2"), summary
    assert all(len(record.getMessage()) < 600 for record in caplog.records), [r.getMessage()[:200] for r in caplog.records]


def test_the_summary_says_updated_apart_from_stored(sqlite_url, tmp_path):
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    write_warc(tmp_path / "first.warc.gz", pages)
    url, body = pages[0]
    edited = re.sub(rb"<p>[^<]{40,}</p>", b"<p>" + b"The council has since voted the plan down, forty to three. " * 3 + b"</p>",
                    body, count=1)  # fmt: skip
    assert edited != body
    write_warc(tmp_path / "later.warc.gz", [(url, edited)])  # written later, so a later capture: an edit
    first = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "first.warc.gz")])
    assert first.exit_code == 0 and "stored 2" in first.stderr and "updated" not in first.stderr, first.stderr
    later = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "later.warc.gz")])
    assert later.exit_code == 0 and "stored 0, updated 1" in later.stderr, later.stderr
    assert rows(sqlite_url, "SELECT count(*) FROM article_versions") == [(3,)]


def test_a_record_whose_url_is_no_web_address_is_skipped_and_the_file_goes_on(sqlite_url, tmp_path):
    with GeneratedSite(pages=2) as site:
        pages = fetch_pages(site, [1, 2])
    bad_urls = ["http://a b.example/story", "http://999.1.1.1/story", "http://news.example%2Fstory/",
                "http://news.example:99999/story", "http://[::1/story"]  # fmt: skip
    write_warc(tmp_path / "mixed.warc.gz", [pages[0], *((url, pages[1][1]) for url in bad_urls), pages[1]])
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import-warc", str(tmp_path / "mixed.warc.gz")])
    assert result.exit_code == 0 and "stored 2" in result.stderr, result.output
    assert f"not-a-web-address {len(bad_urls)}" in result.stderr, result.stderr
    assert {url for (url,) in rows(sqlite_url, "SELECT url FROM articles")} == {pages[0][0], pages[1][0]}
