"""What kind of page this is: a story, a hub, a media page or a service page, and why.

One function, :func:`type_page`, decides it for the crawl (through :mod:`crawler.reading`) and for
``newsdesk extract`` alike. It reads the page's structure, not its labels: a site can put
``og:type=article`` on its tag pages or a ``WebSite`` JSON-LD block on every story, so markup only
names the kind of a page whose structure leaves the question open.

The structure is read as a sequence of text blocks (the nearest block element around each piece of
text), each with its words and the words of it inside links:

- a story has a *prose run*: consecutive blocks of running text, not broken by a block that is
  mostly a link. A related-story widget inside a real article adds links, never breaks the
  article's own run, so it cannot make the article a hub;
- a hub has many *headline links* (links whose label reads like a headline) and, in the teaser
  lists of real templates, repeats one block pattern around them; its prose comes in short
  summaries, each cut off by the next headline.

The site can add evidence the page cannot fake, for a page whose own text is shorter than any story:

- its links lead to pages the crawl has stored as stories (``linked_stories``);
- it has the URL shape (:func:`url_shape`: ids, slugs and dates generalised) and the template
  (:func:`page_template`: its elements' class paths) of hubs the crawl already knows on its host
  (``known_hubs``): a tag page listing one story is built like the tag pages listing ten;
- it is linked from nearly every page of its host (``site_chrome``: the site's frame links it, as
  it links about, contact and terms pages) and has no date, no author and no article markup: a
  service page, however much prose it has.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.extraction import count_words
from crawler.extraction.metadata.record import read_metadata

__all__ = [
    "PageEvidence", "PageKind", "PageType", "SiteChrome", "page_evidence", "page_template", "template_overlap",
    "type_page", "url_shape",
]  # fmt: skip


class PageKind(StrEnum):
    STORY = "story"
    #: Lists stories: home, section, tag, topic, author, archive, search, a "lite" edition.
    HUB = "hub"
    #: A video, gallery or podcast page: a player or pictures, hardly any text.
    MEDIA = "media"
    #: About, contact, terms, login: the site speaking of itself.
    SERVICE = "service"


ARTICLE_SCHEMA_TYPES = frozenset(
    {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
     "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "scholarlyarticle",
     "techarticle", "report"}
)  # fmt: skip
MEDIA_SCHEMA_TYPES = frozenset({"videoobject", "imagegallery", "podcastepisode", "audioobject", "mediagallery"})

# -- thresholds. Stories: fitted on the `tune` half of ../shared/extraction-eval (real articles,
# every one a story); hubs, media and service pages: the structure of the kinds themselves.
#: A link label with this many words reads like a headline (menus say "World", "Sign in").
HEADLINE_MIN_WORDS = 4
#: A block with this many words of its own outside links is running text.
PROSE_BLOCK_MIN_WORDS = 12
#: A block with this share of its words in links is a link block: it ends a prose run.
LINK_BLOCK_SHARE = 0.5
#: A prose run this long is an article's body, whatever the page links to (fitted on `tune`).
STORY_MIN_RUN = 100
#: A hub lists at least this many headline links ...
HUB_MIN_HEADLINES = 5
#: ... or this many teasers in one repeated block pattern.
HUB_MIN_TEASERS = 3
#: A listing whose longest run is this short has teaser summaries, not a body (shortest story run
#: on a `tune` page with a listing: 80 words).
TEASER_MAX_RUN = 50
#: A page with no longer prose than a teaser's needs only this many headline links to be a hub
#: (a tag page listing two stories).
SHORT_HUB_MIN_HEADLINES = 2
#: Below STORY_MIN_RUN, a page is still a story when its run outweighs its headline links this
#: many times (a short news item with a "more news" box), fitted on `tune`.
RUN_PER_HEADLINE_WORD = 0.5
#: Site evidence: links to this many pages the crawl stored as stories make a page a hub, when its
#: prose is no longer than a teaser's (a short news item with a related-stories box is a story).
SITE_MIN_LINKED_STORIES = 5
#: Site evidence: a short page with the URL shape of this many known hubs of its host ...
SITE_MIN_SHAPED_HUBS = 2
#: ... and this share of its template's class paths in common with each (Jaccard), is a hub.
SITE_MIN_TEMPLATE_OVERLAP = 0.8
#: A template is read from this many elements at most, down to this depth (a template's frame
#: is shallow; deep paths are the content's).
TEMPLATE_MAX_ELEMENTS = 5000
TEMPLATE_MAX_DEPTH = 16
#: Site evidence: a page linked from this share of the first pages read of its host (at least
#: CHROME_MIN_PAGES of them, at most CHROME_SAMPLE_PAGES) is in the site's frame (menu, footer).
CHROME_MIN_SHARE = 0.9
CHROME_MIN_PAGES = 10
CHROME_SAMPLE_PAGES = 30
#: A media page has a player or pictures and less running text than this.
MEDIA_MAX_RUN = 60
#: A gallery shows at least this many pictures, with no more text than captions of this many words.
GALLERY_MIN_IMAGES = 6
CAPTION_MAX_WORDS = 20

_BLOCK_TAGS = frozenset(
    "p div li td th dd dt dl section article main aside header footer nav blockquote h1 h2 h3 h4 h5 h6 "
    "figure figcaption ul ol table tr tbody thead form pre body address center details summary".split()
)
_SKIPPED_TAGS = frozenset("script style noscript template svg select option head title".split())
_PLAYER_HOSTS = re.compile(r"youtube|youtu\.be|vimeo|dailymotion|brightcove|jwplayer|soundcloud|spotify|podcast", re.I)
#: URL path words that name the kind of a hub, media or service page: labels only, never the decision.
_LABELS = {
    PageKind.HUB: {"tag": "tag", "tags": "tag", "topic": "topic", "topics": "topic", "author": "author",
                   "authors": "author", "archive": "archive", "search": "search", "lite": "lite",
                   "text": "lite", "category": "section", "section": "section"},
    PageKind.MEDIA: {"video": "video", "videos": "video", "gallery": "gallery", "galleries": "gallery",
                     "photos": "gallery", "podcast": "podcast", "podcasts": "podcast", "audio": "podcast"},
    PageKind.SERVICE: {"about": "about", "contact": "contact", "terms": "terms", "privacy": "terms",
                       "login": "login", "signin": "login", "register": "login", "imprint": "about"},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """What the page's structure says, counted once."""

    #: Words of the longest prose run (an article's body).
    prose_run: int
    #: Words of text in the page's body, and of them inside links.
    words: int
    link_words: int
    #: Distinct link targets labelled like headlines, and the words of those labels.
    headline_links: int
    headline_words: int
    #: Headline links sharing the most common block pattern (a teaser list).
    teasers: int
    players: int
    images: int
    password_fields: int
    #: Message boxes (``<textarea>``), and addresses to write to or call (mailto:, tel:, ``<address>``).
    text_fields: int
    contact_points: int
    has_article_markup: bool
    has_media_markup: bool

    @property
    def link_share(self) -> float:
        return self.link_words / self.words if self.words else 0.0


