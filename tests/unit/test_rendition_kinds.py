"""Recognising renditions from the page and its URL, and which rendition's body a story keeps."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.extraction import extract_article
from crawler.extraction.renditions import (
    MAX_DECLARED,
    Rendition,
    declared_renditions,
    rendition_of,
    renditions_to_store,
    story_url_of,
)
from crawler.normalize import choose_canonical_url, registered_site
from storage import renditions as stored

STORY = "https://www.gazette.co.uk/news/harbour-wall"
#: A URL that says nothing of what the page is.
PLAIN = "https://www.gazette.co.uk/a/4711"


def page(head: str = "", *, html_attrs: str = "", body_attrs: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(
        f"<html {html_attrs}><head>{head}</head><body {body_attrs}><p>The harbour wall.</p></body></html>"
    )


@pytest.mark.parametrize(
    ("url", "tree", "expected"),
    [
        # Markup that says what the page is, whatever its URL.
        (PLAIN, page(html_attrs="amp"), Rendition.AMP),
        (PLAIN, page(html_attrs="\u26a1"), Rendition.AMP),
        (PLAIN, page(body_attrs="onload='window.print()'"), Rendition.PRINT),
        (PLAIN, page("<link rel=stylesheet href='/css/print.css'>"), Rendition.PRINT),
        (PLAIN, page("<link rel=stylesheet href='/print.css' media='screen, print'>"), Rendition.PRINT),
        (PLAIN, page("<meta name='syndication-source' content='https://wire.example/a'>"), Rendition.SYNDICATION),
        # URLs that name a copy.
        (f"{STORY}/amp", page(), Rendition.AMP),
        ("https://www.gazette.co.uk/amp/news/harbour-wall", page(), Rendition.AMP),
        ("https://amp.gazette.co.uk/news/harbour-wall", page(), Rendition.AMP),
        (f"{STORY}.amp.html", page(), Rendition.AMP),
        (f"{STORY}/print", page(), Rendition.PRINT),
        (f"{STORY}?print=true", page(), Rendition.PRINT),
        (f"{STORY}?view=print", page(), Rendition.PRINT),
        (f"{STORY}?view=all", page(), Rendition.PAGINATED),
        (f"{STORY}?page=2", page(f"<link rel=prev href='{STORY}'>"), Rendition.PAGINATED),
        (f"{STORY}/page/3", page(f"<link rel=prev href='{STORY}/page/2'>"), Rendition.PAGINATED),
        (f"{STORY}/all", page(), Rendition.PAGINATED),
        ("https://m.gazette.co.uk/news/harbour-wall", page(), Rendition.MOBILE),
        ("https://lite.gazette.co.uk/news/harbour-wall", page(), Rendition.LITE),
        ("https://text.gazette.co.uk/news/harbour-wall", page(), Rendition.LITE),
        # A copy with no sign of why: other.
        ("https://edition.gazette.co.uk/news/harbour-wall", page(), Rendition.OTHER),
        # WordPress's ?p=<post id> is no page number.
        ("https://www.gazette.co.uk/?p=4711", page(), Rendition.OTHER),
        # A print stylesheet for paper only is on every story page.
        ("https://www.gazette.co.uk/news/x", page("<link rel=stylesheet href='/print.css' media=print>"), Rendition.OTHER),
    ],
)
def test_a_copy_is_recognised_from_its_markup_or_url(url, tree, expected):
    assert rendition_of(tree, url, STORY) == expected


@pytest.mark.parametrize("url", [f"{STORY}?page=2", "https://www.gazette.co.uk/c/budget/page/3"])
def test_a_page_number_alone_does_not_make_a_page_another_storys_part(url):
    """Stories filed under numbered paths, linking to no other part: each is its own story."""
    tree = page("<link rel=stylesheet href='/site.css'>")
    assert rendition_of(tree, url, None) == Rendition.CANONICAL


def test_a_page_declaring_itself_canonical_is_the_canonical_rendition_whatever_it_looks_like():
    # An AMP-first site, a mobile-only site: the page is the story's own URL.
    assert rendition_of(page(html_attrs="amp"), STORY, STORY) == Rendition.CANONICAL
    assert rendition_of(page(), "https://m.gazette.co.uk/a", "https://m.gazette.co.uk/a?utm_source=x") == Rendition.CANONICAL


def test_a_page_declaring_no_canonical_is_its_own_story_unless_it_shows_a_copy():
    assert rendition_of(page(), STORY, None) == Rendition.CANONICAL
    assert rendition_of(page(), f"{STORY}/print", None) == Rendition.PRINT


def test_the_renditions_a_page_names_are_read_absolute():
    tree = page(
        "<link rel=amphtml href='/news/harbour-wall/amp'>"
        "<link rel=alternate media='only screen and (max-width: 640px)' href='https://m.gazette.co.uk/news/harbour-wall'>"
        "<link rel=alternate hreflang=de href='https://www.gazette.co.uk/de/hafenmauer'>"
        "<link rel=alternate type='application/rss+xml' href='/feed'>"
    )
    assert declared_renditions(tree, STORY) == (
        (f"{STORY}/amp", Rendition.AMP),
        ("https://m.gazette.co.uk/news/harbour-wall", Rendition.MOBILE),
    )


def test_extraction_names_the_kinds_storage_stores():
    assert {kind.value for kind in Rendition} == {kind.value for kind in stored.Rendition}


def test_the_canonical_rendition_gives_the_body_else_the_fullest():
    outranks = stored.outranks
    assert outranks(Rendition.CANONICAL, 10, Rendition.AMP, 900)
    assert not outranks(Rendition.PRINT, 900, Rendition.CANONICAL, 10)
    assert not outranks(Rendition.CANONICAL, 900, Rendition.CANONICAL, 10)  # the same rendition: an edit, decided elsewhere
    assert outranks(Rendition.PRINT, 510, Rendition.AMP, 500)
    assert not outranks(Rendition.AMP, 500, Rendition.PRINT, 510)


# -- canonical URLs across a site's subdomains ---------------------------------------------------


@pytest.mark.parametrize("copy", ["https://amp.gazette.co.uk", "https://m.gazette.co.uk", "https://edition.gazette.co.uk"])
def test_a_subdomain_declaring_the_www_canonical_is_the_same_site(copy):
    assert choose_canonical_url(f"{copy}/news/harbour-wall", STORY) == STORY


def test_a_canonical_on_another_registered_domain_is_refused():
    fetched = "https://m.gazette.co.uk/news/harbour-wall"
    assert choose_canonical_url(fetched, "https://www.othergazette.co.uk/news/harbour-wall") == fetched
    # co.uk is a public suffix: two sites under it are two sites.
    assert registered_site("https://gazette.co.uk/") != registered_site("https://othergazette.co.uk/")
    # Two blogs on one hosting domain (the list's private part) are two sites.
    assert choose_canonical_url("https://alice.github.io/post", "https://bob.github.io/post") == "https://alice.github.io/post"
    # Hosts under no public suffix keep to themselves, port included.
    assert choose_canonical_url("http://127.0.0.1:8001/a/amp", "http://127.0.0.1:8002/a") == "http://127.0.0.1:8001/a/amp"
    assert registered_site("http://www.gazette.co.uk:8080/a") == "gazette.co.uk:8080"


@pytest.mark.parametrize(
    "section",
    ["https://www.gazette.co.uk/news/", "https://www.gazette.co.uk/news", "https://m.gazette.co.uk/news/",
     "https://www.gazette.co.uk/2026/03/"],
)  # fmt: skip
def test_a_canonical_naming_a_section_above_the_story_is_ignored(section):
    fetched = "https://m.gazette.co.uk/news/2026/03/harbour-wall"
    if section.endswith("/2026/03/"):
        fetched = "https://www.gazette.co.uk/2026/03/harbour-wall"
    assert choose_canonical_url(fetched, section) == fetched


@pytest.mark.parametrize(
    ("fetched", "declared"),
    [
        ("https://www.gazette.co.uk/news/harbour-wall/amp", STORY),
        ("https://www.gazette.co.uk/news/harbour-wall/print/", STORY),
        ("https://www.gazette.co.uk/news/harbour-wall/page/2", STORY),
        ("https://www.gazette.co.uk/article/4711/harbour-wall", "https://www.gazette.co.uk/article/4711"),
    ],
)
def test_a_canonical_above_the_page_that_is_its_story_is_kept(fetched, declared):
    assert choose_canonical_url(fetched, declared) == declared


def test_a_page_naming_thousands_of_renditions_gives_a_few():
    links = "".join(f"<link rel=amphtml href='/amp/{n}'>" for n in range(5000))
    assert len(declared_renditions(page(links), STORY)) == MAX_DECLARED


@pytest.mark.parametrize(
    "copy",
    [f"{STORY}/amp", f"{STORY}/print/", f"{STORY}?print=1", f"{STORY}?view=all&ref=x", f"{STORY}/page/2",
     f"{STORY}?page=3", f"{STORY}/amp/print"],
)  # fmt: skip
def test_a_copy_url_gives_its_story_url(copy):
    assert story_url_of(copy).removesuffix("?ref=x") == STORY


def test_markers_elsewhere_in_the_url_are_left_alone():
    assert story_url_of("https://www.gazette.co.uk/story.amp.html") == "https://www.gazette.co.uk/story.html"
    assert story_url_of("https://www.gazette.co.uk/amp/news/x") == "https://www.gazette.co.uk/amp/news/x"
    assert story_url_of("https://www.gazette.co.uk/print") == "https://www.gazette.co.uk/print"


def _extracted(url: str, head: str = "", body_attrs: str = ""):
    words = " ".join(f"Harbour wall repairs will take another {n} weeks, the council said." for n in range(40))
    html = f"<html><head><title>Wall</title>{head}</head><body {body_attrs}><article><p>{words}</p></article></body></html>"
    return extract_article(html, url)


def test_a_print_copy_naming_no_canonical_is_stored_under_its_story():
    fields = renditions_to_store(_extracted(f"{STORY}/print"), f"{STORY}/print", f"{STORY}/print")
    assert (fields["canonical_url"], fields["rendition"]) == (STORY, Rendition.PRINT)
    # Naming one, its declaration decides.
    declared = _extracted(f"{STORY}/print", head=f"<link rel=canonical href='{STORY}-2'>")
    assert renditions_to_store(declared, f"{STORY}/print", f"{STORY}-2")["canonical_url"] == f"{STORY}-2"


def test_a_page_whose_canonical_was_refused_is_its_own_story():
    fetched = "https://www.gazette.co.uk/news/x"
    refused = _extracted(fetched, head="<link rel=canonical href='https://other.example/x'>")
    assert refused.rendition == Rendition.OTHER
    fields = renditions_to_store(refused, fetched, choose_canonical_url(fetched, refused.canonical_url))
    assert (fields["canonical_url"], fields["rendition"]) == (fetched, Rendition.CANONICAL)
