"""Read commands open the database read-only: no write lock, no migration, a read-only file works."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from storage.db import current_revision, upgrade


def _one_line_error(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def _invoke(url: str, *args: str):
    return CliRunner().invoke(cli, ["--db", url, *args])


@pytest.fixture
def world_readable_dir():
    """A directory another user can reach (pytest's tmp_path is private to root)."""
    path = tempfile.mkdtemp(prefix="newsdesk-ro-")
    os.chmod(path, 0o755)
    yield path
    os.chmod(path, 0o755)
    for name in os.listdir(path):
        sub = os.path.join(path, name)
        if os.path.isdir(sub):
            os.chmod(sub, 0o755)
    shutil.rmtree(path)


def test_articles_reads_a_read_only_file_in_a_read_only_directory(world_readable_dir):
    directory = os.path.join(world_readable_dir, "corpus")
    os.mkdir(directory)
    database = os.path.join(directory, "newsdesk.db")
    upgrade(f"sqlite:///{database}")
    os.chmod(database, 0o444)
    os.chmod(directory, 0o555)
    command = [sys.executable, "-m", "crawler.cli", "--db", f"sqlite:///{database}", "articles", "--format", "jsonl"]
    if os.geteuid() == 0:  # root ignores file modes: read as "nobody"
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv to drop to another user")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=world_readable_dir)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(os.listdir(directory)) == ["newsdesk.db"]
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o444


def test_articles_answers_while_a_writer_holds_the_lock(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    writer = sqlite3.connect(tmp_path / "newsdesk.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        result = _invoke(sqlite_url, "runs", "--format", "jsonl")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_a_missing_database_is_one_line_and_not_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert "newsdesk db upgrade" in _one_line_error(_invoke(url, "articles"))
    assert not (tmp_path / "none.db").exists()


def test_a_database_behind_the_schema_is_not_migrated_by_a_read(sqlite_url):
    upgrade(sqlite_url, "0002_frontier")
    for command in (["articles"], ["stats"], ["runs"], ["clusters"], ["show", "1"]):
        assert "newsdesk db upgrade" in _one_line_error(_invoke(sqlite_url, *command))
    assert current_revision(sqlite_url) == "0002_frontier"


def _at_unknown_revision(url: str, database) -> None:
    upgrade(url)
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")


def test_a_database_from_a_newer_newsdesk_is_one_line(sqlite_url, tmp_path):
    _at_unknown_revision(sqlite_url, tmp_path / "newsdesk.db")
    for command in (["articles"], ["db", "upgrade"]):
        assert "newer newsdesk" in _one_line_error(_invoke(sqlite_url, *command))


@pytest.mark.parametrize("revision", ["nosuchrev", "-1", "head+1"])
def test_db_upgrade_to_a_bad_revision_is_one_line(sqlite_url, revision):
    upgrade(sqlite_url)
    assert "revision" in _one_line_error(_invoke(sqlite_url, "db", "upgrade", "--revision", revision))
