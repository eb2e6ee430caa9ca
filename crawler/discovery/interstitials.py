"""Pages that stand in front of a story: consent walls, paywalls, bot challenges, JavaScript shells.

A site can answer an article URL with a page that is not the article: a cookie-consent wall, a
subscription wall, a bot check, or an empty shell that needs JavaScript. Such a page must never be
stored as a story (five URLs answering with one consent wall became one "article" and four
duplicates), and its URL must be tried again later, when the story may be served.

The signals are generic: phrases every such page shows (buttons, headings, titles), markers in
the markup (challenge forms, captcha widgets, app mount points), and, above all, how little story
text the page holds besides the wall. A real article that carries a cookie banner or a newsletter
box keeps its paragraphs and is never flagged; only a page whose prose is (nearly) all wall is.

Pure functions over an lxml tree; the tree is read, never changed.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["INTERSTITIAL_KINDS", "Interstitial", "detect_interstitial"]

INTERSTITIAL_KINDS = ("bot-challenge", "javascript-required", "consent", "paywall")

#: Elements whose text no reader sees.
_INVISIBLE = frozenset({"script", "style", "template", "svg", "iframe", "object", "head", "title", "meta", "link"})
#: Elements that start a block of text of their own (a paragraph, a button, a list item...).
_BLOCKS = frozenset(
    {"p", "div", "li", "td", "th", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2",
     "h3", "h4", "h5", "h6", "blockquote", "dd", "dt", "form", "dialog", "body", "pre", "figcaption", "label",
     "button", "noscript", "fieldset", "legend", "summary", "details", "ul", "ol", "table", "tr", "figure"}
)  # fmt: skip
#: Elements read for one page at most: a hostile page of millions of tiny elements costs no more.
MAX_ELEMENTS = 20_000
#: A block with at least this many characters is prose (a paragraph), not a menu item or button.
MIN_PROSE_CHARS = 60

#: Story prose (characters in paragraphs that say nothing of the wall) above which a page is an
#: article whatever wall it also carries. Characters, not words: CJK text has no spaces.
MAX_STORY_CHARS = {"consent": 700, "paywall": 450, "bot-challenge": 450, "javascript-required": 200}


_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


class _Phrases:
    """A set of phrases found in a text as whole words, case already folded.

    One big regex alternation scans a 200 KB page at a few ms per set; looking up each phrase's
    words in the page's word set first leaves the regex only the few phrases that can match.
    """

    def __init__(self, *phrases: str):
        self.phrases = phrases
        self.words = [frozenset(_WORD.findall(phrase)) for phrase in phrases]

    def may_be_in(self, words: frozenset[str]) -> tuple[str, ...]:
        """The phrases whose every word is in ``words``."""
        return tuple(p for p, needed in zip(self.phrases, self.words, strict=True) if needed <= words)

    def found(self, texts: tuple[str, ...], words: frozenset[str]) -> list[str]:
        """The distinct phrases in ``texts`` (whose words are ``words``), in order of appearance."""
        candidates = self.may_be_in(words)
        if not candidates:
            return []
        pattern = _pattern(candidates)
        return list(dict.fromkeys(_SPACES.sub(" ", m.group(0)) for text in texts for m in pattern.finditer(text)))


@functools.lru_cache(maxsize=256)
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases) + r")\b")


def _words(*texts: str) -> frozenset[str]:
    return frozenset(_WORD.findall(" ".join(texts)))


# What the wall's buttons, headings and titles say; several languages, matched casefolded.
_CONSENT_PHRASES = _Phrases(
    "before you continue", "we value your privacy", "we care about your privacy", "your privacy choices",
    "accept all", "reject all", "decline all", "allow all", "accept cookies", "accept all cookies",
    "allow cookies", "reject cookies", "agree and continue", "accept and continue", "i agree", "i accept",
    "manage preferences", "manage cookies", "manage options", "manage settings", "cookie settings",
    "cookie preferences", "privacy settings", "consent preferences", "legitimate interest",
    "store and/or access information on a device", "personalised ads", "personalized ads",
    "bevor sie fortfahren", "alle akzeptieren", "alle ablehnen", "zustimmen und weiter", "einstellungen verwalten",
    "avant de continuer", "tout accepter", "tout refuser", "accepter et continuer", "gérer les préférences",
    "antes de continuar", "aceptar todo", "rechazar todo", "aceitar tudo", "rejeitar tudo",
    "prima di continuare", "accetta tutti", "rifiuta tutti", "alles accepteren", "alles weigeren",
)  # fmt: skip
#: Words of consent legal text: a paragraph using one is the wall's, not the story's.
_CONSENT_WORDS = frozenset(
    "cookie cookies consent privacy partners vendors withdraw gdpr tracking advertising personalised "
    "personalized preferences einwilligung datenschutz consentement confidentialité consentimiento "
    "privacidad consenso".split()
)
_PAYWALL_PHRASES = _Phrases(
    "subscribers only", "subscriber only", "subscriber-only", "for subscribers", "exclusive to subscribers",
    "already a subscriber", "already subscribed", "subscribe to continue", "subscribe to read",
    "to continue reading", "to keep reading", "to read the full article", "to read this article",
    "to read the full story", "sign in to continue", "log in to continue", "login to continue",
    "register to continue", "create a free account to continue", "unlock this article", "unlock this story",
    "start your subscription", "become a subscriber", "premium article", "premium content",
    "this content is reserved", "this article is reserved", "members only", "für abonnenten", "réservé aux abonnés",
    "solo para suscriptores", "riservato agli abbonati",
)  # fmt: skip
#: Words of the other walls: a paragraph using one is no evidence of a story.
_OTHER_WALL_WORDS = frozenset(
    "subscribe subscriber subscribers subscription paywall captcha robot javascript abonnenten abonnés "
    "suscriptores abbonati".split()
)
_CHALLENGE_PHRASES = _Phrases(
    "just a moment", "attention required", "checking your browser", "checking if the site connection is secure",
    "verify you are human", "verifying you are human", "verify you are a human", "are you a robot",
    "not a robot", "i am human", "complete the security check", "security check", "ddos protection",
    "unusual traffic", "automated requests", "press and hold", "press & hold", "pardon our interruption",
    "request unsuccessful", "access denied", "access to this page has been denied", "bot detection",
    "please complete the captcha", "captcha", "ray id", "enable javascript and cookies to continue",
)  # fmt: skip
_JAVASCRIPT_PHRASES = _Phrases(
    "enable javascript", "javascript is required", "javascript is disabled", "javascript is not enabled",
    "requires javascript", "turn on javascript", "javascript must be enabled", "without javascript",
    "javascript to run this app", "activate javascript", "javascript aktivieren", "activer javascript",
    "activa javascript", "habilita javascript",
)  # fmt: skip
#: Markup a bot challenge leaves whatever its wording: widget, form and script names.
_CHALLENGE_MARKUP = re.compile(
    r"captcha|challenge-(?:form|platform|running|body)|cf-chl|cf_chl|turnstile|/cdn-cgi/challenge"
)
#: An application mount point (React, Vue, Next, Nuxt, Angular) that a JavaScript shell leaves empty.
_APP_MOUNTS = frozenset({"root", "app", "__next", "__nuxt", "___gatsby", "app-root", "main-app"})
_WALL_WORDS = _CONSENT_WORDS | _OTHER_WALL_WORDS


@dataclass(frozen=True, slots=True)
class Interstitial:
    """A page standing in front of the story: its ``kind`` and the ``evidence`` that decided."""

    kind: str
    evidence: str


@dataclass(frozen=True, slots=True)
class _PageText:
    title: str
    #: Casefolded text of the body (no scripts, no <noscript>).
    visible: str
    #: Casefolded text of <noscript> elements (what a reader without JavaScript sees).
    noscript: str
    #: Characters of prose blocks that use no word of any wall: the story, if there is one.
    story_chars: int
    #: Characters of prose blocks that speak of consent.
    consent_prose_chars: int


def _read_text(root: HtmlElement) -> _PageText:
    title = _SPACES.sub(" ", (root.findtext(".//title") or "")).strip().casefold()
    body = root.find(".//body")
    if body is None:
        body = root
    blocks: dict[HtmlElement, list[str]] = defaultdict(list)
    noscript: list[str] = []
    # The block each element's text belongs to; None: invisible (and so is all below it).
    block_of: dict[HtmlElement, HtmlElement | None] = {body: body}
    if body.text:
        blocks[body].append(body.text)
    for count, element in enumerate(body.iterdescendants()):
        if count >= MAX_ELEMENTS:
            break
        parent_block = block_of.get(element.getparent())
        if element.tail and parent_block is not None:
            blocks[parent_block].append(element.tail)
        tag = element.tag
        # Hidden elements are read: a streamed page keeps its story in a hidden <div> until a
        # script moves it, and a story counted too generously only means a wall missed.
        if parent_block is None or not isinstance(tag, str) or tag in _INVISIBLE:
            block_of[element] = None
            continue
        if tag == "noscript":
            noscript.append(element.text_content())
            block_of[element] = None
            continue
        block = element if tag in _BLOCKS else parent_block
        block_of[element] = block
        if element.text:
            blocks[block].append(element.text)
    texts = [_SPACES.sub(" ", "".join(parts)).strip().casefold() for parts in blocks.values()]
    story_chars = consent_prose_chars = 0
    for text in texts:
        if len(text) < MIN_PROSE_CHARS:
            continue
        words = frozenset(_WORD.findall(text))
        if words & _CONSENT_WORDS:
            consent_prose_chars += len(text)
        if not words & _WALL_WORDS:
            story_chars += len(text)
    return _PageText(
        title=title,
        visible=" ".join(text for text in texts if text),
        noscript=_SPACES.sub(" ", " ".join(noscript)).strip().casefold(),
        story_chars=story_chars,
        consent_prose_chars=consent_prose_chars,
    )


def _challenge_markup(root: HtmlElement) -> str | None:
    """The name of a challenge form, captcha widget or challenge script in the page, if any."""
    for value in root.xpath("//@id | //@class | //@src | //@action | //@data-sitekey"):
        found = _CHALLENGE_MARKUP.search(value.lower())
        if found:
            return found.group(0)
    return None


def _is_empty_app_shell(root: HtmlElement) -> bool:
    """Scripts and an application mount point with nothing in it: the page is built in the browser."""
    mounts = root.xpath("//body//*[@id]")
    return bool(root.xpath("//script")) and any(
        (mount.get("id") or "").lower() in _APP_MOUNTS and not mount.text_content().strip() for mount in mounts
    )


def detect_interstitial(root: HtmlElement) -> Interstitial | None:
    """The wall this page is, or None for a page that may hold a story."""
    page = _read_text(root)
    story = page.story_chars
    if story >= max(MAX_STORY_CHARS.values()):
        return None  # an article, whatever banner or box it also carries

    texts = (page.title, page.visible, page.noscript)
    words = _words(*texts)
    challenge = _CHALLENGE_PHRASES.found(texts, words)
    if challenge and story < MAX_STORY_CHARS["bot-challenge"] and len(page.visible) < 2000:
        markup = _challenge_markup(root)
        titled = page.title.rstrip(".!… ") in challenge  # "Just a moment...", "Attention Required!"
        if markup or titled or len(challenge) >= 2:
            return Interstitial("bot-challenge", ", ".join(challenge[:3]) + (f"; markup {markup!r}" if markup else ""))

    if len(page.visible) < MAX_STORY_CHARS["javascript-required"]:
        needs_script = _JAVASCRIPT_PHRASES.found(texts[1:], words)
        if needs_script:
            return Interstitial("javascript-required", ", ".join(needs_script[:3]))
        if not page.visible and _is_empty_app_shell(root):
            return Interstitial("javascript-required", "an empty application mount point and scripts, no text")

    consent = _CONSENT_PHRASES.found(texts[:2], words)
    if len(consent) >= 2 and story < MAX_STORY_CHARS["consent"] and page.consent_prose_chars >= story:
        return Interstitial("consent", ", ".join(consent[:4]))

    paywall = _PAYWALL_PHRASES.found(texts[:2], words)
    if paywall and story < MAX_STORY_CHARS["paywall"]:
        return Interstitial("paywall", ", ".join(paywall[:3]))
    return None