@dataclass(frozen=True, slots=True)
class PageType:
    kind: PageKind
    #: What kind of hub, media or service page (home, tag, video, about, ...); "story" for a story.
    label: str
    reason: str
    #: The publisher marked the page up as an article (og:type, JSON-LD): its rel=next is a part.
    has_article_markup: bool = False
    #: A story by its structure, undated and unsigned, that every page of its host read so far
    #: links: a service page if the site's frame links it. The crawl reads it again once it knows.
    awaits_site_evidence: bool = False

    @property
    def is_story(self) -> bool:
        return self.kind is PageKind.STORY

    def describe(self) -> str:
        """One line for the crawl log and ``newsdesk extract``: ``hub (tag): 24 headline links, ...``."""
        return f"{self.kind} ({self.label}): {self.reason}"


def type_page(
    root: HtmlElement,
    url: str,
    *,
    linked_stories: int = 0,
    known_hubs: Iterable[tuple[str, frozenset[str]]] = (),
    site_chrome: bool | None = False,
) -> PageType:
    """The page's type from its structure (see the module's docstring), and from the site:
    ``linked_stories`` is how many of its links lead to pages the crawl stored as stories;
    ``known_hubs`` are (URL, :func:`page_template`) of hubs the crawl knows (other hosts' and other
    shapes' are ignored here, so a caller may pass more than it needs); ``site_chrome``: the page
    is linked from nearly every page of its host (see :data:`CHROME_MIN_SHARE`), None while the
    crawl cannot tell yet."""
    typed = _type_page(root, url, linked_stories, known_hubs)
    if site_chrome is not False and typed.is_story and not typed.has_article_markup:
        # Only a page that would be stored: a hub or a video page the menu links stays what it is.
        metadata = read_metadata(root, url)
        if metadata.published_at is None and not metadata.authors:
            if site_chrome is None:
                return replace(typed, awaits_site_evidence=True)
            reason = f"linked from nearly every page of the site, no date, author or article markup, {typed.reason}"
            return PageType(PageKind.SERVICE, _label(url, PageKind.SERVICE), reason, typed.has_article_markup)
    return typed


