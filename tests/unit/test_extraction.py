"""extract_article on hand-written pages: body text, boilerplate, rejections, deep trees."""

from __future__ import annotations

import pickle
from pathlib import Path

import lxml.html
import pytest

from crawler.extraction import Article, Rejection, extract_article, parse_page_html

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
NEWS_URL = "https://courier.example/news/2024/03/14/harbour-bridge-reopens"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
def news_article() -> Article:
    result = extract_article(
        load("raw_news_page.html"),
        "https://courier.example/news/2024/03/14/harbour-bridge-reopens",
    )
    assert isinstance(result, Article), result
    return result


@pytest.fixture(scope="module")
def unlabelled_article() -> Article:
    result = extract_article(
        load("unlabelled_boilerplate.html"),
        "https://valley.example/2024/05/02/night-trains",
    )
    assert isinstance(result, Article), result
    return result


NEWS_MUST_CONTAIN = [
    "Traffic returned to the Harbour bridge on Thursday morning for the first time in two years",
    "Every one of the original anchor points had to be rebuilt.",
    '"We found rust where the drawings told us there should be concrete,"',
    "the new protected lane on the southern side opens in April",
]
NEWS_MUST_NOT_CONTAIN = [
    "icon bookmark-b",
    "icon camera",
    "Podcasts",
    "0:00",
    "13:56",
    "We use cookies",
    "Dear readers",
    "comments policy",
    "Sign up for our daily newsletter",
    "Related stories",
    "Ferry timetable changes",
    "Advertisement",
    "All rights reserved",
    "My commute just got twenty minutes shorter",
    "Home News Sport",
]


@pytest.mark.parametrize("snippet", NEWS_MUST_CONTAIN)
def test_news_page_body_keeps_the_article(news_article: Article, snippet: str) -> None:
    assert snippet in news_article.text


@pytest.mark.parametrize("snippet", NEWS_MUST_NOT_CONTAIN)
def test_news_page_body_has_no_boilerplate(news_article: Article, snippet: str) -> None:
    assert snippet not in news_article.text


def test_paragraphs_are_separated_by_a_blank_line(news_article: Article) -> None:
    paragraphs = news_article.text.split("\n\n")
    assert len(paragraphs) == 5
    assert all(p == p.strip() and "\n" not in p and "  " not in p for p in paragraphs)
    assert paragraphs[0].startswith("Traffic returned")
    assert paragraphs[-1].startswith("Cyclists will have to wait")


def test_word_count_counts_the_body(news_article: Article) -> None:
    assert news_article.word_count == len(news_article.text.split())


def test_headline_is_not_repeated_in_the_body(news_article: Article) -> None:
    assert not news_article.text.startswith("Harbour bridge reopens")


UNLABELLED_MUST_CONTAIN = [
    "Sleeper trains will run on the northern line again from next month",
    "tickets would go on sale on Monday",
    "whose shops and guest houses had struggled",
    "asked for more to be trained before the winter",
]
# Boilerplate in plain <p> elements, with no class names to give it away.
UNLABELLED_MUST_NOT_CONTAIN = [
    "icon bookmark-b",
    "icon check",
    "icon twitter-x",
    "Podcasts 0:00",
    "13:56",
    "Advertisement",
    "Published 2 May 2024",
    "Dear readers",
    "comments policy",
    "Sign up for our newsletter",
]


@pytest.mark.parametrize("snippet", UNLABELLED_MUST_CONTAIN)
def test_unlabelled_page_keeps_the_article(
    unlabelled_article: Article, snippet: str
) -> None:
    assert snippet in unlabelled_article.text


@pytest.mark.parametrize("snippet", UNLABELLED_MUST_NOT_CONTAIN)
def test_unlabelled_boilerplate_is_removed(
    unlabelled_article: Article, snippet: str
) -> None:
    assert snippet not in unlabelled_article.text


def test_text_is_normalised() -> None:
    words = " ".join(
        [
            "Cafe\u0301 owners\u200b said the new square had brought more visitors than expected."
        ]
        * 8
    )
    html = f"<html><head><title>Square</title></head><body><article><p>{words}</p><p>  Second   paragraph\u00a0with\tspaces and more words to read here.</p></article></body></html>"
    result = extract_article(html, "https://example.org/square")
    assert isinstance(result, Article), result
    assert "Café owners said" in result.text  # NFC: e + combining acute -> é
    assert "\u200b" not in result.text and "\u0301" not in result.text
    assert result.text.endswith(
        "Second paragraph with spaces and more words to read here."
    )


def test_str_input_is_accepted() -> None:
    result = extract_article(
        load("raw_news_page.html").decode("utf-8"), "https://courier.example/x"
    )
    assert isinstance(result, Article)
    assert "Harbour bridge" in result.text


# --------------------------------------------------------------------------- not an article


