from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from crawler.discovery.scope import CrawlScope, InvalidStartUrl
from crawler.discovery.sitemaps import SitemapRefused, read_sitemap

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://a.example/2026/11/01/one</loc><lastmod>2026-11-02T08:00:00+00:00</lastmod></url>
  <url><loc>https://a.example/2026/11/03/two</loc>
    <news:news><news:publication><news:name>A</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-03T10:00:00Z</news:publication_date><news:title>Two</news:title></news:news>
  </url>
</urlset>"""


def test_scope_keeps_the_start_folder_and_site():
    scope = CrawlScope.from_start_urls(["http://127.0.0.1:9000/planet/", "https://b.example/"])
    assert "http://127.0.0.1:9000/planet/2026/x" in scope
    assert "http://127.0.0.1:9000/ledger/2026/x" not in scope
    assert "http://127.0.0.1:9001/planet/x" not in scope
    assert "https://www.b.example/anything" in scope
    assert "ftp://b.example/x" not in scope


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/html,hi", "ftp://a.example/", "http:///nohost"])
def test_scope_refuses_non_web_start_urls(url):
    with pytest.raises(InvalidStartUrl):
        CrawlScope.from_start_urls([url])


def test_sitemap_entries_with_news_fields():
    sitemap = read_sitemap(URLSET, max_size=10_000)
    assert not sitemap.is_index
    first, second = sitemap.entries
    assert first.lastmod == datetime(2026, 11, 2, 8, tzinfo=UTC)
    assert second.news_publication_date == datetime(2026, 11, 3, 10, tzinfo=UTC)
    assert second.news_title == "Two"


def test_gzipped_sitemap_is_read_and_a_bomb_refused():
    assert len(read_sitemap(gzip.compress(URLSET), max_size=10_000).entries) == 2
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    assert read_sitemap(bomb, max_size=1_000_000) is None


def test_sitemaps_declaring_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/&x;</loc></url></urlset>"""
    with pytest.raises(SitemapRefused, match="entities"):
        read_sitemap(xxe.encode(), max_size=10_000)
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<urlset><url><loc>https://a.example/&b;</loc></url><url><loc>https://a.example/plain</loc></url></urlset>'
    )
    with pytest.raises(SitemapRefused):
        read_sitemap(laughs.encode(), max_size=10_000)


def test_garbage_is_not_a_sitemap():
    assert read_sitemap(b"%PDF-1.7 binary", max_size=10_000) is None
    assert read_sitemap(b"<html><body>hi</body></html>", max_size=10_000) is None
