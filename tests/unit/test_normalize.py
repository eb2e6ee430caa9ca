from __future__ import annotations

import pytest

from crawler.normalize import canonical_url, choose_canonical_url, same_site, site_key


@pytest.mark.parametrize(
    "variant",
    [
        "https://News.Example.com/world/story-1",
        "HTTPS://news.example.com:443/world/story-1",
        "https://news.example.com/world/story-1#comments",
        "https://news.example.com/world/story-1?utm_source=tw&utm_medium=social",
        "https://news.example.com/world/story-1?fbclid=abc&gclid=1",
        "https://news.example.com/world/story-1?UTM_Campaign=x&ref=home",
    ],
)
def test_url_variants_share_one_canonical_form(variant):
    assert canonical_url(variant) == "https://news.example.com/world/story-1"


def test_meaningful_query_is_kept_and_sorted():
    assert canonical_url("http://a.example/s?q=1&b=2&utm_term=z") == "http://a.example/s?b=2&q=1"


def test_non_default_port_is_kept():
    assert canonical_url("http://127.0.0.1:8765/planet/") == "http://127.0.0.1:8765/planet/"
    assert canonical_url("http://127.0.0.1:80/planet/") == "http://127.0.0.1/planet/"


def test_custom_tracking_list():
    assert canonical_url("http://a.example/s?src=rss&id=4", ("src",)) == "http://a.example/s?id=4"


def test_declared_canonical_wins_on_the_same_site_only():
    fetched = "https://news.example.com/amp/story-1"
    assert choose_canonical_url(fetched, "https://news.example.com/story-1") == "https://news.example.com/story-1"
    assert choose_canonical_url(fetched, "https://www.news.example.com/story-1") == "https://www.news.example.com/story-1"
    # A page cannot claim another site's URL, nor a non-web one.
    assert choose_canonical_url(fetched, "https://evil.example/story-1") == fetched
    assert choose_canonical_url(fetched, "javascript:alert(1)") == fetched
    assert choose_canonical_url(fetched, None) == fetched


@pytest.mark.parametrize("root", ["https://news.example.com/", "https://news.example.com", "https://news.example.com/?lang=en"])
def test_a_canonical_naming_the_site_root_is_ignored_for_a_story(root):
    """A CMS that gives every page the home page's canonical must not make them one article."""
    fetched = "https://news.example.com/world/2026/03/story-1"
    assert choose_canonical_url(fetched, root) == fetched
    # The home page itself may declare it.
    assert choose_canonical_url("https://news.example.com/?utm_source=x", root) == canonical_url(root)


def test_site_key_ignores_www_and_default_port():
    assert site_key("https://www.Example.com:443/x") == "example.com"
    assert same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b")
    assert not same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:8001/a")
