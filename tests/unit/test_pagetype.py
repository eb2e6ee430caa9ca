"""Page types from the page's structure, not from a tag the site can get wrong."""

from __future__ import annotations

import pytest

from crawler.demo.render import build_site
from crawler.discovery.pagetype import (
    CHROME_MIN_PAGES,
    CHROME_SAMPLE_PAGES,
    PageKind,
    SiteChrome,
    page_template,
    type_page,
    url_shape,
)
from crawler.discovery.scope import CrawlScope
from crawler.extraction import parse_page_html
from crawler.reading import ReadRequest, read_page
from tests.support.news_web import NewsWeb

BASE = "http://news.example"


def _site(name: str):
    web = NewsWeb()
    site = next(site for site in web.sites if site.name == name)
    site.base = BASE
    return site


def _type(html: str | bytes, path: str = "/news/x", **evidence):
    return type_page(parse_page_html(html), BASE + path, **evidence)


@pytest.mark.parametrize("name", ["soup", "copies", "kanji", "wronglang"])
@pytest.mark.parametrize(
    ("path", "kind", "label"),
    [
        ("/", PageKind.HUB, "home"),
        ("/news/", PageKind.HUB, "section"),
        ("/tag/schools/", PageKind.HUB, "tag"),
        ("/topic/town/", PageKind.HUB, "topic"),
        ("/author/ann-lee/", PageKind.HUB, "author"),
        ("/lite/", PageKind.HUB, "lite"),
        ("/video/harbour-at-dawn/", PageKind.MEDIA, "video"),
        ("/about/", PageKind.SERVICE, "about"),
        ("/contact/", PageKind.SERVICE, "contact"),
    ],
)
def test_hub_media_and_service_pages_of_sites_built_like_real_ones(name, path, kind, label):
    site = _site(name)
    status, _, body = site.answer(path)
    assert status == 200
    typed = _type(body, path)
    assert (typed.kind, typed.label) == (kind, label), typed.describe()


@pytest.mark.parametrize("name", ["soup", "copies", "kanji", "wronglang"])
def test_stories_with_read_also_boxes_are_stories(name):
    site = _site(name)
    for story in site.stories:
        typed = _type(site.answer(site.story_path(story))[2])
        assert typed.is_story, typed.describe()


def test_a_related_stories_widget_inside_an_article_does_not_make_it_a_hub():
    page = build_site(1, BASE)["/ledger/sport/cricket-pavilion-restored"].body
    assert b"Related stories" in page
    typed = _type(page)
    assert typed.is_story, typed.describe()


def _archive_page(teasers: int, body: str = "") -> str:
    """A blog theme's section page: teasers with excerpts, one "Older" link, then the theme's footer
    with an about-us blurb and a cookie notice floating over the page."""
    listed = "".join(
        f'<article class="post"><h2 class="entry-title"><a href="/2026/05/0{i}/story-{i}/">Harbour board weighs plan '
        f'number {i} for the quay</a></h2><div class="meta"><time datetime="2026-05-0{i}">May {i}</time> by '
        f'<a href="/author/kim/">Kim</a></div><p class="excerpt">The harbour board met on Tuesday evening to weigh '
        f'the latest plan for the old quay, which residents have asked to keep open for fishing boats &hellip;</p>'
        f"</article>"
        for i in range(1, teasers + 1)
    )
    return (
        "<html><head><title>Harbour - The Valley Post</title></head><body><header><nav><a href='/'>Home</a>"
        f"<a href='/harbour/'>Harbour</a></nav></header><main><h1>Harbour</h1>{listed}{body}"
        "<nav class='pagination'><a href='/harbour/page/2/'>Older &raquo;</a></nav></main>"
        "<footer class='site-footer'><section><h3>About the Post</h3><p>The Valley Post has covered the valley and its "
        "harbour since 1902 as an independent newsroom funded by its readers and subscribers.</p></section>"
        "<p>&copy; 2026 The Valley Post.</p></footer><div class='cookie-notice' role='dialog'><p>We use cookies to "
        "improve your experience and to show personalised advertising. By continuing to browse you agree to our "
        "use of cookies.</p><button>Accept</button></div></body></html>"
    )


def test_the_site_footer_and_a_cookie_notice_do_not_make_a_short_section_page_a_story():
    """The last excerpt, the footer's blurb and the cookie notice read as one run of prose long
    enough for a short story: the frame's prose is not counted."""
    typed = _type(_archive_page(4), "/harbour/")
    assert (typed.kind, typed.label) == (PageKind.HUB, "section"), typed.describe()


