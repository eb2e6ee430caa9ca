"""`newsdesk extract` over many pages: directories, globs, several files, in a real worker pool."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from tests.unit.test_extraction_markdown import STRUCTURED_PAGE


def _story(title: str) -> str:
    return STRUCTURED_PAGE.replace("Pool stays open", title)


@pytest.fixture
def pages(tmp_path):
    folder = tmp_path / "pages"
    (folder / "more").mkdir(parents=True)
    (folder / "a.html").write_text(_story("Ferry timetable changes"), encoding="utf-8")
    (folder / "b.html").write_text("just a line of text, no markup", encoding="utf-8")
    (folder / "more" / "a.html").write_text(_story("Library opens late"), encoding="utf-8")
    (folder / ".hidden.html").write_text(_story("Never read"), encoding="utf-8")
    return folder


def _run(*args: str):
    result = CliRunner().invoke(cli, ["extract", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_a_directory_a_glob_and_a_missing_file_give_one_record_each_in_order(pages, tmp_path):
    missing = tmp_path / "gone.html"
    result = _run(str(pages), str(tmp_path / "pages" / "more" / "*.html"), str(missing), "--jobs", "2")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == [
        str(pages / "a.html"), str(pages / "b.html"), str(pages / "more" / "a.html"),
        str(pages / "more" / "a.html"), str(missing),
    ]  # fmt: skip
    assert [r.get("title") for r in records] == [
        "Ferry timetable changes", None, "Library opens late", "Library opens late", None,
    ]  # fmt: skip
    assert records[1]["error"].startswith("not an article: not-html")
    assert records[4]["error"] == f"cannot read {missing}: No such file or directory"
    assert "## What changes for swimmers" in records[0]["markdown"]
    # Each bad page is named on stderr; a page that could not be read makes the exit non-zero.
    assert f"{missing}: cannot read" in result.stderr
    assert "5 pages: 3 articles, 1 not articles, 1 could not be read" in result.stderr
    assert result.exit_code == 1


def test_markdown_files_in_an_output_directory(pages, tmp_path):
    out = tmp_path / "out"
    result = _run(str(pages), "--format", "markdown", "--output-dir", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["a-2.md", "a.md"]
    first = (out / "a.md").read_text(encoding="utf-8")
    assert first.startswith("# Ferry timetable changes\n\n")
    assert "\n- Morning lanes open at six on weekdays\n" in first
    assert result.stdout == ""


def test_no_progress_bar_when_not_on_a_terminal(pages):
    result = _run(str(pages), "--format", "text", "--jobs", "1")
    assert "━" not in result.stderr and "\r" not in result.stderr
    assert result.stdout.count("Morning lanes open at six on weekdays") == 2


def test_a_progress_bar_on_a_terminal(pages):
    """stderr on a pseudo-terminal, as a user at a shell has it: the bar is drawn there."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "crawler.cli", "extract", str(pages), "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, cwd=Path(__file__).parents[2])
    os.close(terminal)
    drawn: list[bytes] = []

    def read_terminal() -> None:  # read as it is written, or a full terminal buffer blocks the command
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the command closed its end
                return
            if not data:
                return
            drawn.append(data)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    stdout = process.stdout.read()
    process.wait()
    reader.join()
    os.close(controller)
    screen = b"".join(drawn).decode("utf-8", "replace")
    assert "━" in screen and "3/3" in screen
    assert "3 pages: 2 articles, 1 not articles" in screen
    assert len(stdout.splitlines()) == 3 and b"\x1b" not in stdout  # the records stay clean


def test_one_page_keeps_its_one_line_error_and_takes_markdown(pages):
    result = _run(str(pages / "b.html"))
    assert result.exit_code == 1 and result.stderr.strip().endswith("not an article: not-html: no HTML markup")
    result = _run(str(pages / "a.html"), "--format", "markdown")
    assert result.exit_code == 0 and result.stdout.startswith("# Ferry timetable changes\n\n")
    assert "\n## What changes for swimmers\n" in result.stdout


def test_a_page_newsdesks_reading_code_raised_on_could_not_be_read_not_no_article(pages, monkeypatch):
    from crawler.extraction import article as extraction

    extract = extraction._extract

    def raising_on_library(html, url, http_charset):
        if "/more/" in url:
            raise KeyError("a bug")
        return extract(html, url, http_charset)

    monkeypatch.setattr(extraction, "_extract", raising_on_library)
    result = _run(str(pages / "a.html"), str(pages / "more" / "a.html"))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[1]["error"].startswith("extraction-failed: KeyError")
    assert "2 pages: 1 articles, 0 not articles, 1 could not be read" in result.stderr
    assert result.exit_code == 1


def test_standard_input_among_other_pages_is_read_with_worker_processes(pages):
    """The pages are read in worker processes, which have no stdin: '-' is read before they start."""
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", "-", str(pages / "a.html"), "--jobs", "2"],
        input=_story("Harbour bridge reopens").encode(), capture_output=True, timeout=120,
    )  # fmt: skip
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["source"], r.get("title")) for r in records] == [
        ("-", "Harbour bridge reopens"), (str(pages / "a.html"), "Ferry timetable changes"),
    ], result.stderr.decode()[-2000:]  # fmt: skip
