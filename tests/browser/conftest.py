"""Headless Chromium (Debian's chromium + chromedriver) driving the web view over a crawled store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from support.web import crawled_store, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _chromium_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is absent: apt-get install -y chromium chromium-driver"
    return None


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, str]:
    """(database URL, demo base URL) of a store crawled from the demo web and a hostile site."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'newsdesk.db'}"
    return database_url, crawled_store(database_url)


@pytest.fixture(scope="module")
def site(store) -> Iterator[str]:
    with serving(store[0]) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser():
    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