def test_listing_page_is_rejected() -> None:
    result = extract_article(
        load("listing_page.html"), "https://harbour.example/business"
    )
    assert isinstance(result, Rejection)
    assert result.reason == "listing-page"
    assert not result


def test_video_only_page_is_rejected() -> None:
    result = extract_article(
        load("video_only.html"), "https://coast.example/video/storm-waves"
    )
    assert isinstance(result, Rejection)
    assert result.reason == "video-only"


@pytest.mark.parametrize(
    "body",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"\x00\x01\x02\x03" * 500 + b"<html>",
        b"just some plain text without any markup at all, certainly not a web page",
    ],
    ids=["pdf", "png", "nul-bytes", "plain-text"],
)
def test_non_html_bytes_are_rejected(body: bytes) -> None:
    result = extract_article(body, "https://example.org/file")
    assert isinstance(result, Rejection)
    assert result.reason == "not-html"


@pytest.mark.parametrize(
    "body", [b"", b"   \n\t ", ""], ids=["no-bytes", "whitespace", "empty-str"]
)
def test_empty_input_is_rejected(body: bytes | str) -> None:
    result = extract_article(body, "https://example.org/empty")
    assert result == Rejection("empty", result.detail)
    assert bool(result) is False


def test_short_page_is_too_little_text() -> None:
    html = "<html><head><title>Notice</title></head><body><article><p>The office is closed on Friday.</p></article></body></html>"
    result = extract_article(html, "https://example.org/notice")
    assert isinstance(result, Rejection)
    assert result.reason == "too-little-text"


def test_deep_page_extracts_its_text() -> None:
    # libxml2 stops at ~255 levels by default and trafilatura then returns nothing.
    paragraphs = (
        "<p>The archive of the regional newspaper has been digitised, and more than a hundred years of "
        "local history can now be searched online by anyone with a library card.</p>"
        "<p>Volunteers scanned about two million pages over four years, working in shifts in the basement "
        "of the old printing house where the paper was produced until the nineties.</p>"
        "<p>The oldest issue in the collection dates from 1891 and reports on the opening of the railway "
        "station, the first in the valley, which changed the town within a decade.</p>"
    )
    html = (
        "<html><head><title>Archive goes online</title></head><body>"
        + "<div>" * 300
        + "<article><h1>Archive goes online</h1>"
        + paragraphs
        + "</article>"
        + "</div>" * 300
        + "</body></html>"
    )
    result = extract_article(html.encode(), "https://example.org/archive")
    assert isinstance(result, Article), result
    assert "more than a hundred years of local history" in result.text
    assert result.title == "Archive goes online"


def test_results_pickle_for_the_process_pool(news_article: Article) -> None:
    # The whole round trip through a real worker process is tests/integration/test_workers.py's.
    copy = pickle.loads(pickle.dumps(news_article))
    assert copy == news_article and copy.published_at.tzinfo is not None
    rejection = Rejection("too-little-text", "12 words")
    assert pickle.loads(pickle.dumps(rejection)) == rejection


def test_extraction_does_not_depend_on_scrapy_or_storage() -> None:
    import subprocess
    import sys

    code = (
        "import sys, crawler.extraction as e; e.extract_article('<html><body><p>x</p></body></html>', 'http://a/');"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted', 'sqlalchemy', 'storage')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_missing_url_does_not_break_extraction() -> None:
    result = extract_article(load("raw_news_page.html"), "")
    assert isinstance(result, Article)
    assert result.url == ""
    assert (
        result.canonical_url
        == "https://courier.example/news/2024/03/14/harbour-bridge-reopens"
    )


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><div>" + "<p>unclosed " * 2000 + "</body></html>",
        "<?xml version='1.0' encoding='iso-8859-1'?><html><body><p>x</p></body></html>",
        "<html><head><script type='application/ld+json'>{broken json,,</script></head><body></body></html>",
        "<html><body><svg><text>only a picture</text></svg></body></html>",
    ],
    ids=["unclosed-tags", "xml-declaration", "broken-json-ld", "svg-only"],
)
def test_odd_markup_is_a_clean_rejection_not_a_crash(html: str) -> None:
    result = extract_article(html, "https://example.org/odd")
    assert isinstance(result, (Article, Rejection))
    if isinstance(result, Rejection):
        assert result.reason in {
            "too-little-text",
            "listing-page",
            "not-html",
            "parse-failed",
            "empty",
        }


def test_chinese_article_is_not_too_little_text() -> None:
    # No spaces between words: counting whitespace tokens would reject it.
    result = extract_article(
        load("chinese_article.html"), "https://jiangcheng.example/library"
    )
    assert isinstance(result, Article), result
    assert result.title == "城市图书馆重新开放"
    assert "新馆增设了期刊阅览室和少儿阅读区" in result.text
    assert result.word_count >= 60
    assert result.language == "zh"


