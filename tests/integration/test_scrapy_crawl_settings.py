"""``scrapy crawl`` by hand checks its ``-s`` values as ``newsdesk crawl`` does: one line, no crawl."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("setting", "value"),
    [("DOWNLOAD_TIMEOUT", "nan"), ("CONCURRENT_REQUESTS_PER_DOMAIN", "0"), ("NEWSDESK_FRONTIER_BATCH", "0")],
)
def test_a_bad_setting_is_one_usage_line_before_anything_is_fetched(tmp_path, setting, value):
    result = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "crawl", "news", "-a", "start_urls=http://127.0.0.1:9/",
            "-s", f"NEWSDESK_DATABASE_URL=sqlite:///{tmp_path / 'news.db'}", "-s", f"{setting}={value}",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"setting {setting}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "news.db").exists()
