"""`newsdesk extract URL` goes through the crawl's address guard and scheme check, hop by hop."""

from __future__ import annotations

import gzip
import http.server
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

import crawler.page_fetch
from crawler.addresses import is_forbidden_address
from crawler.cli import cli

ARTICLE = (
    b"<html><head><title>Internal page</title></head><body><article><h1>Internal page</h1>"
    + b"".join(
        b"<p>Paragraph %d of an internal page: words that must never leave this machine, told once.</p>" % n
        for n in range(30)
    )
    + b"</article></body></html>"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(f"{self.server.server_address[0]}{self.path}")
        port = self.server.server_address[1]
        redirects = {"/to-other-loopback": f"http://127.0.0.2:{port}/secret", "/to-ftp": "ftp://127.0.0.1/secret"}
        if self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(ARTICLE)))
        self.end_headers()
        self.wfile.write(ARTICLE)

    def log_message(self, *args) -> None:
        pass


def _serve(host: str, port: int = 0) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((host, port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers() -> Iterator[int]:
    """The same handler on 127.0.0.1 and 127.0.0.2, on one port; yields the port."""
    _Handler.hits = []
    first = _serve("127.0.0.1")
    port = first.server_address[1]
    try:
        second = _serve("127.0.0.2", port)
    except OSError:
        first.shutdown()
        pytest.skip("127.0.0.2 is not bindable here")
    yield port
    first.shutdown()
    second.shutdown()


def _extract(*args: str):
    return CliRunner().invoke(cli, ["extract", "--format", "text", *args])


def _one_line_error(result) -> str:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_loopback_is_refused_by_default(servers):
    message = _one_line_error(_extract(f"http://127.0.0.1:{servers}/"))
    assert "refused private address" in message
    assert _Handler.hits == []


def test_allow_private_fetches_loopback(servers):
    result = _extract("--allow-private", f"http://127.0.0.1:{servers}/")
    assert result.exit_code == 0, result.output
    assert "Internal page" in result.output


def test_each_redirect_hop_is_checked(servers, monkeypatch):
    """With 127.0.0.1 counted as public, its redirect to 127.0.0.2 is still refused."""
    monkeypatch.setattr(
        crawler.page_fetch, "is_forbidden_address", lambda address: address != "127.0.0.1" and is_forbidden_address(address)
    )
    message = _one_line_error(_extract(f"http://127.0.0.1:{servers}/to-other-loopback"))
    assert "127.0.0.2" in message and "refused" in message
    assert _Handler.hits == ["127.0.0.1/to-other-loopback"]


def test_a_redirect_to_ftp_is_refused(servers):
    message = _one_line_error(_extract("--allow-private", f"http://127.0.0.1:{servers}/to-ftp"))
    assert "only http and https" in message


def test_a_file_or_stdin_is_read_only_up_to_the_crawls_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr("crawler.cli.page.EXTRACT_MAX_BYTES", 1000)
    big = tmp_path / "big.html"
    big.write_bytes(ARTICLE * 10)
    assert "larger than" in _one_line_error(_extract(str(big)))
    result = CliRunner().invoke(cli, ["extract", "-"], input=ARTICLE * 10)
    assert "larger than" in _one_line_error(result)


def test_a_page_saved_with_gzip_is_read_and_a_bomb_or_a_cut_file_is_one_line(tmp_path, monkeypatch):
    plain, packed = tmp_path / "page.html", tmp_path / "page.html.gz"
    plain.write_bytes(ARTICLE)
    packed.write_bytes(gzip.compress(ARTICLE))
    read = _extract(str(packed))
    assert read.exit_code == 0, read.output
    assert read.output == _extract(str(plain)).output
    assert CliRunner().invoke(cli, ["extract", "--format", "text", "-"], input=gzip.compress(ARTICLE)).output == read.output
    cut = tmp_path / "cut.html.gz"
    cut.write_bytes(gzip.compress(ARTICLE)[:-40])
    assert "gzip file cut short" in _one_line_error(_extract(str(cut)))
    monkeypatch.setattr("crawler.cli.page.EXTRACT_MAX_BYTES", 1000)
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(ARTICLE * 1000))  # a few KB that would be 2.5 MB
    assert "larger than" in _one_line_error(_extract(str(bomb)))