def test_a_short_story_stays_a_story_beside_the_frame():
    story = (
        "<html><head><title>Quay stays open</title></head><body><nav><a href='/'>Home</a></nav><main><article>"
        "<h1>Quay stays open for fishing boats</h1>"
        + "<p>The harbour board voted on Tuesday to keep the old quay open to fishing boats for another year.</p>" * 6
        + "</article></main><footer><p>The Valley Post has covered the valley and its harbour since 1902 as an "
        "independent newsroom.</p></footer></body></html>"
    )
    typed = _type(story, "/2026/05/05/quay-stays-open/")
    assert typed.is_story, typed.describe()


def test_one_tag_does_not_decide():
    site = _site("wronglang")
    story_page = site.answer(site.story_path(site.stories[0]))[2].decode()
    tag_page = site.answer("/tag/local/")[2].decode()
    # A site-wide WebSite JSON-LD block on a story; og:type=article on a tag page.
    website = '<script type="application/ld+json">{"@type": "WebSite", "name": "x"}</script></head>'
    assert _type(story_page.replace("</head>", website)).is_story
    article = '<meta property="og:type" content="article"></head>'
    assert _type(tag_page.replace("</head>", article), "/tag/local/").kind is PageKind.HUB


def test_a_short_page_linking_to_stories_the_crawl_stored_is_a_hub():
    # A terse list: labels too short to read as headlines, so the page alone does not tell.
    links = "".join(f'<div><a href="/news/s{i}">Item {i}</a></div>' for i in range(6))
    page = f"<html><body><div>Latest</div>{links}</body></html>"
    assert _type(page).is_story
    typed = _type(page, linked_stories=6)
    assert typed.kind is PageKind.HUB and "6 stored stories" in typed.reason
    # Through reading: the crawl passes the URLs it stored as stories.
    known = frozenset(f"{BASE}/news/s{i}" for i in range(6))
    request = ReadRequest(url=BASE + "/latest", scope=CrawlScope.from_start_urls([BASE + "/"]), known_stories=known)
    assert read_page(page.encode(), request).not_article_reason.startswith("hub (")
    # A real story linking to as many stored stories stays a story: its own text decides.
    site = _site("soup")
    story = site.answer(site.story_path(site.stories[0]))[2].decode()
    assert _type(story.replace("</body>", links + "</body>"), linked_stories=6).is_story
    # So does a short news item (a 60-word run) with a related-stories box: whether the crawl has
    # stored those stories yet depends on the order pages come back, not on the page.
    item = " ".join(f"word{i}" for i in range(60))
    short = f"<html><body><h1>Lights on</h1><p>{item}.</p>{links}</body></html>"
    assert _type(short, linked_stories=6) == _type(short, linked_stories=0)
    assert _type(short, linked_stories=6).is_story


LOGIN_BOX = (
    '<form action="/login"><input name="email"><input type="password" name="password">'
    "<button>Log in</button></form>"
)


def test_a_short_story_with_a_log_in_box_in_its_header_is_a_story():
    # No article markup and a prose run too short to settle it alone: the form must not decide.
    prose = " ".join(["The council approved next year's budget on Monday after a long debate."] * 7)
    page = f"<html><body><header>{LOGIN_BOX}</header><h1>Budget approved</h1><p>{prose}</p></body></html>"
    typed = _type(page)
    assert typed.is_story, typed.describe()


def test_a_log_in_page_is_a_service_page_and_a_story_behind_a_log_in_wall_an_interstitial():
    login = f"<html><head><title>Log in</title></head><body><h1>Log in</h1>{LOGIN_BOX}</body></html>"
    assert _type(login, "/account/").kind is PageKind.SERVICE
    walled = (
        "<html><head><meta property='og:type' content='article'></head><body><article>"
        "<h1>Council approves budget</h1><p>The council approved next year's budget on Monday.</p>"
        f"<div class='paywall'><p>Subscribers only. Log in to continue reading.</p>{LOGIN_BOX}</div>"
        "</article></body></html>"
    )
    url = BASE + "/news/budget"
    reading = read_page(walled.encode(), ReadRequest(url=url, scope=CrawlScope.from_start_urls([BASE + "/"])))
    assert reading.not_article_reason is None and reading.extraction.reason == "interstitial"


# -- site evidence: pages built like the host's known hubs ------------------------------------


