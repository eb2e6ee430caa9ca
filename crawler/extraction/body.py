"""The article body: trafilatura's main text, split into paragraphs and cleaned of boilerplate.

The boilerplate filters are pattern classes that recur across news sites (icon
sprite labels, media-player time runs, comment-policy notices, cookie and
newsletter boxes, "Advertisement"/"Related" labels), never rules for one site.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_paragraph", "clean_paragraphs", "shingles", "containment", "word_tokens"]

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"), None)
_WORD = re.compile(r"\w+")

# "icon bookmark-b icon camera icon check": sprite labels rendered as text.
_ICON_PAIR = re.compile(r"\bicons?[-_]?[\w-]*(?:\s+(?!icon)[\w-]+)?", re.I)
_ICON_RUN = re.compile(r"(?:\bicons?[-_]?[\w-]*(?:\s+(?!icons?\b)[a-z][\w-]*)?\s*){2,}", re.I)
# "0:00 13:56", "Podcasts 00:00 / 45:12"
_CLOCK = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])")

_LABEL_ONLY = re.compile(
    r"^(?:advertisements?|advertisment|ads?|sponsored(?: content)?|paid content|promoted(?: content)?"
    r"|(?:story )?continues? (?:reading )?below(?: advertisement)?|continue reading(?: below)?(?: the main story)?"
    r"|scroll (?:down )?to continue(?: reading)?|related(?: stories| articles| posts| content| news| coverage| links| reading)?"
    r"|more (?:stories|news|coverage|articles|on this story|on this topic)|read more|read next|read also|also read|see also"
    r"|recommended(?: for you| stories| articles)?|trending(?: now| stories)?|most (?:popular|read|viewed)|popular (?:stories|posts)"
    r"|you (?:may|might) also like|share(?: this)?(?: article| story| post| page)?(?: on)?|share via|copy link|link copied"
    r"|follow us(?: on .*)?|print(?: this)?(?: article| page)?|email|facebook|twitter|linkedin|whatsapp|pinterest|reddit"
    r"|x|listen(?: to this article| to this story)?|comments?|leave a comment|post a comment|view comments|show comments"
    r"|\d+ comments?|tags?|topics?|image|photo|video|watch|getty images|reuters|ap|afp|skip to (?:main )?content"
    r"|back to top|loading(?:\.\.\.|…)?|close|menu|search)\s*[:.!…]*$",
    re.I,
)
# "READ MORE: <headline>", "RELATED: ...", "WATCH: ..." — cross-links set inside the body.
_CROSS_LINK = re.compile(
    r"^(?:read more|read also|also read|related|see also|more|recommended|watch|listen|click here|must read"
    r"|related (?:article|story|coverage|content|reading)|more on this|don't miss|do not miss)\s*[:|»>–—-]\s*\S",
    re.I,
)
_COMMENT_NOTICE = re.compile(r"\bcomment", re.I)
_COMMENT_POLICY = re.compile(
    r"\b(?:polic(?:y|ies)|guidelines?|moderat\w*|civil\w*|respectful|engagement|community standards|terms of use|house rules)\b", re.I
)
_COOKIE = re.compile(r"\bcookies?\b", re.I)
_COOKIE_CONTEXT = re.compile(
    r"\b(?:consent|accept|we use|this (?:site|website) uses|privacy|preferences|settings|browsing experience|partners)\b", re.I
)
_NEWSLETTER = re.compile(r"\b(?:newsletters?|subscribe|sign[ -]?up|inbox)\b", re.I)
_NEWSLETTER_CONTEXT = re.compile(r"\b(?:e-?mail|inbox|newsletters?|subscribe|delivered|weekly|daily|unsubscribe)\b", re.I)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)", re.I)
_PHOTO_CREDIT = re.compile(r"^(?:photo|image|picture|credit|illustration|video)s?(?: credit)?\s*:\s*\S.{0,80}$", re.I)


def normalise_paragraph(text: str) -> str:
    """NFC, no zero-width characters, single spaces, no surrounding whitespace."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return " ".join(text.split())


def word_tokens(text: str) -> list[str]:
    return _WORD.findall(text)


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Drop boilerplate paragraphs and strip icon-label runs from the rest."""
    kept: list[str] = []
    for raw in paragraphs:
        paragraph = normalise_paragraph(raw)
        if not paragraph:
            continue
        paragraph = _strip_icon_runs(paragraph)
        if not paragraph or is_boilerplate(paragraph):
            continue
        kept.append(paragraph)
    return kept


def _strip_icon_runs(paragraph: str) -> str:
    if "icon" not in paragraph.lower():
        return paragraph
    return " ".join(_ICON_RUN.sub(" ", paragraph).split())


def is_boilerplate(paragraph: str) -> bool:
    words = paragraph.split()
    count = len(words)
    if count <= 8 and _LABEL_ONLY.match(paragraph.strip(" -–—|•·*#>")):
        return True
    if count <= 30 and _CROSS_LINK.match(paragraph):
        return True
    clocks = _CLOCK.findall(paragraph)
    if len(clocks) >= 2 and count - len(clocks) <= 8:
        return True
    if count <= 120 and _COMMENT_NOTICE.search(paragraph) and _COMMENT_POLICY.search(paragraph):
        return True
    if count <= 100 and _COOKIE.search(paragraph) and _COOKIE_CONTEXT.search(paragraph):
        return True
    if count <= 50 and _NEWSLETTER.search(paragraph) and len(_NEWSLETTER_CONTEXT.findall(paragraph)) >= 2:
        return True
    if count <= 30 and _COPYRIGHT.match(paragraph):
        return True
    return False


def shingles(tokens: list[str], size: int = 4) -> set[tuple[str, ...]]:
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def containment(inner: set[tuple[str, ...]], outer: set[tuple[str, ...]]) -> float:
    """Share of ``inner``'s shingles found in ``outer`` (1.0 for an empty ``inner``)."""
    if not inner:
        return 1.0
    return len(inner & outer) / len(inner)
