"""The article body: trafilatura's main text, split into paragraphs and cleaned of boilerplate.

The boilerplate filters are pattern classes that recur across news sites (icon
sprite labels, media-player time runs, comment-policy notices, cookie and
newsletter boxes, "Advertisement"/"Related" labels), never rules for one site.
"""

from __future__ import annotations

import re
import unicodedata

from .hovercards import collapse_doubled_names

__all__ = [
    "clean_paragraphs",
    "containment",
    "count_words",
    "normalise_paragraph",
    "shingles",
    "word_tokens",
]

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f]")
_WORD = re.compile(r"\w+")

# "icon bookmark-b icon camera icon check": sprite labels rendered as text.
_ICON_RUN = re.compile(
    r"(?:\bicons?[-_]?[\w-]*(?:\s+(?!icons?\b)[a-z][\w-]*)?\s*){2,}", re.IGNORECASE
)

_LABEL_ONLY = re.compile(
    r"^(?:advertisements?|advertisment|ads?|sponsored(?: content)?|paid content|promoted(?: content)?"
    r"|(?:story )?continues? (?:reading )?below(?: advertisement)?|continue reading(?: below)?(?: the main story)?"
    r"|scroll (?:down )?to continue(?: reading)?|related(?: stories| articles| posts| content| news| coverage| links| reading)?"
    r"|more (?:stories|news|coverage|articles|on this story|on this topic)|read more|read next|read also|also read|see also"
    r"|recommended(?: for you| stories| articles)?|trending(?: now| stories)?|most (?:popular|read|viewed)|popular (?:stories|posts)"
    r"|you (?:may|might) also like|share(?: this)?(?: article| story| post| page)?(?: on)?|share via|copy link|link copied"
    r"|follow us(?: on .*)?|print(?: this)?(?: article| page)?|email|facebook|twitter|linkedin|whatsapp|pinterest|reddit"
    r"|listen(?: to this article| to this story)?|comments?|leave a comment|post a comment|view comments|show comments"
    r"|\d+ comments?|tags?|topics?|image|photo|video|watch|getty images|reuters|ap|afp|skip to (?:main )?content"
    r"|table of contents|contents|in this article|on this page|jump to(?: section)?|skip to(?: main)? content"
    r"|learn more|get started|shop now|buy now|see details|view details|see more|view more|show more|load more"
    r"|opens? in (?:a )?new (?:window|tab)|sign me up|get (?:the )?deal|subscribe(?: now)?|sign (?:up|in)(?: now)?|log ?in|register"
    r"|back to top|loading(?:\.\.\.|…)?|close|menu|search|published|updated|posted(?: on| by)?|last updated)\s*[:.!…]*$",
    re.IGNORECASE,
)
# Notices addressed to commenters: "read our comments policy", "community guidelines".
_COMMENT_POLICY = re.compile(
    r"\bcomment(?:s|ing|er|ers)?\s+(?:polic(?:y|ies)|guidelines?|rules|section|moderation|standards)\b"
    r"|\b(?:community|discussion|house)\s+(?:guidelines|rules|standards)\b",
    re.IGNORECASE,
)
_COMMENT_WORD = re.compile(r"\bcomment", re.IGNORECASE)
_COOKIE = re.compile(
    r"\b(?:we|this (?:web)?site|our (?:web)?site|websites?)\s+uses?\s+cookies\b|\bcookie\s+(?:polic(?:y|ies)|settings|preferences|consent|notice)\b"
    r"|\baccept (?:all )?cookies\b|\buse of cookies\b",
    re.IGNORECASE,
)
# A call to action, not an article that mentions newsletters.
_NEWSLETTER = re.compile(
    r"\b(?:sign[ -]?up|subscribe|register|join|enter your e-?mail)\b.{0,80}\b(?:newsletters?|inbox|e-?mails?|updates)\b"
    r"|\b(?:newsletters?|inbox)\b.{0,60}\b(?:sign[ -]?up|subscribe)\b",
    re.IGNORECASE,
)
_SUBSCRIBED = re.compile(
    r"\b(?:thanks?(?: you)? for (?:subscribing|signing up)|you(?:'|’)re (?:now )?subscribed|successfully subscribed)\b",
    re.IGNORECASE,
)
_READING_TIME = re.compile(
    r"^(?:\d+|one|two|three|five|ten)[\s-]*(?:min(?:ute)?s?\.?)[\s-]*(?:read|reading|listen)\b",
    re.IGNORECASE,
)
# "We may earn a commission from links on this page": affiliate disclosures.
_AFFILIATE = re.compile(
    r"\b(?:(?:we|may|might|could)\s+(?:\w+\s+){0,3}earn (?:an? )?(?:small )?(?:affiliate )?commissions?"
    r"|contains? affiliate links?|affiliate (?:links?|commissions?) (?:on|in) this (?:page|post|article)"
    r"|as an amazon associate)\b",
    re.IGNORECASE,
)
_ADVERT_LABEL = re.compile(
    r"^(?:advertisement|sponsored|ad)\W+(?:continue|scroll|story continues|article continues)\b",
    re.IGNORECASE,
)
# Consent-panel prose: cookie categories described in terms of websites and tracking.
_COOKIE_WORD = re.compile(r"\bcookies?\b", re.IGNORECASE)
_COOKIE_TECH = re.compile(
    r"\b(?:websites?|browsers?|consent|visitors?|analytics|functionality|third[- ]party|opt[- ]out|gdpr|tracking|personali[sz]ed ads)\b",
    re.IGNORECASE,
)
_AGREE_BY_ACTION = re.compile(
    r"^by (?:signing up|subscribing|clicking|continuing|registering|submitting|using this)\b.{0,200}\bagree",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"^(?:(?:photo|image|picture)\s+)?credits?\s*:\s*\S", re.IGNORECASE
)
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)\s*\d{4}|copyright\s*(?:©|\(c\)|\d{4}))|\ball rights reserved\b",
    re.IGNORECASE,
)
# A template's placeholder text left in a block the CMS never filled (often hidden on the page).
_PLACEHOLDER = re.compile(r"^\W*lorem ipsum\b", re.IGNORECASE)
# "0:00 / 13:56", "00:00 - 45:12": a media player's position and duration.
_TIME_RUN = re.compile(
    r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?\s*(?:/|of|-|–|\|)?\s*\d{1,2}:\d{2}(?::\d{2})?(?![\d:])"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# "Published: May 2, 2024", "Updated 12/05/2024 10:31", "Posted On": a dateline on its own.
_DATELINE = re.compile(
    rf"^(?:(?:last\s+)?(?:published|updated|posted|modified|reviewed|date)(?:\s+(?:on|at|date))?\s*:?\s*)?"
    rf"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}|{_MONTH}\s+\d{{4}})?"
    rf"(?:,?\s*(?:at\s+)?\d{{1,2}}[:.]\d{{2}}\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s*[a-z]{{2,4}})?)?\s*$",
    re.IGNORECASE,
)


def normalise_paragraph(text: str) -> str:
    """NFC, no zero-width characters, single spaces, no surrounding whitespace."""
    if not text.isascii():  # ASCII is NFC already and holds no zero-width character
        text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def word_tokens(text: str) -> list[str]:
    return _WORD.findall(text)


# Scripts written without spaces between words, and about how many characters make a word:
# Han and kana (Chinese, Japanese) two; Thai, Lao, Burmese and Khmer three (their vowel and tone
# marks are characters of their own). Hangul is written with spaces.
_HAN_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_SOUTHEAST_ASIAN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_UNSPACED_SCRIPT = re.compile(f"{_HAN_KANA.pattern}|{_SOUTHEAST_ASIAN.pattern}")
_CHARS_PER_HAN_KANA_WORD = 2
_CHARS_PER_SOUTHEAST_ASIAN_WORD = 3


def count_words(text: str) -> int:
    """Whitespace-separated words; runs of scripts written without spaces counted by characters."""
    if text.isascii() or not _UNSPACED_SCRIPT.search(text):
        return len(text.split())
    han_kana = len(_HAN_KANA.findall(text))
    southeast_asian = len(_SOUTHEAST_ASIAN.findall(text))
    spaced = len(_UNSPACED_SCRIPT.sub(" ", text).split())
    return (
        spaced
        + han_kana // _CHARS_PER_HAN_KANA_WORD
        + southeast_asian // _CHARS_PER_SOUTHEAST_ASIAN_WORD
    )


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Drop boilerplate paragraphs; strip icon-label runs and hover-card names from the rest."""
    kept: list[str] = []
    for raw in paragraphs:
        paragraph = normalise_paragraph(raw)
        if not paragraph:
            continue
        paragraph = collapse_doubled_names(_strip_icon_runs(paragraph))
        if not paragraph or is_boilerplate(paragraph):
            continue
        kept.append(paragraph)
    return _drop_repeated_runs(_drop_menu_runs(kept))


# A menu flattened into the text: many consecutive one-to-three-word labels.
_MENU_RUN = 8
_MENU_LABEL_WORDS = 3


def _is_menu_label(paragraph: str) -> bool:
    return (
        count_words(paragraph) <= _MENU_LABEL_WORDS
        and not paragraph.startswith(("- ", "* ", "• "))
        and paragraph[-1] not in ".:;!?,)\"”'。．！？」』）…"
        and not any(map(str.isdigit, paragraph))
    )


def _drop_menu_runs(paragraphs: list[str]) -> list[str]:
    kept: list[str] = []
    run: list[str] = []
    for paragraph in [*paragraphs, ""]:
        if paragraph and _is_menu_label(paragraph):
            run.append(paragraph)
            continue
        if len(run) < _MENU_RUN:
            kept.extend(run)
        run = []
        if paragraph:
            kept.append(paragraph)
    return kept


# The text again: a run of this many paragraphs, with this many words, that repeats an earlier run
# in the same order. Pages carry a second and third copy of the body for another layout or an app
# view; on `tune` such copies tripled three pages' text, and no shorter repeat (a pull quote, a
# heading shared by sections) was a copy.
_REPEAT_RUN = 3
_REPEAT_RUN_WORDS = 50


def _drop_repeated_runs(paragraphs: list[str]) -> list[str]:
    keys = [paragraph.casefold() for paragraph in paragraphs]
    first_seen: dict[str, int] = {}
    kept: list[str] = []
    index = 0
    while index < len(keys):
        earlier = first_seen.get(keys[index])
        if earlier is not None:
            run = _same_run(keys, earlier, index)
            copy = paragraphs[index : index + run]
            # Each paragraph counts at least one word: a repeat left in place is then shorter than
            # _REPEAT_RUN_WORDS paragraphs, so no page of repeats makes this walk quadratic.
            if run >= _REPEAT_RUN and sum(max(1, count_words(p)) for p in copy) >= _REPEAT_RUN_WORDS:
                index += run
                continue
        first_seen.setdefault(keys[index], index)
        kept.append(paragraphs[index])
        index += 1
    return kept


def _same_run(keys: list[str], earlier: int, later: int) -> int:
    """How many paragraphs from ``later`` on repeat those from ``earlier`` on (before ``later``)."""
    run = 0
    while later + run < len(keys) and earlier + run < later and keys[earlier + run] == keys[later + run]:
        run += 1
    return run


def _strip_icon_runs(paragraph: str) -> str:
    if "icon" not in paragraph.lower():
        return paragraph
    return " ".join(_ICON_RUN.sub(" ", paragraph).split())


def _keyword_text(paragraph: str) -> str:
    """``paragraph`` lower-cased for the cheap keyword tests that gate the patterns below.

    The patterns ignore case the way ``re`` does, where "İ" and dotless "ı" match "i" and long
    "ſ" matches "s"; folding those too keeps every gate at least as wide as its pattern.
    """
    if "İ" in paragraph or "ı" in paragraph or "ſ" in paragraph:
        paragraph = paragraph.replace("İ", "i").replace("ı", "i").replace("ſ", "s")
    return paragraph.lower()


def is_boilerplate(paragraph: str) -> bool:
    words = paragraph.split()
    count = len(words)
    if count <= 8 and _LABEL_ONLY.match(paragraph.strip(" -–—|•·*#>")):
        return True
    if (
        count <= 12
        and any(map(str.isdigit, paragraph))
        and _DATELINE.match(paragraph)
    ):
        return True
    if (
        count <= 12
        and ":" in paragraph
        and _TIME_RUN.search(paragraph)
        and '"' not in paragraph
        and "{" not in paragraph
    ):
        return True
    if count > 150:
        return False
    # Each pattern below needs one of a few words: most paragraphs hold none, and a substring
    # test is far cheaper than the pattern.
    lowered = _keyword_text(paragraph)
    if (
        count <= 80
        and "comment" in lowered
        and _COMMENT_WORD.search(paragraph)
        and _COMMENT_POLICY.search(paragraph)
    ):
        return True
    if "cookie" in lowered:
        if count <= 80 and _COOKIE.search(paragraph):
            return True
        if (
            len(_COOKIE_WORD.findall(paragraph)) >= 2
            and len({m.lower() for m in _COOKIE_TECH.findall(paragraph)}) >= 2
        ):
            return True
    if count <= 60 and "agree" in lowered and _AGREE_BY_ACTION.match(paragraph):
        return True
    if count <= 8 and _CREDIT.match(paragraph):
        return True
    if count <= 40 and (
        (
            any(word in lowered for word in ("newsletter", "inbox", "mail", "update"))
            and _NEWSLETTER.search(paragraph)
        )
        or (
            ("subscri" in lowered or "signing up" in lowered)
            and _SUBSCRIBED.search(paragraph)
        )
    ):
        return True
    if count <= 6 and _READING_TIME.match(paragraph):
        return True
    if (
        count <= 60
        and any(word in lowered for word in ("commission", "affiliate", "amazon associate"))
        and _AFFILIATE.search(paragraph)
    ):
        return True
    if count <= 6 and _ADVERT_LABEL.match(paragraph):
        return True
    if "lorem" in lowered and _PLACEHOLDER.match(paragraph):
        return True
    return bool(
        count <= 30
        and any(word in lowered for word in ("©", "(c)", "copyright", "all rights reserved"))
        and _COPYRIGHT.search(paragraph)
    )


def shingles(tokens: list[str], size: int = 4) -> set[tuple[str, ...]]:
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def containment(inner: set[tuple[str, ...]], outer: set[tuple[str, ...]]) -> float:
    """Share of ``inner``'s shingles found in ``outer`` (1.0 for an empty ``inner``)."""
    if not inner:
        return 1.0
    return len(inner & outer) / len(inner)