def _tag_pages(name: str = "soup"):
    """A tag page listing one story (its own structure says nothing), and two listing several."""
    site = _site(name)
    one = site._listing("tag", "/tag/harbour/", site.stories[:1])
    hubs = {path: site._listing("tag", path, stories) for path, stories in
            (("/tag/local/", site.stories[:5]), ("/tag/coast-news/", site.stories[5:8]))}  # fmt: skip
    known = [(BASE + path, page_template(parse_page_html(html))) for path, html in hubs.items()]
    return site, one, known


@pytest.mark.parametrize("name", ["soup", "copies", "kanji", "wronglang"])
def test_a_short_page_with_the_url_shape_and_template_of_known_hubs_is_a_hub(name):
    _, one, known = _tag_pages(name)
    assert _type(one, "/tag/harbour/").is_story  # alone, one teaser proves nothing
    typed = _type(one, "/tag/harbour/", known_hubs=known)
    assert (typed.kind, typed.label) == (PageKind.HUB, "tag"), typed.describe()
    assert "URL shape /tag/{name}/ and template of known hubs" in typed.reason
    # Through reading, as the crawl and `newsdesk extract` pass them.
    scope = CrawlScope.from_start_urls([BASE + "/"])
    request = ReadRequest(url=BASE + "/tag/harbour/", scope=scope, known_hubs=tuple(known))
    reading = read_page(one.encode(), request)
    assert reading.not_article_reason.startswith("hub (tag): URL shape"), reading.not_article_reason
    assert reading.template == page_template(parse_page_html(one))  # kept as evidence for the next


def test_one_known_hub_of_the_shape_is_not_enough():
    _, one, known = _tag_pages()
    assert _type(one, "/tag/harbour/", known_hubs=known[:1]).is_story


def test_hubs_of_another_shape_or_host_are_no_evidence():
    _, one, known = _tag_pages()
    assert _type(one, "/topic/harbour/", known_hubs=known).is_story
    elsewhere = [(url.replace("news.example", "other.example"), template) for url, template in known]
    assert _type(one, "/tag/harbour/", known_hubs=elsewhere).is_story


def test_a_short_story_with_the_url_shape_of_hubs_but_its_own_template_stays_a_story():
    # Sections and stories share /world/{name}; a brief story is as short as a listing, but built
    # like a story, not like the section pages.
    site = _site("soup")
    brief = site.answer(site.story_path(site.stories[0]))[2].decode()
    body_start = brief.index('<div class="bd">')
    paragraph = site.stories[0].paragraphs[0]
    brief = f'{brief[:body_start]}<div class="bd"><div class="x">{paragraph}</div></div></div></body></html>'
    assert _type(brief, "/world/harbour-brief").is_story
    sections = [(BASE + path, page_template(parse_page_html(site._listing("section", path, site.stories[:4]))))
                for path in ("/world/europe", "/world/asia", "/world/africa")]  # fmt: skip
    typed = _type(brief, "/world/harbour-brief", known_hubs=sections)
    assert typed.is_story, typed.describe()


def test_a_full_story_is_a_story_whatever_the_site_evidence():
    site, _, known = _tag_pages()
    story = site.answer(site.story_path(site.stories[0]))[2]
    # Even evidence claiming the story's own template is a hub's does not outweigh its body.
    own = page_template(parse_page_html(story))
    lying = [(BASE + "/tag/a/", own), (BASE + "/tag/b/", own)]
    assert _type(story, "/tag/harbour/", known_hubs=lying).is_story


@pytest.mark.parametrize(
    ("url", "shape"),
    [
        ("http://News.example/tag/local/", "news.example/tag/{name}/"),
        ("http://news.example/author/ann-lee/", "news.example/author/{name}/"),
        ("http://news.example/2026/11/20/harbour-opens.html", "news.example/{n}/{n}/{n}/{name}.html"),
        ("http://news.example/news/a1b2c3d4e5", "news.example/news/{id}"),
        ("http://news.example/search?q=harbour&page=2", "news.example/search?page&q"),
        ("http://news.example/", "news.example/"),
    ],
)
def test_url_shapes_generalise_names_ids_and_dates(url, shape):
    assert url_shape(url) == shape


# -- site evidence: pages the site's frame links from every page -------------------------------

TERMS = " ".join(
    ["By using this website you agree to these terms, which we may change at any time without notice to you."] * 8
)


def _service_page(head: str = "", byline: str = "") -> str:
    site = _site("soup")
    return site._shell("Terms of use", f'<div class="h">Terms of use</div>{byline}<div class="x">{TERMS}</div>', head)


