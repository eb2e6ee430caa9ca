"""Every script and language: pages in thirteen languages read right, whatever they declare.

The pages under fixtures/pages/<lang>/ are news pages built the way sites build them (navigation,
byline, related-story teasers with their own dates, footer), each with its expected fields beside
it. Several declare no charset at all (Shift_JIS, GBK, windows-1251/1253/1255: the charset is only
in the bytes) and two declare the wrong language (English under lang="de", German under lang="en").
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.extraction import Article, count_words, decode_html, extract_article
from crawler.extraction.article import MIN_WORDS
from crawler.extraction.body import clean_paragraphs
from crawler.extraction.language import detect_language
from storage.dedup import (
    DEFAULT_NEAR_DUPLICATE_THRESHOLD,
    estimate_similarity,
    identifies_article,
    minhash_signature,
    normalise_text,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED = sorted(PAGES.glob("*/*.json"))


def _page(expected_path: Path) -> tuple[bytes, dict]:
    return expected_path.with_suffix(".html").read_bytes(), json.loads(expected_path.read_text(encoding="utf-8"))


def _page_of(language: str) -> tuple[bytes, dict]:
    return _page(next(p for p in EXPECTED if p.parent.name == language and "school-roof" not in p.name))


def test_fixtures_cover_eight_languages_and_four_scripts() -> None:
    languages = {p.parent.name for p in EXPECTED}
    assert len(languages) >= 8
    assert {"ru", "el", "he", "ar", "ja", "zh", "th"} <= languages


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_page_reads_right_in_its_language(expected_path: Path) -> None:
    body, expected = _page(expected_path)
    result = extract_article(body, expected["url"])  # no HTTP charset: what the bytes say
    assert isinstance(result, Article), result
    assert result.title == expected["title"]
    assert result.language == expected["language"]
    for snippet in expected["with"]:
        assert snippet in result.text
    for snippet in expected["without"]:
        assert snippet not in result.text
    assert "\ufffd" not in result.text
    for snippet in expected.get("markdown_with", []):
        assert snippet in result.markdown
    published = expected["published"] and datetime.fromisoformat(expected["published"]).astimezone(UTC)
    assert result.published_at == (published or None)


@pytest.mark.parametrize("language", ["en", "de"])
def test_declared_language_that_lies_is_overruled_by_the_text(language: str) -> None:
    body, expected = _page_of(language)
    assert expected["html_lang"] not in (None, language)  # the fixture lies, in <html lang> and og:locale
    result = extract_article(body, expected["url"])
    assert isinstance(result, Article)
    assert result.language == language


def test_declaration_decides_only_where_the_text_cannot() -> None:
    assert detect_language("Sport kompakt", "de-DE") == "de"  # the detector alone says Norwegian
    assert detect_language("Short note", None) is None
    assert detect_language("Der Gemeinderat hat am Dienstag den neuen Haushalt beschlossen.", "en") == "de"
    # Close languages the text cannot tell apart: the declaration decides between them.
    indonesian = "Pemerintah akan membangun jembatan baru di daerah itu tahun depan, kata menteri kepada wartawan."
    assert detect_language(indonesian, "id") == "id"
    assert detect_language(indonesian, "ms-MY") == "ms"


@pytest.mark.parametrize("language", ["ja", "zh", "th"])
def test_stories_written_without_spaces_are_not_too_short(language: str) -> None:
    body, expected = _page_of(language)
    article = decode_html(body, None).partition("<article")[2].partition("</article>")[0]
    paragraphs = re.findall(r"<p>([^<]+)</p>", article)
    # A 300-character story is a real story: counted by characters, not by (absent) spaces.
    assert count_words("".join(paragraphs)[:300]) >= MIN_WORDS
    # Unspaced paragraphs in a row are an article, not a menu of one-"word" labels.
    assert clean_paragraphs(paragraphs) == paragraphs


@pytest.mark.parametrize(
    ("language", "encoding"),
    [
        ("el", "iso-8859-7"),
        ("he", "iso-8859-8"),
        ("ru", "koi8-r"),
        ("ja", "euc-jp"),
        ("th", "cp874"),
        ("ar", "cp1256"),
        ("fr", "cp1252"),
        ("de", "cp1252"),
    ],
)
def test_undeclared_charsets_are_detected(language: str, encoding: str) -> None:
    body, expected = _page_of(language)
    source = expected["encoding"]
    html = decode_html(body, source).replace(f'<meta charset="{source}">', "")
    decoded = decode_html(html.encode(encoding), None)
    assert expected["title"] in decoded
    for snippet in expected["with"]:
        assert snippet in decoded


_TEASERS = """
<ul class="related">
<li><a href="/news/2026/09/12/county-budget-schools"><time datetime="2026-09-12T08:00:00Z">12 September 2026</time>
County sets aside money for school buildings</a></li>
<li><a href="/news/2026/05/02/storm-damage-hillside">2 May 2026: Storm damage closes school hall</a></li>
</ul>"""
_STORY = " ".join(["The county council paid for the new roof after an inspection found the timber rotten."] * 8)


def _dated_page(byline: str, extra: str = "") -> str:
    return (
        "<html><head><title>School roof repaired</title></head><body><div class='content'>"
        f"<h1>School roof repaired</h1><p class='byline'>{byline}</p><p>{_STORY}</p>{extra}</div>"
        f"{_TEASERS}</body></html>"
    )


def test_date_never_comes_from_a_teaser_or_a_quotation() -> None:
    url = "https://valley-gazette.example/news/school-roof"
    quoted = (
        "<blockquote><p>On <time datetime='2019-03-14'>14 March 2019</time> we warned the roof would fail.</p>"
        "</blockquote>"
    )
    result = extract_article(_dated_page("By Owen Pritchard", quoted), url)
    assert isinstance(result, Article)
    assert result.published_at is None  # neither a teaser's date nor the quoted letter's


def test_byline_date_linked_to_an_archive_page_still_counts() -> None:
    url = "https://valley-gazette.example/news/school-roof"
    byline = (
        "By Owen Pritchard, <a href='/news/2026/11/03/'>"
        "<time datetime='2026-11-03T09:00:00Z'>3 November 2026</time></a>"
    )
    result = extract_article(_dated_page(byline), url)
    assert isinstance(result, Article)
    assert result.published_at == datetime(2026, 11, 3, 9, tzinfo=UTC)


# Another local story in the same language and script, to tell a copy from a neighbour.
_OTHER_STORIES = {
    "ja": "市内の小学校で秋の運動会が開かれ、子どもたちが徒競走や玉入れなどで元気な姿を見せた。保護者ら約五百人が応援に"
    "訪れ、会場は大きな拍手に包まれた。学校によると、今年は熱中症対策として午前中だけの開催とし、競技の数も減らした"
    "という。来年は地域の人も参加できる種目を増やす予定だ。",
    "zh": "本市第三届读书节于本周末在市图书馆开幕，活动将持续一个月。期间将举办作家讲座、亲子阅读和旧书交换等二十多场"
    "活动。图书馆负责人表示，希望通过读书节让更多市民养成阅读习惯。开幕当天，不少家长带着孩子前来参加，现场十分热闹。",
    "th": "โรงเรียนประถมในตัวเมืองจัดงานกีฬาสีประจำปี โดยมีนักเรียนและผู้ปกครองมาร่วมกิจกรรมเป็นจำนวนมาก "
    "ครูใหญ่กล่าวว่าปีนี้ได้เพิ่มการแข่งขันวิ่งผลัดและชักเย่อ เพื่อให้เด็กๆ ได้ออกกำลังกายและสนุกสนานร่วมกัน",
}


@pytest.mark.parametrize("language", ["ja", "zh", "th"])
def test_near_copies_without_spaces_are_near_duplicates(language: str) -> None:
    body, expected = _page_of(language)
    story = extract_article(body, expected["url"])
    assert isinstance(story, Article)
    paragraphs = story.text.split("\n\n")
    # A syndicated copy: the last paragraph dropped, a credit added, two characters inserted.
    copy = "\n\n".join([*paragraphs[:-1], "(共同)"]).replace(paragraphs[1][:6], paragraphs[1][:6] + "新た", 1)

    def signature(text: str):  # noqa: ANN202
        return minhash_signature(normalise_text(text))

    # Clause shingles scored this copy 0.69 (ja), 0.48 (zh) and 0.12 (th); character shingles 0.8-0.9.
    assert estimate_similarity(signature(story.text), signature(copy)) >= DEFAULT_NEAR_DUPLICATE_THRESHOLD
    assert estimate_similarity(signature(story.text), signature(_OTHER_STORIES[language])) < 0.3


def test_a_list_of_unspaced_headlines_is_a_listing_page() -> None:
    items = "".join(
        f'<div class="item"><h3><a href="/local/story-{n}">市内の新しい公園で第{n}回の清掃活動が行われ多くの住民が参加</a></h3>'
        f"<p>市内の新しい公園で第{n}回の清掃活動が行われ多くの住民が参加</p></div>"
        for n in range(1, 13)
    )
    page = f"<html><head><title>地域ニュース一覧</title></head><body><h1>地域ニュース</h1>{items}</body></html>"
    result = extract_article(page, "https://minato.example/local/")
    assert not result
    assert result.reason == "listing-page"


def test_an_unspaced_body_long_enough_to_identify_a_story_does() -> None:
    # Two clauses of Thai: two "words" by spaces, about forty by characters.
    thai = "ตลาดน้ำริมคลองกลับมาเปิดให้บริการอีกครั้ง โดยมีนักท่องเที่ยวมาเที่ยวชมเป็นจำนวนมาก"
    assert identifies_article(normalise_text(thai))
    assert not identifies_article(normalise_text("駅前の再開発"))


def test_a_model_that_cannot_be_loaded_leaves_the_declared_language(monkeypatch):
    """py3langid unpacks its model through a temporary file: on a full disk the page keeps its
    declared language instead of failing (the reading pool's fork server preloads the model)."""
    from py3langid import langid

    from crawler.extraction import language

    def disk_full(*args, **kwargs):
        raise OSError(27, "File too large")

    language.load_language_model.cache_clear()
    monkeypatch.setattr(langid.LanguageIdentifier, "from_model_file", disk_full)
    try:
        assert language.detect_language("Der Gemeinderat hat am Dienstag den Haushalt beschlossen. " * 5, "de") == "de"
    finally:
        language.load_language_model.cache_clear()
