"""extract_article(): one page (bytes or text) -> Article, or Rejection with the reason."""

from __future__ import annotations

import html as html_lib
import logging
import re
from typing import TYPE_CHECKING

import lxml.html
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.settings import Extractor

from .body import (
    clean_paragraphs,
    containment,
    count_words,
    normalise_paragraph,
    shingles,
    word_tokens,
)
from .charset import decode_html, repair_mojibake
from .language import detect_language
from .markdown import structure_of, to_markdown
from .metadata import read_metadata
from .records import Article, Rejection
from .renditions import declared_renditions, rendition_of

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from trafilatura.settings import Document

logger = logging.getLogger(__name__)

__all__ = ["MIN_WORDS", "extract_article", "parse_page_html", "warm_up"]

# Fewer words than this in the body is a teaser, a stub or an error page, not an article.
MIN_WORDS = 60
# A page with a player and fewer words than this is a video page with a caption.
VIDEO_MAX_WORDS = 120

# Built once each and reused: a per-call Extractor would re-read the config.
# No dedup: its cache is process-global and would make a page's result depend
# on the pages processed before it.
_SHARED_OPTIONS = {
    "output_format": "python",
    "comments": False,
    "tables": True,
    "links": False,
    "images": False,
    "formatting": False,
    # Metadata is read by metadata.read_metadata(), which calls trafilatura's
    # and htmldate's readers only for the fields the page leaves empty.
    "with_metadata": False,
    "dedup": False,
}
# Recall mode first: on real news pages it loses less of the article and, after
# our own boilerplate filters, keeps no more noise than the balanced mode.
_OPTIONS = Extractor(recall=True, **_SHARED_OPTIONS)
# Balanced mode second opinion: recall mode trusts its own long-enough result and
# skips the readability/justext comparison, so it can settle on one block of a
# page whose article is spread over several. Only run when it could matter.
_BALANCED_OPTIONS = Extractor(**_SHARED_OPTIONS)
# Take the balanced text when it is this many times longer than the recall text.
_SECOND_OPINION_RATIO = 2
# Ask for it only when the recall text is under a quarter of the page's visible
# words: where the balanced text won, the page held 4.6x to 34x the recall text,
# and at 2x the pass ran on one page in six for a win on one in fifty.
_SECOND_OPINION_PAGE_RATIO = 4
# ...and only when most of what it adds is written in sentences that end. Where the balanced text
# lost on `tune` it added teaser excerpts cut mid-sentence or a banner repeated per country
# (0.02 and 0.23 of the added words in finished paragraphs); where it won, 0.8 to 1.0.
_SECOND_OPINION_FINISHED_SHARE = 0.5
# A paragraph that ends its last sentence: full stop, question or exclamation mark, ellipsis,
# colon or semicolon, a closing quote or bracket after one, in Latin, CJK, Arabic and Indic scripts.
_FINISHED = re.compile(r"[.!?…:;\"'”’»)\]。！？」』）؟।]\s*$")

# Like trafilatura's own parser, plus huge_tree: libxml2 otherwise stops at
# ~255 nesting levels and trafilatura silently returns nothing.
_PARSER = lxml.html.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
    huge_tree=True,
)
# Every element is an HtmlElement, chosen in C: lxml.html's own lookup is a Python call per
# element touched (some 5,700 per page, 13 % of reading a real page) only to give form fields
# their own classes, whose methods nothing here uses.
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)

_BINARY_SIGNATURES = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"\x00\x00\x00\x18ftyp",
    b"\x00\x00\x00\x1cftyp",
    b"\x00\x00\x00 ftyp",
    b"BZh",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xd0\xcf\x11\xe0",
    b"wOFF",
    b"wOF2",
    b"\x7fELF",
    b"MZ",
)
_VIDEO_IFRAME = re.compile(
    r"youtube|youtu\.be|vimeo|dailymotion|jwplayer|brightcove|player|video|twitch|wistia|kaltura",
    re.IGNORECASE,
)
_TAG_LIKE = re.compile(
    rb"<\s*(?:!doctype|html|head|body|div|p|meta|title|article|span|a|script)\b",
    re.IGNORECASE,
)