def test_an_undated_unsigned_page_the_site_frame_links_is_a_service_page():
    page = _service_page()
    assert _type(page, "/legal/").is_story  # a long prose run: alone, it reads like a story
    typed = _type(page, "/legal/", site_chrome=True)
    assert typed.kind is PageKind.SERVICE and "linked from nearly every page of the site" in typed.reason
    request = ReadRequest(url=BASE + "/legal/", scope=CrawlScope.from_start_urls([BASE + "/"]), site_chrome=True)
    assert read_page(page.encode(), request).not_article_reason.startswith("service (service): linked from")


@pytest.mark.parametrize(
    "evidence",
    [
        {"byline": '<div class="by">2026-11-20 08:00</div>'},  # a date in the text, no markup
        {"head": '<meta name="author" content="Ann Lee">'},
        {"head": '<meta property="og:type" content="article">'},
    ],
)
def test_a_story_the_site_frame_links_stays_a_story_when_dated_signed_or_marked_up(evidence):
    typed = _type(_service_page(**evidence), "/news/pinned", site_chrome=True)
    assert typed.is_story, typed.describe()


@pytest.mark.parametrize(("path", "kind"), [("/news/", PageKind.HUB), ("/video/harbour-at-dawn/", PageKind.MEDIA)])
def test_hubs_and_media_pages_the_frame_links_stay_what_they_are(path, kind):
    site = _site("soup")
    assert _type(site.answer(path)[2], path, site_chrome=True).kind is kind


def _sample(chrome: SiteChrome, pages: int, linking: int, target: str = BASE + "/legal/") -> None:
    for number in range(pages):
        links = [BASE + f"/news/s{number}"] + ([target] if number < linking else [])
        chrome.add(BASE + f"/news/p{number}", links)


def test_site_chrome_is_what_nine_in_ten_of_a_hosts_first_pages_link():
    everywhere, most, few = SiteChrome(), SiteChrome(), SiteChrome()
    _sample(everywhere, CHROME_MIN_PAGES, CHROME_MIN_PAGES)
    _sample(most, CHROME_SAMPLE_PAGES, int(CHROME_SAMPLE_PAGES * 0.8))
    _sample(few, CHROME_MIN_PAGES - 1, CHROME_MIN_PAGES - 1)
    assert everywhere.links_to(BASE + "/legal/")
    assert everywhere.chrome_links() == [BASE + "/legal/"]
    assert not most.links_to(BASE + "/legal/")  # a story in a "most read" box for a while
    assert not few.links_to(BASE + "/legal/")  # too few pages to tell
    assert not everywhere.links_to("http://other.example/legal/")


def test_site_chrome_is_learnt_from_the_first_pages_only():
    chrome = SiteChrome()
    _sample(chrome, CHROME_SAMPLE_PAGES, CHROME_SAMPLE_PAGES)
    for number in range(CHROME_SAMPLE_PAGES, 3 * CHROME_SAMPLE_PAGES):  # later pages stop linking it
        assert not chrome.add(BASE + f"/news/p{number}", [])
    assert chrome.links_to(BASE + "/legal/")


def test_a_page_that_may_be_the_frames_waits_for_the_evidence_when_it_would_be_a_service_page():
    scope = CrawlScope.from_start_urls([BASE + "/"])
    waiting = read_page(_service_page().encode(), ReadRequest(url=BASE + "/legal/", scope=scope, site_chrome=None))
    assert waiting.page_type.awaits_site_evidence
    assert waiting.extraction is None and waiting.not_article_reason is None  # neither stored nor typed yet
    dated = _service_page(byline='<div class="by">2026-11-20 08:00</div>')
    read = read_page(dated.encode(), ReadRequest(url=BASE + "/news/pinned", scope=scope, site_chrome=None))
    assert not read.page_type.awaits_site_evidence and read.extraction is not None


def test_a_page_may_be_the_frames_while_every_page_read_so_far_links_it():
    chrome = SiteChrome()
    assert not chrome.may_link(BASE + "/legal/")  # nothing read yet: nothing to wait for
    chrome.add(BASE + "/", [BASE + "/legal/", BASE + "/news/s1"])
    assert chrome.may_link(BASE + "/legal/") and chrome.may_link(BASE + "/news/s1")
    chrome.add(BASE + "/news/s2", [BASE + "/legal/"])
    assert chrome.may_link(BASE + "/legal/") and not chrome.may_link(BASE + "/news/s1")
    _sample(chrome, CHROME_SAMPLE_PAGES, CHROME_SAMPLE_PAGES)
    assert not chrome.may_link(BASE + "/legal/")  # the sample is full: the frame is known, no waiting