def _type_page(
    root: HtmlElement, url: str, linked_stories: int, known_hubs: Iterable[tuple[str, frozenset[str]]]
) -> PageType:
    evidence = page_evidence(root)
    run = evidence.prose_run
    markup = evidence.has_article_markup
    summary = (
        f"{run}-word prose run, {evidence.headline_links} headline links, "
        f"{evidence.teasers} teasers, {evidence.link_share:.0%} of text in links"
    )
    if run >= STORY_MIN_RUN:
        return PageType(PageKind.STORY, "story", summary, markup)
    listing = evidence.headline_links >= HUB_MIN_HEADLINES or evidence.teasers >= HUB_MIN_TEASERS
    short_listing = evidence.headline_links >= SHORT_HUB_MIN_HEADLINES and run < TEASER_MAX_RUN
    if short_listing or (listing and run < max(TEASER_MAX_RUN, RUN_PER_HEADLINE_WORD * evidence.headline_words)):
        return PageType(PageKind.HUB, _label(url, PageKind.HUB), summary, markup)
    if linked_stories >= SITE_MIN_LINKED_STORIES and run < TEASER_MAX_RUN:
        reason = f"links to {linked_stories} stored stories, {summary}"
        return PageType(PageKind.HUB, _label(url, PageKind.HUB), reason, markup)
    shaped = _hubs_built_alike(root, url, known_hubs)
    if len(shaped) >= SITE_MIN_SHAPED_HUBS:
        # No counts of hubs here: the crawl knew fewer of them when it read the page than the
        # store knows later, and the verdict must read the same for ``newsdesk extract --db``.
        reason = f"URL shape {_path_shape(url)} and template of known hubs, {summary}"
        return PageType(PageKind.HUB, _label(url, PageKind.HUB), reason, markup)
    own_words = evidence.words - evidence.link_words
    gallery = evidence.images >= GALLERY_MIN_IMAGES and own_words < CAPTION_MAX_WORDS * evidence.images
    if run < MEDIA_MAX_RUN and (evidence.players or evidence.has_media_markup or gallery):
        marked = ", media markup" if evidence.has_media_markup else ""
        what = f"{evidence.players} players, {evidence.images} pictures{marked}, {run}-word prose run"
        return PageType(PageKind.MEDIA, _label(url, PageKind.MEDIA), what, markup)
    # A form is the page's purpose only on a page with little prose and no article markup: a story
    # with a log-in box in its header, or behind a log-in wall, is a story (the wall is judged later).
    form = evidence.password_fields or evidence.contact_points or evidence.text_fields
    if form and run < MEDIA_MAX_RUN and not markup:
        what = (
            f"{evidence.password_fields} password fields, {evidence.text_fields} message fields, "
            f"{evidence.contact_points} addresses, {run}-word prose run"
        )
        return PageType(PageKind.SERVICE, _label(url, PageKind.SERVICE), what, markup)
    return PageType(PageKind.STORY, "story", summary, markup)


def _label(url: str, kind: PageKind) -> str:
    """The kind of hub, media or service page, as its URL names it (home: the site's root)."""
    segments = [segment for segment in re.split(r"[/._?=&-]+", urlsplit(url).path.lower()) if segment]
    if not segments and kind is PageKind.HUB:
        return "home"
    for segment in segments:
        if segment in _LABELS[kind]:
            return _LABELS[kind][segment]
    return {PageKind.HUB: "section", PageKind.MEDIA: "media", PageKind.SERVICE: "service"}[kind]


