"""Screenshots of each page of the web view for the README: ``.venv/bin/python tests/browser/take_screenshots.py``.

Crawls the demo web (both editions) into a fresh store, serves it and saves docs/screenshots/*.png
with headless Chromium. Not a test: run it by hand when the pages change.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from support.web import crawled_store, serving  # noqa: E402

from storage.db import open_read_only  # noqa: E402
from storage.queries import ArticleFilter, iter_articles  # noqa: E402


def main() -> None:
    out = REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/newsdesk.db"
        crawled_store(database_url)
        with open_read_only(database_url)() as session:
            edited = next(row.id for row in iter_articles(session, ArticleFilter()) if row.version > 1)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1100"):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        pages = {
            "search": "/?q=bridge",
            "article": f"/articles/{edited}",
            "diff": f"/articles/{edited}#diff",
            "clusters": "/clusters",
            "sources": "/sources?days=30",  # health is judged on the last day shown: today
            "runs": "/runs",
        }
        try:
            with serving(database_url) as base:
                for name, path in pages.items():
                    driver.get(base + path)
                    driver.save_screenshot(str(out / f"{name}.png"))
                    print(out / f"{name}.png")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