def extract_article(
    html: bytes | str | HtmlElement, url: str, *, http_charset: str | None = None
) -> Article | Rejection:
    """Read one page. Never raises for bad input: a page that is not an article is a Rejection.

    ``http_charset`` is the charset of the HTTP Content-Type header (or the whole
    header); it is checked against the bytes rather than trusted. ``html`` may also be
    the tree :func:`parse_page_html` made of the page, for a caller that reads more
    from it (the crawl reads its links) and parses it once; the tree is left as it was.
    """
    url = url or ""
    try:
        return _extract(html, url, http_charset)
    except Exception as error:
        logger.warning("extraction failed on %s", url, exc_info=True)
        return Rejection("extraction-failed", f"{type(error).__name__}: {error}"[:200])


_WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up</title></head><body><article><h1>Ferry timetable changes</h1>"
    "<p>Publié le 5 mars 2024. " + "The harbour authority said the winter timetable would run until April. " * 12
    + "</p></article></body></html>"
)


def warm_up() -> None:
    """Load what extraction loads lazily (trafilatura, htmldate and dateparser's locale data).

    Run where workers start from (the reading pool's fork server, then each worker: cheap once
    warm), so no page pays seconds of loading inside its per-page timeout.
    """
    extract_article(_WARM_UP_PAGE, "https://example.com/ferry-timetable")
    try:  # htmldate's free-text date search loads every dateparser locale on first use
        from htmldate.extractors import external_date_parser, month_words
    except ImportError:
        return
    month_words()
    external_date_parser("5 mars 2024", "%Y-%m-%d")
    # Words no locale knows: dateparser tries, and compiles the patterns of, every locale (about
    # 1 s). Done lazily instead, that cost fell on a worker's first few hundred pages (~5 ms each).
    external_date_parser("Qzx 2024 Wxq", "%Y-%m-%d")


def _extract(
    html: bytes | str | HtmlElement, url: str, http_charset: str | None
) -> Article | Rejection:
    tree = html if isinstance(html, lxml.html.HtmlElement) else parse_page_html(html, http_charset)
    if isinstance(tree, Rejection):
        return tree
    return _extract_from_tree(tree, url)


def parse_page_html(
    html: bytes | str, http_charset: str | None = None
) -> HtmlElement | Rejection:
    """The page's tree, decoded from its bytes (see :func:`extract_article`), or why there is none."""
    if isinstance(html, bytes):
        rejection = _reject_bytes(html)
        if rejection is not None:
            return rejection
        text = decode_html(html, http_charset)
    else:
        text = html
    if not text.strip():
        return Rejection("empty", "no content")
    if "\x00" in text:
        if text.count("\x00") > len(text) // 100:
            return Rejection("not-html", "NUL characters dominate")
        text = text.replace("\x00", "")
    if not _TAG_LIKE.search(text[:65536].encode("utf-8", "replace")):
        return Rejection("not-html", "no HTML markup")

    tree = _parse(repair_mojibake(text))
    if tree is None:
        return Rejection("parse-failed", "lxml produced no tree")
    return tree