# -- site evidence: URL shapes and templates -------------------------------------------------

_NUMBER = re.compile(r"\d+")
_ID = re.compile(r"(?=.*\d)[\w]{6,}|[0-9a-f]{8,}", re.I)
_SLUG_SEPARATORS = re.compile(r"[-_+.%,]")


def url_shape(url: str) -> str:
    """The URL with what varies between pages of one kind generalised: ``/tag/{name}/`` for
    ``/tag/local/``, ``/{n}/{n}/{name}`` for ``/2026/11/a-story``. The host and the first path
    segment (a section's name, ``tag``, ``author``) are kept: they say which kind of page it is."""
    parts = urlsplit(url)
    return parts.netloc.lower() + _path_shape(url)


def _path_shape(url: str) -> str:
    parts = urlsplit(url)
    segments = parts.path.split("/")
    shaped = [_segment_shape(segment, keep_word=index <= 1) for index, segment in enumerate(segments)]
    query = "&".join(sorted({pair.partition("=")[0] for pair in parts.query.split("&") if pair}))
    return "/".join(shaped) + (f"?{query}" if query else "")


def _segment_shape(segment: str, *, keep_word: bool) -> str:
    if not segment:
        return segment
    stem, dot, extension = segment.rpartition(".") if re.search(r"\.[a-z]{2,5}$", segment, re.I) else (segment, "", "")
    if _NUMBER.fullmatch(stem):
        shape = "{n}"
    elif _ID.fullmatch(stem):
        shape = "{id}"
    elif keep_word and not _SLUG_SEPARATORS.search(stem):
        shape = stem.lower()
    else:
        shape = "{name}"  # a tag's, author's or story's name, one word or a slug
    return shape + dot + extension.lower()


def page_template(root: HtmlElement) -> frozenset[str]:
    """The page's template: the distinct class paths of its elements (tag and classes of each
    element and its ancestors, numbers dropped), hashed short. Pages built from one template share
    most of them whatever they list; a story's body and a list of teasers do not."""
    paths: set[str] = set()
    stack: list[tuple[HtmlElement, str, int]] = [(root, "", 0)]
    seen = 0
    while stack and seen < TEMPLATE_MAX_ELEMENTS:
        element, parent_path, depth = stack.pop()
        if not isinstance(element.tag, str) or element.tag.lower() in _SKIPPED_TAGS:
            continue
        seen += 1
        classes = ".".join(sorted(_NUMBER.sub("", name) for name in (element.get("class") or "").split()))
        path = f"{parent_path}/{element.tag.lower()}{'.' + classes if classes else ''}"
        paths.add(path)
        if depth < TEMPLATE_MAX_DEPTH:
            stack.extend((child, path, depth + 1) for child in element)
    return frozenset(hashlib.blake2b(path.encode(), digest_size=5).hexdigest() for path in paths)


class SiteChrome:
    """The links of each host's first pages read: a page nearly all of them link is in the site's
    frame (menu, footer), as about, contact and terms pages are."""

    def __init__(self) -> None:
        self._sampled: dict[str, set[str]] = {}
        self._linked: dict[str, Counter[str]] = {}

    def add(self, url: str, links: Iterable[str]) -> bool:
        """Counts the links of a page read; True when this page completed its host's sample."""
        host = urlsplit(url).netloc.lower()
        sampled = self._sampled.setdefault(host, set())
        if len(sampled) >= CHROME_SAMPLE_PAGES or url in sampled:
            return False
        sampled.add(url)
        self._linked.setdefault(host, Counter()).update(set(links) - {url})
        return len(sampled) == CHROME_SAMPLE_PAGES

    def links_to(self, url: str) -> bool:
        """Whether enough of the host's first pages (other than this one) link to ``url``."""
        host = urlsplit(url).netloc.lower()
        sampled = self._sampled.get(host, set())
        pages = len(sampled) - (url in sampled)
        return pages >= CHROME_MIN_PAGES and self._linked[host][url] >= CHROME_MIN_SHARE * pages

    def may_link(self, url: str) -> bool:
        """Whether ``url`` may yet prove linked by the frame: the host's sample is not full, and
        every page of it read so far (one at least, other than this one) links it."""
        host = urlsplit(url).netloc.lower()
        sampled = self._sampled.get(host, set())
        pages = len(sampled) - (url in sampled)
        return len(sampled) < CHROME_SAMPLE_PAGES and pages >= 1 and self._linked[host][url] >= pages

    def chrome_links(self) -> list[str]:
        """The pages each host's frame links, as the samples say now."""
        return sorted(link for linked in self._linked.values() for link in linked if self.links_to(link))