def test_unlabelled_related_links_box_is_not_in_the_body() -> None:
    paragraphs = "".join(
        f"<p>Part {n}: the council said the harbour works would continue through the winter, with the eastern "
        f"quay closed to traffic until the new stones are set and tested by engineers.</p>"
        for n in range(1, 7)
    )
    box = (
        "<div><strong>More on this story</strong><ul>"
        "<li><a href='/a'>Ferry timetable changes for the summer season</a></li>"
        "<li><a href='/b'>Council approves new cycle lane plan for the riverside</a></li>"
        "<li><a href='/c'>Fishing quotas cut again as cod stocks stay low</a></li></ul></div>"
    )
    cut = paragraphs.index("<p>Part 4")
    html = (
        "<html><head><title>Harbour works</title></head><body><div><h1>Harbour works continue</h1>"
        + paragraphs[:cut]
        + box
        + paragraphs[cut:]
        + "</div></body></html>"
    )
    result = extract_article(html, "https://harbour.example/works")
    assert isinstance(result, Article), result
    assert "Part 1:" in result.text and "Part 6:" in result.text
    for snippet in (
        "More on this story",
        "Ferry timetable",
        "cycle lane",
        "Fishing quotas",
    ):
        assert snippet not in result.text


def test_warm_up_loads_lazy_date_data_once_so_pages_do_not_pay_for_it() -> None:
    import subprocess
    import sys

    # In a fresh interpreter: other tests may already have loaded it in this one. What is checked
    # is the state warm-up leaves: htmldate's month words read, and every dateparser locale loaded
    # with its dictionary built (dateparser's own caches; a page that finds them empty pays ~1 s).
    code = """
import sys
from crawler.extraction import warm_up
assert 'dateparser' not in sys.modules
warm_up()
from dateparser.languages.loader import LocaleDataLoader
from htmldate.extractors import month_words
locales = list(LocaleDataLoader._loaded_locales.values())
built = [locale for locale in locales if '_normalized_dictionary' in vars(locale)]
assert month_words.cache_info().currsize == 1, 'month words not read'
assert len(locales) >= 100, f'{len(locales)} locales loaded'
assert len(built) >= 0.9 * len(locales), f'{len(built)} of {len(locales)} locale dictionaries built'
"""
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-2000:]


def test_a_parsed_tree_gives_the_same_article_and_is_left_as_it_was() -> None:
    page = load("raw_news_page.html")
    tree = parse_page_html(page)
    before = lxml.html.tostring(tree)
    assert extract_article(tree, NEWS_URL) == extract_article(page, NEWS_URL)
    assert lxml.html.tostring(tree) == before


class _Extracted:
    """What reading uses of trafilatura's result: its text, one paragraph a line."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.text = "\n".join(paragraphs)
        self.body = None


_STORY = [
    f"The harbour council met on Tuesday evening and voted on part {part} of the plan, after a long"
    " debate about the cost of the new bridge and the ferries that would stop running."
    for part in ("one", "two", "three", "four", "five")
]
_TEASERS = [
    f"Navigating the {topic} process can be overwhelming while you deal with everything else."
    " Our board-certified lawyers have the knowledge and dedication to guide residents through"
    " this challenging process, significantly improving their chances of"
    for topic in ("disability", "benefits", "appeals", "claims", "hearings", "pension")
]
_MORE_STORY = [
    f"Residents of the {side} quarter told the meeting that the ferry had been their only way to"
    " work for years, and asked the council to keep it running until the bridge opens in spring."
    for side in ("north", "south", "east", "west", "old", "new")
]


@pytest.mark.parametrize(
    ("balanced_adds", "kept"),
    [(_TEASERS, _STORY), (_MORE_STORY, _STORY + _MORE_STORY)],
    ids=["cut-off-teasers-refused", "finished-sentences-taken"],
)
def test_the_balanced_second_opinion_is_taken_only_when_what_it_adds_reads_as_sentences(
    monkeypatch, balanced_adds: list[str], kept: list[str]
) -> None:
    """Recall mode can settle on one block of a page; the balanced mode's longer text is taken
    instead only if most of what it adds ends its sentences (related-post excerpts, cut
    mid-sentence, made a law firm's blog post twice as long with other posts' teasers)."""
    from crawler.extraction import article

    def trafilatura(tree, options, url):
        return _Extracted(_STORY + balanced_adds if options is article._BALANCED_OPTIONS else _STORY)

    monkeypatch.setattr(article, "_run_trafilatura", trafilatura)
    # The page shows far more words than the recall text, so the second opinion is asked for.
    page = "".join(f"<p>{line}</p>" for line in _STORY + _TEASERS + _MORE_STORY) * 2
    result = extract_article(f"<html><body><article>{page}</article></body></html>", NEWS_URL)
    assert isinstance(result, Article), result
    assert result.text.split("\n\n") == kept
