"""The bundled demo web: real HTTP requests against the served sites, checked against ground truth."""

from __future__ import annotations

import html
import itertools
import json
import re
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from crawler.demo import DemoWeb, ground_truth
from crawler.demo.render import TRAP_PATHS, UTM_QUERY
from crawler.demo.truth import GROUND_TRUTH_FILE, ground_truth_document

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects; HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def canonical_of(body: bytes) -> str:
    doc = lxml_html.fromstring(body)
    (href,) = doc.xpath('//link[@rel="canonical"]/@href')
    return href


@pytest.fixture(scope="module")
def web():
    with DemoWeb() as served:
        yield served


# --------------------------------------------------------------------------- ground truth data


@pytest.mark.parametrize("edition", [1, 2])
def test_ground_truth_shape(edition):
    articles = ground_truth(edition)
    by_site = {site: [a for a in articles if a.site == site] for site in ("planet", "ledger", "courier")}
    assert all(len(site_articles) >= 10 for site_articles in by_site.values())
    assert len({a.path for a in articles}) == len(articles)
    for article in articles:
        assert article.published_at.tzinfo is not None
        assert datetime(2026, 11, 1, tzinfo=timezone.utc) <= article.published_at
        assert article.published_at < datetime(2026, 11, 24, tzinfo=timezone.utc)
        assert article.modified_at is None or article.modified_at >= article.published_at
        paragraphs = article.body.split("\n\n")
        assert 4 <= len(paragraphs) <= 9, article.path
        assert 150 <= len(article.body.split()) <= 600, article.path
        assert article.authors and article.title and "|" not in article.title
        assert article.language in {"en", "ru"}


def test_edition_two_adds_articles_and_edits_one():
    first = {a.path: a for a in ground_truth(1)}
    second = {a.path: a for a in ground_truth(2)}
    added = set(second) - set(first)
    assert 2 <= len(added) <= 3
    assert set(first) <= set(second)
    assert all(second[path].edition_added == 2 for path in added)
    changed = [path for path in first if first[path].body != second[path].body]
    assert len(changed) == 1
    (edited,) = changed
    assert second[edited].modified_at > (first[edited].modified_at or first[edited].published_at)


def _shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def test_unrelated_stories_do_not_look_alike_and_syndicated_ones_do():
    articles = ground_truth(2)
    shingles = {a.path: _shingles(a.body) for a in articles}
    for a, b in itertools.combinations(articles, 2):
        union = shingles[a.path] | shingles[b.path]
        jaccard = len(shingles[a.path] & shingles[b.path]) / len(union)
        if a.syndication_group and a.syndication_group == b.syndication_group:
            assert jaccard > 0.5, (a.path, b.path)
            assert a.title != b.title and a.body != b.body
        else:
            assert jaccard < 0.05, (a.path, b.path, jaccard)
    groups = [a.syndication_group for a in articles if a.syndication_group]
    assert groups and all(groups.count(g) == 2 for g in groups)