def template_overlap(first: frozenset[str], second: frozenset[str]) -> float:
    """Share of class paths two templates have in common (Jaccard)."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def _hubs_built_alike(root: HtmlElement, url: str, known_hubs: Iterable[tuple[str, frozenset[str]]]) -> list[float]:
    """Template overlaps with the known hubs of the page's URL shape built like it (itself excluded)."""
    shape = url_shape(url)
    alike = [template for hub_url, template in known_hubs if hub_url != url and url_shape(hub_url) == shape]
    if len(alike) < SITE_MIN_SHAPED_HUBS:
        return []
    template = page_template(root)
    overlaps = (template_overlap(template, other) for other in alike)
    return [overlap for overlap in overlaps if overlap >= SITE_MIN_TEMPLATE_OVERLAP]


# -- evidence ---------------------------------------------------------------------------------


#: The site's frame and what floats over it: a footer's "about us", a cookie or consent dialog, a
#: sidebar. Their prose is no story's body: on a section page listing four teasers, the last
#: excerpt, the footer's blurb and the cookie notice made one "prose run" long enough for a story.
#: Only one holding less than this share of the page's words is the frame: an unclosed ``<nav>``
#: or ``<aside>`` swallows the rest of a real page in the parsed tree (5 `tune` stories were read
#: as hubs without this bound).
CHROME_MAX_SHARE = 0.3
_CHROME_TAGS = frozenset({"footer", "nav", "aside", "dialog"})
_CHROME_ROLES = frozenset({"contentinfo", "navigation", "complementary", "dialog", "alertdialog"})


def _is_chrome(element: HtmlElement, tag: str) -> bool:
    return tag in _CHROME_TAGS or (element.get("role") or "").strip().lower() in _CHROME_ROLES


class _Block:
    __slots__ = ("chrome", "element", "link_words", "words")

    def __init__(self, element: HtmlElement, chrome: int):
        self.element = element
        #: Number of the outermost frame element (footer, nav, aside, dialog) it is in; 0: none.
        self.chrome = chrome
        self.words = 0
        self.link_words = 0


def page_evidence(root: HtmlElement) -> PageEvidence:
    # From the root, not <body>: broken markup leaves whole articles after </body> in lxml's tree.
    blocks: list[_Block] = []
    current: dict[int, _Block] = {}
    headlines: dict[str, int] = {}
    patterns: Counter[tuple[str, str]] = Counter()
    players = images = password_fields = text_fields = contact_points = 0
    #: The outermost frame elements met, numbered from 1 in the blocks (see :class:`_Block`).
    frames: list[HtmlElement] = []

    def block_of(element: HtmlElement, chrome: int) -> _Block:
        block = current.get(id(element))
        if block is None:
            block = current[id(element)] = _Block(element, chrome)
            blocks.append(block)
        return block

    def add(text: str | None, block_element: HtmlElement, in_link: bool, chrome: int) -> None:
        if text and not text.isspace():
            words = count_words(text)
            block = block_of(block_element, chrome)
            block.words += words
            if in_link:
                block.link_words += words

    # An explicit stack, not recursion: a hostile page nests thousands of elements deep.
    stack: list[tuple[HtmlElement, HtmlElement, bool, int, bool]] = [(root, root, False, 0, False)]
    while stack:
        element, block_element, in_link, in_chrome, tail_only = stack.pop()
        if tail_only:
            add(element.tail, block_element, in_link, in_chrome)
            continue
        if not isinstance(element.tag, str):  # a comment or processing instruction
            continue
        tag = element.tag.lower()
        if tag in _SKIPPED_TAGS:
            continue
        embedded = element.get("src") or element.get("data") or ""
        if tag in ("video", "audio") or (tag in ("iframe", "embed", "object") and _PLAYER_HOSTS.search(embedded)):
            players += 1
        elif tag == "img":
            images += 1
        elif tag == "input" and (element.get("type") or "").lower() == "password":
            password_fields += 1
        elif tag == "textarea":
            text_fields += 1
        elif tag == "address" or (tag == "a" and (element.get("href") or "").lower().startswith(("mailto:", "tel:"))):
            contact_points += 1
        own_block = element if tag in _BLOCK_TAGS else block_element
        link = in_link
        if tag == "a" and element.get("href"):
            link = True
            _note_headline(element, headlines, patterns)
        chrome = in_chrome
        if not chrome and _is_chrome(element, tag):
            frames.append(element)
            chrome = len(frames)
        add(element.text, own_block, link, chrome)
        # Children in document order, each followed by its tail (which belongs to this element).
        for child in reversed(element):
            stack.append((child, own_block, link, chrome, True))
            stack.append((child, own_block, link, chrome, False))
    return PageEvidence(
        prose_run=_longest_prose_run(blocks, _frame(blocks)),
        words=sum(block.words for block in blocks),
        link_words=sum(block.link_words for block in blocks),
        headline_links=len(headlines),
        headline_words=sum(headlines.values()),
        teasers=max(patterns.values(), default=0),
        players=players,
        images=images,
        password_fields=password_fields,
        text_fields=text_fields,
        contact_points=contact_points,
        has_article_markup=_has_markup(root, ARTICLE_SCHEMA_TYPES, "article"),
        has_media_markup=_has_markup(root, MEDIA_SCHEMA_TYPES, "video"),
    )


