"""storage.export on SQLite and PostgreSQL: round trips, overwrite refusal, atomic writes."""

from __future__ import annotations

import csv
import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from storage import export as export_module
from storage.articles import ArticleIn, store_articles
from storage.db import open_database
from storage.export import EXPORT_COLUMNS, ExportError, export_articles
from storage.queries import ArticleFilter, iter_articles

T0 = datetime(2026, 10, 1, 12, 30, 15, 250000, tzinfo=UTC)


def _item(n: int) -> ArticleIn:
    url = f"https://site{n % 3}.example/{n}"
    text = f"Article number {n} ünïcode “quotes”, commas,\nand a second line. " + " ".join(f"w{n}x{i}" for i in range(60))
    return ArticleIn(
        source=f"site{n % 3}", url=url, canonical_url=url, title=f'Title {n} "quoted"', text=text,
        authors=(f"Author {n}", "Second, Author"), published_at=None if n == 7 else T0 + timedelta(hours=n),
        modified_at=None, language="en", description=None, section="s", tags=("t1", f"t{n}"), image_url=None,
        word_count=len(text.split()), fetched_at=T0 + timedelta(days=1),
    )  # fmt: skip


@pytest.fixture
def sessions(database_url):
    factory = open_database(database_url)
    with factory.begin() as session:
        store_articles(session, [_item(n) for n in range(23)])
    yield factory
    factory.kw["bind"].dispose()


def _expected(sessions, f: ArticleFilter | None = None) -> list[dict]:
    f = f or ArticleFilter()
    with sessions() as session:
        return [row.as_dict() for row in iter_articles(session, f)]


def _export(sessions, path, fmt, f: ArticleFilter | None = None, **kw) -> int:
    f = f or ArticleFilter()
    with sessions() as session:
        return export_articles(session, f, path, fmt, **kw)


def test_jsonl_round_trip(sessions, tmp_path):
    path = tmp_path / "out.jsonl"
    assert _export(sessions, path, "jsonl") == 23
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows == _expected(sessions)


def test_csv_round_trip(sessions, tmp_path):
    path = tmp_path / "out.csv"
    f = ArticleFilter(source="site1")
    assert _export(sessions, path, "csv", f) == 8
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = _expected(sessions, f)
    assert [r["canonical_url"] for r in rows] == [e["canonical_url"] for e in expected]
    for got, want in zip(rows, expected):
        assert list(got) == list(EXPORT_COLUMNS)
        assert got["text"] == want["text"] and got["title"] == want["title"]
        assert json.loads(got["authors"]) == want["authors"]
        assert got["published_at"] == (want["published_at"] or "")


