from __future__ import annotations

import pytest
from parsel import Selector

from crawler.discovery.continuation import article_root, next_part, previous_part


@pytest.mark.parametrize(
    "url",
    [
        "https://a.example/news/story",
        "https://a.example/news/story?page=2",
        "https://a.example/news/story/2",
        "https://a.example/news/story/page/3/",
    ],
)
def test_every_part_has_the_same_root(url):
    assert article_root(url) == "https://a.example/news/story"


def test_next_part_of_the_same_story_only():
    page = Selector(text='<html><head><link rel="next" href="?page=2"></head><body></body></html>')
    assert next_part(page, "https://a.example/news/story") == "https://a.example/news/story?page=2"
    other = Selector(text='<html><body><a rel="next" href="/news/another-story">Next story</a></body></html>')
    assert next_part(other, "https://a.example/news/story") is None


def test_previous_part_marks_a_continuation():
    page = Selector(text='<html><head><link rel="prev" href="/news/story"></head></html>')
    assert previous_part(page, "https://a.example/news/story?page=2") == "https://a.example/news/story"
    assert previous_part(page, "https://a.example/news/story") is None