def _extract_from_tree(tree: HtmlElement, url: str) -> Article | Rejection:
    document = _run_trafilatura(tree, _OPTIONS, url)
    metadata = read_metadata(tree, url)
    paragraphs = _paragraphs(document)
    recall_words = sum(count_words(p) for p in paragraphs)
    if recall_words * _SECOND_OPINION_PAGE_RATIO < _page_words(tree):
        balanced_document = _run_trafilatura(tree, _BALANCED_OPTIONS, url)
        balanced = _paragraphs(balanced_document)
        if (
            sum(count_words(p) for p in balanced) > _SECOND_OPINION_RATIO * recall_words
            and _adds_sentences(paragraphs, balanced)
        ):
            document, paragraphs = balanced_document, balanced
    paragraphs = _prefer_json_ld_body(paragraphs, metadata.json_ld_body)
    paragraphs = _drop_title_echo(paragraphs, metadata.title)
    body = "\n\n".join(paragraphs)
    word_count = count_words(body)

    if word_count < MIN_WORDS:
        page = _page_signals(tree)
        if page.has_player or metadata.is_video_typed:
            return Rejection("video-only", f"player with {word_count} words of text")
        if page.teaser_links >= 8 and not metadata.is_article_typed:
            return Rejection(
                "listing-page", f"{page.teaser_links} teaser links, {word_count} words"
            )
        if word_count == 0:
            return Rejection("too-little-text", "no body text found")
        return Rejection("too-little-text", f"{word_count} words")
    if (
        word_count < VIDEO_MAX_WORDS
        and metadata.is_video_typed
        and not metadata.is_article_typed
    ):
        return Rejection("video-only", f"video page with {word_count} words of text")
    # Anchors are only read when the page could be a listing: an untyped page
    # with enough paragraphs for a list of teasers.
    if (
        not metadata.is_article_typed
        and len(paragraphs) >= _TEASER_MIN_PARAGRAPHS
        and _mostly_teasers(paragraphs, _page_signals(tree).teaser_texts)
    ):
        return Rejection("listing-page", "body is mostly link teasers")

    # The structure is read from the tree trafilatura already built, only for a page that is kept.
    markdown = to_markdown(paragraphs, structure_of(document.body if document is not None else None))
    # The text decides; <html lang> / og:locale are only a hint (templates declare them wrongly).
    language = detect_language(body, metadata.language)
    return Article(
        url=url,
        title=metadata.title,
        text=body,
        authors=metadata.authors,
        published_at=metadata.published_at,
        modified_at=metadata.modified_at,
        language=language,
        description=metadata.description,
        section=metadata.section,
        tags=metadata.tags,
        image_url=metadata.image_url,
        canonical_url=metadata.canonical_url,
        word_count=word_count,
        notes=tuple(metadata.notes),
        rendition=rendition_of(tree, url, metadata.canonical_url),
        declared_renditions=declared_renditions(tree, url),
        markdown=markdown,
    )


