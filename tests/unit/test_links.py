from __future__ import annotations

from parsel import Selector

from crawler.discovery.links import page_links

PAGE = """<html><head><base href="/news/"></head><body>
<a href="story-1">One</a> <a href=" /world/story-2 ">Two</a> <a href="https://other.example/x">Other</a>
<a href="#top">Top</a> <a href="javascript:void(0)">JS</a> <a href="mailto:desk@example.com">Mail</a>
<a href="/photo.JPG">Photo</a> <a href="/report.pdf?dl=1">PDF</a> <a>No href</a>
<map><area href="/map/area-3"></map></body></html>"""


def test_links_are_absolute_web_pages_resolved_against_base():
    links, unread = page_links(Selector(text=PAGE), "https://a.example/section/page")
    assert links == [
        "https://a.example/news/story-1",
        "https://a.example/world/story-2",
        "https://other.example/x",
        "https://a.example/map/area-3",
    ]
    assert unread == 0


def test_anchor_cap_counts_what_was_left_unread():
    page = "<html><body>" + "".join(f'<a href="/s/{i}">{i}</a>' for i in range(50)) + "</body></html>"
    links, unread = page_links(Selector(text=page), "https://a.example/", max_anchors=10)
    assert links == [f"https://a.example/s/{i}" for i in range(10)]
    assert unread == 40


def test_hostile_hrefs_are_dropped_not_raised():
    hrefs = ["http://a:99999/", "http://a:b/", "http://[::1/", "javascript:alert(1)", "http://[::1]/ok",
             "http://a b.example/", "http://999.1.1.1/", "http://a.example%2Fb/"]  # fmt: skip
    page = "<html><body>" + "".join(f'<a href="{href}">x</a>' for href in hrefs) + "</body></html>"
    links, _ = page_links(Selector(text=page), "https://news.example/")
    assert links == ["http://[::1]/ok"]
