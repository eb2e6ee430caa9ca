"""The web view in a real browser, over a store crawled from the demo web and a hostile site."""

from __future__ import annotations

import collections
from datetime import date, timedelta

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from support.web import HOSTILE_BODY, HOSTILE_TITLE

from crawler.demo import ground_truth
from storage import health
from storage.db import open_read_only
from storage.queries import ArticleFilter, get_article, iter_articles


def _texts(browser, selector: str) -> list[str]:
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, selector)]


def test_search_finds_a_known_story_and_marks_the_match(browser, site):
    (story,) = [a for a in ground_truth(edition=1) if a.path.endswith("/reserve-bank-holds-rates")]
    browser.get(site + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("reserve bank")
    box.submit()
    assert story.title in _texts(browser, ".result .title")
    assert "reserve" in [text.lower() for text in _texts(browser, ".result mark")]


def test_cluster_page_shows_each_site_that_carried_the_syndicated_story(browser, site):
    carried = {a.site: a.title for a in ground_truth(edition=1) if a.syndication_group == "wire-reserve-bank-rates"}
    browser.get(site + "/clusters")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.cluster")
    shown = [
        {row.find_element(By.CSS_SELECTOR, ".site").text: row.find_element(By.CSS_SELECTOR, "a").text
         for row in section.find_elements(By.CSS_SELECTOR, "tbody tr")}
        for section in sections
    ]  # fmt: skip
    assert carried in shown


def test_article_page_shows_the_edit_side_by_side(browser, site, store):
    database_url, demo_base = store
    before = {a.path: a for a in ground_truth(edition=1)}
    (edited,) = [a for a in ground_truth(edition=2) if a.path in before and a.body != before[a.path].body]
    (old_paragraph,) = set(before[edited.path].body.split("\n\n")) - set(edited.body.split("\n\n"))
    (new_paragraph,) = set(edited.body.split("\n\n")) - set(before[edited.path].body.split("\n\n"))
    with open_read_only(database_url)() as session:
        article_id = get_article(session, demo_base + edited.path).article.id

    browser.get(f"{site}/articles/{article_id}")
    changed = browser.find_elements(By.CSS_SELECTOR, "#diff tr.replace")
    pairs = [(row.find_element(By.CSS_SELECTOR, ".before").text, row.find_element(By.CSS_SELECTOR, ".after").text)
             for row in changed]  # fmt: skip
    assert (old_paragraph, new_paragraph) in pairs
    assert len(browser.find_elements(By.CSS_SELECTOR, "#diff tr.equal")) >= 2  # the unchanged text shows too


def test_sources_chart_has_one_bar_per_day_with_the_stored_counts(browser, site, store):
    end, days = date(2026, 11, 30), 30
    window = [end - timedelta(days=days - 1 - i) for i in range(days)]
    with open_read_only(store[0])() as session:
        rows = iter_articles(session, ArticleFilter())
        stored = collections.Counter((row.source, row.published_at.date()) for row in rows)
    browser.get(f"{site}/sources?days={days}&end={end.isoformat()}")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.source")
    assert len(sections) == len({source for source, _ in stored})
    for section in sections:
        source = section.find_element(By.TAG_NAME, "h2").text
        bars = section.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
        assert [bar.get_attribute("data-day") for bar in bars] == [day.isoformat() for day in window]
        assert [int(bar.get_attribute("data-count")) for bar in bars] == [stored[source, day] for day in window]
        tallest = max(bars, key=lambda bar: int(bar.get_attribute("data-count")))
        assert float(tallest.get_attribute("height")) > 0


def test_sources_show_each_sources_health_with_its_reasons(browser, site, store):
    with open_read_only(store[0])() as session:
        judged = {entry.source: entry for entry in health.source_health(session)}
    browser.get(f"{site}/sources")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.source")
    shown = {
        section.find_element(By.TAG_NAME, "h2").text: (
            section.find_element(By.CSS_SELECTOR, ".health strong").text,
            _texts(section, ".reasons li"),
        )
        for section in sections
    }
    assert shown == {
        name: (entry.shown_status, [f"{reason.level}: {reason.text}" for reason in entry.reasons])
        for name, entry in judged.items()
    }


def _no_alert(browser) -> bool:
    try:
        browser.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


@pytest.mark.parametrize("page", ["search", "article"])
def test_hostile_title_and_body_render_as_text(browser, site, page):
    browser.get(site + "/?q=harbour+tolls")
    if page == "article":
        browser.find_element(By.CSS_SELECTOR, ".result .title").click()
        assert browser.find_element(By.ID, "article-title").text == HOSTILE_TITLE
        assert HOSTILE_BODY in browser.find_element(By.ID, "article-body").text
    else:
        assert HOSTILE_TITLE in _texts(browser, ".result .title")
    assert _no_alert(browser)
    for injected in ("injected-title", "injected-body"):
        assert browser.find_elements(By.ID, injected) == []
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