def _reject_bytes(body: bytes) -> Rejection | None:
    if not body.strip():
        return Rejection("empty", "no bytes")
    head = body[:16].lstrip()
    for signature in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return Rejection("not-html", f"binary signature {signature[:8]!r}")
    sample = body[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        return None  # UTF-16: NULs are expected
    if sample.count(0) > len(sample) // 10:
        return Rejection("not-html", "NUL bytes dominate")
    return None


def _parse(text: str) -> HtmlElement | None:
    data = text.encode("utf-8", "replace")
    try:
        return _adopt_stray_roots(lxml.html.document_fromstring(data, parser=_PARSER))
    except (etree.ParserError, ValueError):
        pass
    try:
        return _adopt_stray_roots(lxml.html.fromstring(data, parser=_PARSER))
    except (etree.ParserError, ValueError):
        return None


def _adopt_stray_roots(root: HtmlElement) -> HtmlElement:
    """Move what lies beside the root into it: a page that opens a second ``<html>`` after its
    ``</html>`` (a plugin's whole template, often the article itself) gets a second top-level
    element from lxml, which nothing reading the page from its root (page type, links, body) sees.
    """
    strays = [element for element in root.itersiblings() if isinstance(element.tag, str)]
    if not strays:
        return root
    body = root.find("body")
    home = body if body is not None else root
    for stray in strays:
        stray_body = stray.find("body")
        for child in list(stray_body if stray_body is not None else stray):
            if child.tag != "head":
                home.append(child)  # moved, with its tail
    return root


def _run_trafilatura(
    tree: HtmlElement, options: Extractor, url: str
) -> Document | None:
    try:
        return bare_extraction(tree, options=options)
    except Exception as error:  # noqa: BLE001 — a trafilatura bug must not kill the crawl
        logger.warning("trafilatura failed on %s: %r", url, error)
        return None


# Plain strings: lxml's default "smart" results each carry a link to their element.
_ALL_TEXT = etree.XPath("//body//text()", smart_strings=False)
_EVERY_TEXT = etree.XPath("//text()", smart_strings=False)
# Text a reader never sees; subtracting it is cheaper than an ancestor test per node.
_INVISIBLE_TEXT = etree.XPath(
    "//body//script//text() | //body//style//text()"
    " | //body//noscript//text() | //body//template//text()",
    smart_strings=False,
)


def _page_words(tree: HtmlElement) -> int:
    """Words a reader could see anywhere on the page: an upper bound for any extraction."""
    texts = _ALL_TEXT(tree) or _EVERY_TEXT(tree)
    return count_words(" ".join(texts)) - count_words(" ".join(_INVISIBLE_TEXT(tree)))


def _paragraphs(document: Document | None) -> list[str]:
    if document is None or not document.text:
        return []
    return clean_paragraphs(document.text.split("\n"))


def _adds_sentences(paragraphs: list[str], longer: list[str]) -> bool:
    """Whether most words ``longer`` adds to ``paragraphs`` are in paragraphs that end a sentence:
    article text is, related-post excerpts and promotional banners mostly are not."""
    have = set(paragraphs)
    added = [(count_words(p), bool(_FINISHED.search(p))) for p in longer if p not in have]
    finished = sum(words for words, ends in added if ends)
    return finished > _SECOND_OPINION_FINISHED_SHARE * sum(words for words, _ in added)


def _prefer_json_ld_body(paragraphs: list[str], json_ld_body: str | None) -> list[str]:
    """Use JSON-LD articleBody when it holds what trafilatura found and more.

    Publishers often fill articleBody from their CMS: clean and complete when
    it agrees with the page, truncated (paywalls) or stale when it does not.
    """
    if not json_ld_body:
        return paragraphs
    text = json_ld_body
    if "<" in text and ">" in text:
        try:
            text = lxml.html.fromstring(f"<div>{text}</div>").text_content()
        except (etree.ParserError, ValueError):
            return paragraphs
    text = html_lib.unescape(text)
    candidate = clean_paragraphs(re.split(r"\n+|\r+", text))
    candidate_words = count_words(" ".join(candidate))
    current_words = count_words(" ".join(paragraphs))
    if candidate_words < MIN_WORDS:
        return paragraphs
    if current_words < MIN_WORDS:
        return candidate
    candidate_shingles = shingles(word_tokens(" ".join(candidate)))
    current_shingles = shingles(word_tokens(" ".join(paragraphs)))
    if (
        candidate_words >= 1.1 * current_words
        and containment(current_shingles, candidate_shingles) >= 0.6
    ):
        return candidate
    return paragraphs


def _drop_title_echo(paragraphs: list[str], title: str | None) -> list[str]:
    """trafilatura sometimes keeps the headline as the first line; the title field holds it."""
    if (
        paragraphs
        and title
        and normalise_paragraph(paragraphs[0]).casefold() == title.casefold()
    ):
        return paragraphs[1:]
    return paragraphs


class _PageSignals:
    __slots__ = ("has_player", "teaser_links", "teaser_texts")

    def __init__(self, has_player: bool, teaser_texts: set[str]) -> None:
        self.has_player = has_player
        self.teaser_texts = teaser_texts
        self.teaser_links = len(teaser_texts)


def _page_signals(tree: HtmlElement) -> _PageSignals:
    has_player = tree.find(".//video") is not None
    if not has_player:
        for frame in tree.iterfind(".//iframe"):
            if _VIDEO_IFRAME.search(frame.get("src") or frame.get("data-src") or ""):
                has_player = True
                break
    teasers: set[str] = set()
    for anchor in tree.iterfind(".//a"):
        if not anchor.get("href"):
            continue
        label = " ".join(anchor.text_content().split())
        if count_words(label) >= 4:  # counted by characters in scripts without spaces
            teasers.add(label.casefold())
    return _PageSignals(has_player, teasers)


_TEASER_MIN_PARAGRAPHS = 5


def _mostly_teasers(paragraphs: list[str], teaser_texts: set[str]) -> bool:
    """A listing page's "body" is its link labels and their standfirsts."""
    if len(paragraphs) < _TEASER_MIN_PARAGRAPHS or not teaser_texts:
        return False
    linked = sum(1 for p in paragraphs if p.casefold() in teaser_texts)
    return linked >= 5 and linked >= 0.4 * len(paragraphs)