def _note_headline(anchor: HtmlElement, headlines: dict[str, int], patterns: Counter[tuple[str, str]]) -> None:
    words = count_words(anchor.text_content())
    if words < HEADLINE_MIN_WORDS:
        return
    href = anchor.get("href", "").split("#")[0]
    if href in headlines:
        return
    headlines[href] = words
    # The teaser's pattern: the tags and classes of the two elements around the link.
    parent = anchor.getparent()
    grandparent = parent.getparent() if parent is not None else None
    patterns[(_shape(parent), _shape(grandparent))] += 1


def _shape(element: HtmlElement | None) -> str:
    if element is None or not isinstance(element.tag, str):
        return ""
    return f"{element.tag}.{' '.join(sorted((element.get('class') or '').split()))}"


def _frame(blocks: list[_Block]) -> set[int]:
    """The frame elements (see :data:`CHROME_MAX_SHARE`) holding less than their share of the words."""
    total = sum(block.words for block in blocks)
    held: Counter[int] = Counter()
    for block in blocks:
        if block.chrome:
            held[block.chrome] += block.words
    return {element for element, words in held.items() if words < CHROME_MAX_SHARE * total}


def _longest_prose_run(blocks: list[_Block], frame: set[int]) -> int:
    """Words of the longest run of prose blocks in page order: a block mostly made of links ends a
    run; a short block (a heading, a caption, a dateline) and the site's frame neither add to it
    nor end it."""
    longest = run = 0
    for block in blocks:
        if block.chrome in frame:
            continue
        own_words = block.words - block.link_words
        if block.words and block.link_words >= LINK_BLOCK_SHARE * block.words and block.link_words >= HEADLINE_MIN_WORDS:
            run = 0
        elif own_words >= PROSE_BLOCK_MIN_WORDS:
            run += own_words
            longest = max(longest, run)
    return longest


def _has_markup(root: HtmlElement, schema_types: frozenset[str], og_type: str) -> bool:
    for value in root.xpath('//meta[@property="og:type"]/@content'):
        if value.strip().lower().startswith(og_type):
            return True
    return bool(_schema_types(root) & schema_types)


def _schema_types(root: HtmlElement) -> set[str]:
    types: set[str] = set()
    for script in root.xpath('//script[@type="application/ld+json"]/text()')[:10]:
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node[:50])
            elif isinstance(node, dict):
                kind = node.get("@type")
                for value in kind if isinstance(kind, list) else [kind]:
                    if isinstance(value, str):
                        types.add(value.lower())
                if "@graph" in node:
                    stack.append(node["@graph"])
    return types
