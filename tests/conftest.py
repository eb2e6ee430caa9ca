"""Shared fixtures: throwaway databases on SQLite and PostgreSQL, and the served demo web.

PostgreSQL tests read NEWSDESK_TEST_POSTGRES_URL; CI sets it, so there they always run. Each PostgreSQL test gets a schema of its own, so reruns start clean.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'newsdesk.db'}"


def _postgres_admin_url() -> str:
    url = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("NEWSDESK_TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture
def postgres_url(monkeypatch, tmp_path) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards.

    A crawl into a server database archives into ``./archive`` by default, which for these tests
    is the checkout: the environment points every crawl the test starts at its tmp folder instead.
    """
    monkeypatch.setenv("NEWSDESK_ARCHIVE_DIR", str(tmp_path / "server-archive"))
    admin_url = _postgres_admin_url()
    schema = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def demo_web():
    from crawler.demo import DemoWeb

    with DemoWeb() as web:
        yield web


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def scrapy_crawl() -> Callable[..., subprocess.CompletedProcess]:
    """Runs ``scrapy crawl news ARGS`` from the checkout root, as a user would, into a database;
    loopback allowed and no throttling (the test servers are ours). Fails the test on an error exit."""

    def run(database_url: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        command = [
            sys.executable, "-m", "scrapy", "crawl", "news",
            "-s", f"NEWSDESK_DATABASE_URL={database_url}",
            "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
            "-s", "AUTOTHROTTLE_ENABLED=false",
            *args,
        ]  # fmt: skip
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    return run