def test_parquet_round_trip_in_row_groups(sessions, tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setattr(export_module, "PARQUET_BATCH", 5)
    path = tmp_path / "out.parquet"
    assert _export(sessions, path, "parquet") == 23
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 5
    with sessions() as session:
        expected = [row for row in iter_articles(session, ArticleFilter())]
    got = parquet.read().to_pylist()
    assert len(got) == len(expected)
    for row, want in zip(got, expected):
        assert row == {name: getattr(want, name) for name in EXPORT_COLUMNS}


def test_empty_parquet_has_the_schema(sessions, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "none.parquet"
    assert _export(sessions, path, "parquet", ArticleFilter(source="nobody")) == 0
    assert pq.read_table(path).column_names == list(EXPORT_COLUMNS)


def test_refuses_to_overwrite_without_force(sessions, tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("keep me")
    with pytest.raises(ExportError, match="exists"):
        _export(sessions, path, "jsonl")
    assert path.read_text() == "keep me"
    assert _export(sessions, path, "jsonl", force=True) == 23
    assert len(path.read_text().splitlines()) == 23


def test_an_error_midway_leaves_no_partial_file(sessions, tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "out.jsonl"
    path.write_text("previous export")

    def failing(rows, handle, on_progress):
        handle.write(json.dumps(next(rows).as_dict()))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_module, "_write_jsonl", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _export(sessions, path, "jsonl", force=True)
    assert path.read_text() == "previous export"
    assert sorted(os.listdir(tmp_path / "out")) == ["out.jsonl"]  # the temporary file is gone too


def test_missing_pyarrow_is_one_line(sessions, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ExportError, match=r"pip install 'newsdesk\[export\]'"):
        _export(sessions, tmp_path / "x.parquet", "parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_progress_is_reported(sessions, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "PARQUET_BATCH", 10)
    seen: list[int] = []
    _export(sessions, tmp_path / "p.jsonl", "jsonl", on_progress=seen.append)
    assert seen == [10, 20, 23]


def _device_like_dev_full(tmp_path):
    """A node with /dev/full's device number in tmp_path, so no test can ever replace the real one."""
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    node = tmp_path / "full"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.stat("/dev/full").st_rdev)
    return node


def _fifo(tmp_path):
    node = tmp_path / "fifo"
    os.mkfifo(node)
    return node


@pytest.mark.parametrize("make_node", [_device_like_dev_full, _fifo])
@pytest.mark.parametrize("through_symlink", [False, True])
def test_export_never_replaces_a_device_or_fifo(sqlite_url, tmp_path, make_node, through_symlink):
    sessions = open_database(sqlite_url)
    node = make_node(tmp_path)
    target = node
    if through_symlink:
        target = tmp_path / "link"
        target.symlink_to(node)
    with pytest.raises(ExportError, match="not a regular file"):
        _export(sessions, target, "jsonl", force=True)
    assert not stat.S_ISREG(os.stat(node).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_export_through_a_symlink_writes_the_file_it_names(sqlite_url, tmp_path):
    sessions = open_database(sqlite_url)
    real = tmp_path / "real.jsonl"
    real.write_text("old")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    _export(sessions, link, "jsonl", force=True)
    assert link.is_symlink()
    assert real.read_text() == ""


def test_dash_writes_to_standard_output_and_a_file_named_for_another_format_is_refused(sqlite_url, tmp_path):
    import subprocess
    import sys

    sessions = open_database(sqlite_url)
    with sessions.begin() as session:
        store_articles(session, [_item(n) for n in range(5)])
    command = [sys.executable, "-m", "crawler.cli", "--db", sqlite_url, "export"]
    out = subprocess.run([*command, "--format", "jsonl", "-o", "-"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert [json.loads(line) for line in out.stdout.splitlines()] == _expected(sessions)
    assert "5 articles written to standard output" in out.stderr and not (tmp_path / "-").exists()
    parquet = subprocess.run([*command, "--format", "parquet", "-o", "-"], cwd=tmp_path, capture_output=True, text=True)
    assert parquet.returncode == 1 and "Parquet cannot be written to standard output" in parquet.stderr
    mismatch = subprocess.run([*command, "--format", "warc", "-o", "corpus.jsonl"], cwd=tmp_path, capture_output=True,
                              text=True)  # fmt: skip
    assert mismatch.returncode == 2 and "corpus.jsonl is named as jsonl but --format is warc" in mismatch.stderr
    assert not (tmp_path / "corpus.jsonl").exists()
    bz2 = subprocess.run([*command, "--format", "warc", "-o", "corpus.warc.bz2"], cwd=tmp_path, capture_output=True, text=True)
    assert bz2.returncode == 2 and "gzip only, not .bz2" in bz2.stderr and not (tmp_path / "corpus.warc.bz2").exists()
    # Stored without the archive (as here): a WARC export of them says why it holds none.
    warc = subprocess.run([*command, "--format", "warc", "-o", "corpus.warc.gz"], cwd=tmp_path, capture_output=True, text=True)
    assert warc.returncode == 0 and "0 articles written" in warc.stderr, warc.stderr
    assert "5 of the 5 articles selected have no archived capture" in warc.stderr