def test_ground_truth_file_matches():
    on_disk = json.loads(Path(GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
    assert on_disk == ground_truth_document(), "run: python -m crawler.demo --write-ground-truth"


def test_no_scrapy_in_demo_package():
    package = Path(GROUND_TRUTH_FILE).parent
    for source in package.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+scrapy", source.read_text(encoding="utf-8"), re.M), source


# ------------------------------------------------------------------------------ served pages


def _decode(article, body: bytes) -> str:
    return body.decode("cp1251" if article.language == "ru" else "utf-8")


def test_every_article_is_served_with_its_paragraphs(web):
    for article in ground_truth(1):
        status, headers, body = fetch(web.base_url + article.path)
        assert status == 200, article.path
        text = _decode(article, body)
        for paragraph in article.body.split("\n\n"):
            assert html.escape(paragraph, quote=False) in text, (article.path, paragraph[:40])
        assert html.escape(article.title, quote=False) in text
        assert canonical_of(body) == web.base_url + article.path
        assert headers["ETag"] and headers["Last-Modified"]


def test_planet_pages_carry_structured_metadata(web):
    article = next(a for a in ground_truth(1) if a.site == "planet" and a.modified_at)
    _, _, body = fetch(web.base_url + article.path)
    doc = lxml_html.fromstring(body)
    assert doc.findtext(".//title") == f"{article.title} | The Daily Planet"
    (ld_text,) = doc.xpath('//script[@type="application/ld+json"]/text()')
    ld = json.loads(ld_text)
    assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
    assert datetime.fromisoformat(ld["datePublished"]) == article.published_at
    assert datetime.fromisoformat(ld["dateModified"]) == article.modified_at
    assert [a["name"] for a in ld["author"]] == list(article.authors)
    assert doc.xpath("//article//time/@datetime")
    assert doc.xpath('//meta[@property="og:type"]/@content') == ["article"]


def test_templates_carry_their_boilerplate(web):
    ledger = next(a for a in ground_truth(1) if a.site == "ledger")
    text = fetch(web.base_url + ledger.path)[2].decode()
    assert "<article" not in text and "ld+json" not in text
    for marker in ("Related stories", "Advertisement", "cookies", "newsletter", "Published "):
        assert marker in text
    body_col = text[text.index('<div class="body-col">') : text.index('<div class="share-row">')]
    assert "Advertisement" in body_col and "Related stories" in body_col
    courier = next(a for a in ground_truth(1) if a.site == "courier" and a.language == "en")
    text = fetch(web.base_url + courier.path)[2].decode()
    assert text.index("icon bookmark-b") < text.index("<h1")
    for marker in ("Dear readers!", "comments policy", "Podcasts", "13:56", "Most read",
                   'property="article:published_time"'):
        assert marker in text


def test_url_variants_serve_the_same_article_with_one_canonical(web):
    article = next(a for a in ground_truth(1) if a.site == "planet")
    main = web.base_url + article.path
    slug = article.path.rsplit("/", 1)[1]
    for variant in (main + UTM_QUERY, main + "/", main + "?utm_source=x&utm_medium=y",
                    web.base_url + f"/planet/amp/{slug}"):
        status, _, body = fetch(variant)
        assert status == 200, variant
        assert canonical_of(body) == main, variant
        assert html.escape(article.body.split("\n\n")[0], quote=False) in body.decode()


def test_variant_links_are_present_for_a_crawler_to_meet(web):
    planet_home = fetch(web.site_urls["planet"])[2].decode()
    assert UTM_QUERY.replace("&", "&amp;") in planet_home
    assert TRAP_PATHS["redirect"] in planet_home and TRAP_PATHS["not_found"] in planet_home
    planet_article = next(a for a in ground_truth(1) if a.site == "planet")
    page = fetch(web.base_url + planet_article.path)[2].decode()
    assert "/planet/amp/" in page and f"{planet_article.path}#comments" in page
    ledger_article = next(a for a in ground_truth(1) if a.site == "ledger")
    page = fetch(web.base_url + ledger_article.path)[2].decode()
    assert re.search(r'href="/ledger/\w+/[\w-]+/"', page)  # trailing-slash variant
    assert TRAP_PATHS["disallowed"] in page
    courier_home = fetch(web.site_urls["courier"])[2].decode()
    assert TRAP_PATHS["server_error"] in courier_home


def test_error_and_redirect_traps(web):
    assert fetch(web.base_url + TRAP_PATHS["not_found"])[0] == 404
    assert fetch(web.base_url + "/nowhere/at/all")[0] == 404
    assert fetch(web.base_url + TRAP_PATHS["server_error"])[0] == 500
    status, headers, _ = fetch(web.base_url + TRAP_PATHS["redirect"])
    assert status == 301
    assert headers["Location"] == web.base_url + TRAP_PATHS["redirect_target"]
    assert fetch(headers["Location"])[0] == 200


def test_cp1251_page_declares_charset_only_in_meta(web):
    article = next(a for a in ground_truth(1) if a.language == "ru")
    assert article.path == TRAP_PATHS["cp1251"]
    status, headers, body = fetch(web.base_url + article.path)
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    assert b'<meta charset="windows-1251">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("cp1251")
    for paragraph in article.body.split("\n\n"):
        assert paragraph in text


def test_conditional_requests_get_304(web):
    article = ground_truth(1)[0]
    url = web.base_url + article.path
    _, headers, _ = fetch(url)
    status, not_modified_headers, body = fetch(url, {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    assert not_modified_headers["ETag"] == headers["ETag"]
    assert fetch(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200
    assert fetch(url, {"If-Modified-Since": "Sun, 01 Nov 2026 00:00:00 GMT"})[0] == 200


def test_robots_lists_sitemaps_with_the_real_port(web):
    status, headers, body = fetch(web.base_url + "/robots.txt")
    text = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "User-agent: *" in text and "Disallow: /ledger/private/" in text
    sitemaps = re.findall(r"^Sitemap: (\S+)$", text, re.M)
    assert len(sitemaps) == 3
    for url in sitemaps:
        assert url.startswith(web.base_url + "/")
        assert fetch(url)[0] == 200
    assert fetch(web.base_url + TRAP_PATHS["disallowed"])[0] == 200  # it exists; robots guards it


def _listed_urls(web, site: str) -> tuple[set[str], set[str]]:
    """(sitemap URLs, feed URLs) of one site, parsed with lxml."""
    robots = fetch(web.base_url + "/robots.txt")[2].decode()
    (sitemap_url,) = [u for u in re.findall(r"^Sitemap: (\S+)$", robots, re.M) if f"/{site}/" in u]
    sitemap = etree.fromstring(fetch(sitemap_url)[2])
    in_sitemap = {loc.text for loc in sitemap.iter(f"{SITEMAP_NS}loc")}
    for url in sitemap.iter(f"{SITEMAP_NS}url"):
        has_lastmod = url.find(f"{SITEMAP_NS}lastmod") is not None
        has_news_date = url.find(f".//{NEWS_NS}publication_date") is not None
        assert has_lastmod or has_news_date
    home = lxml_html.fromstring(fetch(web.site_urls[site])[2])
    (feed_link,) = home.xpath('//link[@rel="alternate"]')
    assert feed_link.get("type") in {"application/rss+xml", "application/atom+xml"}
    feed = etree.fromstring(fetch(web.base_url + feed_link.get("href"))[2])
    if feed.tag == "rss":
        in_feed = {link.text for link in feed.iter("link")} - {web.site_urls[site]}
    else:
        in_feed = {link.get("href") for link in feed.iter(f"{ATOM_NS}link") if link.get("rel") == "alternate"}
        in_feed -= {web.site_urls[site]}
    return in_sitemap, in_feed


@pytest.mark.parametrize("site", ["planet", "ledger", "courier"])
def test_sitemaps_and_feeds_list_every_article(web, site):
    expected = {web.base_url + a.path for a in ground_truth(1) if a.site == site}
    in_sitemap, in_feed = _listed_urls(web, site)
    assert in_sitemap == expected
    assert in_feed == expected


def test_feed_kinds_are_mixed_and_one_sitemap_is_google_news(web):
    kinds = set()
    news_sitemaps = 0
    robots = fetch(web.base_url + "/robots.txt")[2].decode()
    for url in re.findall(r"^Sitemap: (\S+)$", robots, re.M):
        news_sitemaps += NEWS_NS.strip("{}").encode() in fetch(url)[2]
    for site in web.site_urls.values():
        home = lxml_html.fromstring(fetch(site)[2])
        kinds.update(home.xpath('//link[@rel="alternate"]/@type'))
    assert kinds == {"application/rss+xml", "application/atom+xml"}
    assert news_sitemaps == 1


def test_portal_about_and_video_pages(web):
    portal = fetch(web.base_url + "/")[2].decode()
    for url in web.site_urls.values():
        assert url.removeprefix(web.base_url) in portal
    for site in web.site_urls.values():
        home = fetch(site)[2].decode()
        (video_path,) = re.findall(r'href="(/\w+/video/[\w-]+)"', home)
        video = fetch(web.base_url + video_path)[2].decode()
        assert "<iframe" in video and "<p" in video and "<article" not in video
        assert fetch(site + "about")[0] == 200


def test_requests_are_recorded_in_order(demo_web):
    demo_web.requests.clear()
    fetch(demo_web.base_url + "/planet/?a=1")
    fetch(demo_web.base_url + "/missing")
    assert demo_web.requests == ["/planet/?a=1", "/missing"]


def test_publish_next_edition(demo_web):
    first = {a.path: a for a in ground_truth(1)}
    second = {a.path: a for a in ground_truth(2)}
    added = sorted(set(second) - set(first))
    (edited,) = [p for p in first if first[p].body != second[p].body]
    for path in added:
        assert fetch(demo_web.base_url + path)[0] == 404
    _, old_headers, old_body = fetch(demo_web.base_url + edited)
    old_planet_home = fetch(demo_web.site_urls["planet"])[1]

    assert demo_web.publish_next_edition() == 2

    for path in added:
        status, _, body = fetch(demo_web.base_url + path)
        assert status == 200
        assert html.escape(second[path].body.split("\n\n")[-1], quote=False) in body.decode()
    status, new_headers, new_body = fetch(demo_web.base_url + edited)
    assert new_body != old_body
    assert new_headers["ETag"] != old_headers["ETag"]
    assert new_headers["Last-Modified"] != old_headers["Last-Modified"]
    assert fetch(demo_web.base_url + edited, {"If-None-Match": old_headers["ETag"]})[0] == 200
    for paragraph in second[edited].body.split("\n\n"):
        assert html.escape(paragraph, quote=False) in new_body.decode()
    home_status, home_headers, _ = fetch(
        demo_web.site_urls["planet"], {"If-None-Match": old_planet_home["ETag"]}
    )
    assert home_status == 200
    for site in ("planet", "ledger", "courier"):
        expected = {demo_web.base_url + p for p, a in second.items() if a.site == site}
        in_sitemap, in_feed = _listed_urls(demo_web, site)
        assert in_sitemap == expected and in_feed == expected
    with pytest.raises(RuntimeError):
        demo_web.publish_next_edition()


def test_shutdown_frees_the_port():
    with DemoWeb(edition=2) as served:
        url = served.base_url
        assert fetch(url + "/")[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/", timeout=2)
