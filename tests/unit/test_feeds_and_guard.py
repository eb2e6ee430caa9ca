from __future__ import annotations

import lxml.html
import pytest

from crawler.discovery.feeds import FeedRefused, advertised_feeds, read_feed
from crawler.middlewares import is_forbidden_address

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>A</title>
<item><title>One</title><link>/2026/11/01/one</link><pubDate>Sun, 01 Nov 2026 09:30:00 +0100</pubDate></item>
<item><title>Two</title><link>https://a.example/2026/11/02/two</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title>
<entry><title>Three</title><link href="https://b.example/three"/><updated>2026-11-03T12:00:00Z</updated></entry>
</feed>"""


def test_rss_entries_are_absolute_with_utc_dates():
    one, two = read_feed(RSS, "https://a.example/feed.xml")
    assert one.url == "https://a.example/2026/11/01/one"
    assert one.published_at.isoformat() == "2026-11-01T08:30:00+00:00"
    assert two.published_at is None


def test_atom_entries():
    (three,) = read_feed(ATOM, "https://b.example/atom.xml")
    assert (three.url, three.title) == ("https://b.example/three", "Three")


@pytest.mark.parametrize("body", [b"/etc/passwd", b"file:///etc/passwd"])
def test_a_path_looking_body_is_never_opened(body):
    with pytest.raises(FeedRefused):
        read_feed(body, "https://a.example/feed")


def test_entity_declarations_are_refused(tmp_path):
    secret = tmp_path / "s.txt"
    secret.write_text("TOPSECRET")
    xxe = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><rss><channel><item><title>&x;</title><link>https://a.example/x</link></item></channel></rss>'
    with pytest.raises(FeedRefused, match="entities"):
        read_feed(xxe.encode(), "https://a.example/feed")


def test_advertised_feeds():
    page = """<html><head>
    <link rel="alternate" type="application/rss+xml" href="/rss.xml">
    <link rel="Alternate" type="application/atom+xml" href="https://a.example/atom">
    <link rel="alternate" hreflang="de" href="/de/">
    <link rel="stylesheet" href="/s.css"></head><body></body></html>"""
    assert advertised_feeds(lxml.html.fromstring(page), "https://a.example/news/") == ["https://a.example/rss.xml", "https://a.example/atom"]


@pytest.mark.parametrize(
    "address, forbidden",
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("fe80::1", True),
        ("0.0.0.0", True),
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
        ("example.com", False),
    ],
)
def test_forbidden_addresses(address, forbidden):
    assert is_forbidden_address(address) is forbidden
