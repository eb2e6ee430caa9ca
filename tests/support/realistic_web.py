"""A test web that is not our demo: five news sites made the way real ones are.

The demo web (``crawler/demo``) was written together with the crawler, and the crawler is tuned to
it. These sites were not: each has the markup of a common kind of CMS and offers one route to its
stories, the way real sites do:

- ``links``: a WordPress-like blog; no sitemap, no feed, only its home and category pages.
- ``rss``: a Drupal-like site; its home shows the latest few, its RSS feed lists them all.
- ``sitemap``: a magazine whose sitemap index (named in robots.txt) splits into two sitemaps,
  every ``<lastmod>`` a bare date; its home features two stories.
- ``twofeeds``: a site whose advertised feed (``application/rss+xml``) covers one section, and whose
  full feed is served as ``text/xml`` and only linked from the footer like any page.
- ``headlines``: an old hand-made site whose home page is a plain list of headline links with
  dates beside them.

Every site answers with ``ETag`` and ``Last-Modified`` and gives 304 to a request carrying a
matching validator; each logs every request (path, validators sent, status). Between crawls a site
can gain stories, edit one, and remove one (404 or 410). A site's own rules say whether an edit
shows in its listings (a sitemap ``lastmod``, an RSS ``pubDate``) or not, as real sites differ.
"""

from __future__ import annotations

import hashlib
import html
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["Hit", "RealisticWeb", "Site", "Story"]

# -- story text: written from word lists, so that no two stories share a sentence ----------------

_PLACES = (
    "Harrowgate", "Millbrook", "Eastfield", "Port Ailsa", "Kestrel Bay", "Northam", "Brackwater",
    "Linden Vale", "Stonebridge", "Carrick Moor", "Ashby Cross", "Wendle", "Fairholme", "Rook Hill",
    "Saltmarsh", "Oakridge", "Pellworth", "Greystone", "Hadley End", "Marlow Green",
)  # fmt: skip
_FIRST = (
    "Maria", "Tomasz", "Aisha", "Graham", "Ines", "Declan", "Priya", "Oleksandr", "Hannah", "Kwame",
    "Lucia", "Fergus", "Mei", "Rashid", "Ingrid", "Callum", "Noor", "Pieter", "Yusuf", "Elena",
)  # fmt: skip
_LAST = (
    "Okafor", "Lindqvist", "Brennan", "Castillo", "Hughes", "Nakamura", "Whitlock", "Adeyemi",
    "Kowalczyk", "Ferreira", "Doyle", "Haddad", "Sorensen", "Mackie", "Banerjee", "Quinlan",
)  # fmt: skip
_ROLES = (
    "council leader", "head teacher", "harbour master", "union steward", "district nurse",
    "planning officer", "club secretary", "shop owner", "fire station manager", "librarian",
    "ward councillor", "bus driver", "parish clerk", "site engineer", "charity director",
)  # fmt: skip
_THINGS = (
    "bus depot", "flood barrier", "library extension", "cycle lane", "swimming pool", "market hall",
    "footbridge", "primary school annexe", "recycling centre", "harbour wall", "health centre",
    "community orchard", "car park", "tram stop", "sports ground", "sea wall", "youth club",
)  # fmt: skip
_BODIES = (
    "the county council", "the harbour trust", "the water company", "the regional health board",
    "the chamber of commerce", "the residents' association", "the transport authority",
    "the education trust", "the fire and rescue service", "the parish council",
)  # fmt: skip
_VENUES = ("village hall", "town hall", "church hall", "community centre", "leisure centre", "old drill hall")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("March", "April", "June", "July", "September", "October", "November", "December")
_STREETS = ("Mill Lane", "Quay Street", "Orchard Road", "Station Hill", "Church Walk", "Foundry Row", "Bell Yard")
_MOODS = ("modest", "overdue", "generous", "unrealistic", "a good start", "far too small", "welcome")
_VERBS = ("open", "close", "be rebuilt", "reopen", "be extended", "be sold", "be repaired", "be moved")
_EVENTS = ("a heated meeting", "a long delay", "a public vote", "a survey", "a funding row", "a winter of complaints")

_TEMPLATES = (
    "{person}, the {role} in {place}, said the {thing} would {verb} before {month}.",
    "Residents of {place} filled the {venue} on {day} evening to hear plans for the {thing}.",
    "{body_cap} said {number} thousand pounds had been set aside, a sum critics called {mood}.",
    '"We have waited {small} years for this," said {person}, who has lived on {street} since {year}.',
    "Work on the {thing} is expected to cost about {money} million pounds, according to papers seen by this newspaper.",
    "{person} told the meeting that {small} options were still being considered by {body}.",
    "A spokesperson for {body} said the timetable depended on a survey due in {month}.",
    "Traffic on {street} was diverted for {small} days while engineers inspected the {thing}.",
    "The last time the {thing} was repaired, in {year}, the bill came to {number} thousand pounds.",
    "Some {number} people have signed a petition asking {body} to keep the {thing} where it is.",
    "{person}, a {role}, said the plan for {place} was {mood} but overdue.",
    "Figures published on {day} show {small} in ten households in {place} use the {thing} every week.",
    "Objectors say the {thing} in {place} should {verb} only after {event}.",
    "{body_cap} will publish its final decision in {month}, {person} confirmed.",
)  # fmt: skip


def _sentence(rng: random.Random) -> str:
    body = rng.choice(_BODIES)
    return rng.choice(_TEMPLATES).format(
        person=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        role=rng.choice(_ROLES),
        place=rng.choice(_PLACES),
        thing=rng.choice(_THINGS),
        verb=rng.choice(_VERBS),
        month=rng.choice(_MONTHS),
        venue=rng.choice(_VENUES),
        day=rng.choice(_DAYS),
        body=body,
        body_cap=body[0].upper() + body[1:],
        number=rng.randint(12, 990),
        small=rng.randint(2, 9),
        street=rng.choice(_STREETS),
        year=rng.randint(1961, 2019),
        money=rng.randint(2, 48),
        mood=rng.choice(_MOODS),
        event=rng.choice(_EVENTS),
    )


def _write_story(rng: random.Random) -> tuple[str, list[str]]:
    """A headline and five to seven paragraphs of three or four sentences."""
    place, thing = rng.choice(_PLACES), rng.choice(_THINGS)
    headline = f"{place} {thing} to {rng.choice(_VERBS)} after {rng.choice(_EVENTS)}"
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(3, 4))) for _ in range(rng.randint(5, 7))]
    return headline[0].upper() + headline[1:], paragraphs


def _slug(headline: str, number: int) -> str:
    words = "".join(c if c.isalnum() else " " for c in headline.lower()).split()
    return "-".join(words[:6]) + f"-{number}"


@dataclass
class Story:
    number: int
    slug: str
    headline: str
    paragraphs: list[str]
    published: datetime
    updated: datetime
    section: str
    author: str
    #: 200 while published; 404 or 410 once the site removed it.
    status: int = 200

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def marker(self) -> str:
        """The story's first paragraph (never edited): in a stored text exactly when the story is."""
        return self.paragraphs[0]


@dataclass(frozen=True)
class Hit:
    """One request a site answered."""

    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int

    @property
    def conditional(self) -> bool:
        return bool(self.if_none_match or self.if_modified_since)


@dataclass
class _Doc:
    content_type: str
    body: bytes
    last_modified: datetime


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


@dataclass
class Site:
    """One site: its stories, its pages (rendered by its ``style``) and its request log."""

    name: str
    style: str
    seed: int
    #: Removed stories answer this (404 or 410; 301: a redirect to the home page).
    gone_status: int = 404
    #: Whether an edit changes the date the site's sitemap or feed gives the story.
    edits_redate: bool = False
    stories: list[Story] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    base: str = ""

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.lock = threading.Lock()
        self.next_number = 1

    # -- what happens to the site between crawls ---------------------------------------------------

    def add_story(self, when: datetime) -> Story:
        headline, paragraphs = _write_story(self.rng)
        number = self.next_number
        self.next_number += 1
        story = Story(
            number=number,
            slug=_slug(headline, number),
            headline=headline,
            paragraphs=paragraphs,
            published=when,
            updated=when,
            section=("local", "business")[number % 2],
            author=f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}",
        )
        with self.lock:
            self.stories.append(story)
        return story

    def edit_story(self, story: Story, when: datetime) -> None:
        """A correction: a sentence rewritten and an update line added at the end."""
        with self.lock:
            story.paragraphs[2] = " ".join(_sentence(self.rng) for _ in range(3))
            story.paragraphs.append(f"This article was updated on {when:%d %B %Y} to correct the figures given above.")
            story.updated = when

    def remove_story(self, story: Story) -> None:
        with self.lock:
            story.status = self.gone_status

    @property
    def live(self) -> list[Story]:
        """Published stories, newest first."""
        return sorted((s for s in self.stories if s.status == 200), key=lambda s: (s.published, s.number), reverse=True)

    def story_path(self, story: Story) -> str:
        return {
            "links": f"/{story.published:%Y/%m/%d}/{story.slug}/",
            "rss": f"/news/{story.slug}",
            "sitemap": f"/articles/{story.number:05d}-{story.slug}.html",
            "twofeeds": f"/{story.section}/{story.slug}.html",
            "headlines": f"/story.php?id={story.number}",
        }[self.style]

    def url(self, path: str) -> str:
        return self.base + path

    # -- serving ------------------------------------------------------------------------------------

    def documents(self) -> dict[str, _Doc]:
        with self.lock:
            return getattr(self, f"_render_{self.style}")()

    def respond(self, path: str, if_none_match: str | None, if_modified_since: str | None) -> tuple[int, _Doc | None]:
        docs = self.documents()
        doc = docs.get(path)
        if doc is None:
            gone = any(self.story_path(s) == path for s in self.stories if s.status != 200)
            status = self.gone_status if gone else 404
            return status, None
        etag = _etag(doc.body)
        if if_none_match is not None:
            fresh = etag in [tag.strip() for tag in if_none_match.split(",")]
        elif if_modified_since is not None:
            try:
                fresh = doc.last_modified.replace(microsecond=0) <= parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                fresh = False
        else:
            fresh = False
        return (304 if fresh else 200), doc

    def hub_paths(self) -> set[str]:
        """The pages that list stories (home, categories, feeds, sitemaps); robots.txt aside."""
        stories = {self.story_path(s) for s in self.stories}
        return {path for path in self.documents() if path not in stories and path != "/robots.txt"}

    def requests_for(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def paths_requested(self) -> Counter[str]:
        return Counter(hit.path for hit in self.hits)

    def start(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                status, doc = site.respond(path, inm, ims)
                with site.lock:
                    site.hits.append(Hit(path, inm, ims, status))
                self.send_response(status)
                if status == 301:
                    self.send_header("Location", site.url("/"))
                if doc is not None:
                    self.send_header("ETag", _etag(doc.body))
                    self.send_header("Last-Modified", _http_date(doc.last_modified))
                if status == 200:
                    self.send_header("Content-Type", doc.content_type)
                    self.send_header("Content-Length", str(len(doc.body)))
                    self.end_headers()
                    self.wfile.write(doc.body)
                else:
                    body = b"" if status == 304 else b"<html><body><h1>Not here</h1></body></html>"
                    if body:
                        self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- shared pieces ------------------------------------------------------------------------------

    def _html(self, text: str) -> bytes:
        return text.encode("utf-8")

    def _newest(self, stories: list[Story], fallback: datetime) -> datetime:
        return max((s.updated for s in stories), default=fallback)

    def _robots(self, sitemap: str | None = None) -> _Doc:
        lines = ["User-agent: *", "Disallow: /wp-admin/" if self.style == "links" else "Disallow: /search"]
        if sitemap:
            lines.append(f"Sitemap: {self.url(sitemap)}")
        return _Doc("text/plain", ("\n".join(lines) + "\n").encode(), datetime(2024, 1, 1, tzinfo=UTC))

    def _rss(self, title: str, stories: list[Story], *, content_type: str) -> _Doc:
        """RSS 2.0 as most CMSs write it: ``pubDate`` is the publication time, or the last edit's
        on a site that re-dates edited stories."""
        items = "".join(
            "<item>"
            f"<title>{_esc(s.headline)}</title>"
            f"<link>{_esc(self.url(self.story_path(s)))}</link>"
            f"<guid isPermaLink=\"false\">{self.name}-{s.number}</guid>"
            f"<pubDate>{_http_date(s.updated if self.edits_redate else s.published)}</pubDate>"
            f"<dc:creator>{_esc(s.author)}</dc:creator>"
            f"<description>{_esc(s.paragraphs[0][:180])}…</description>"
            "</item>"
            for s in stories
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>{_esc(title)}</title><link>{self.url('/')}</link>"
            "<description>Latest news</description><language>en-gb</language>"
            f"{items}</channel></rss>"
        )
        return _Doc(content_type, body.encode(), self._newest(stories, datetime(2024, 1, 1, tzinfo=UTC)))

    # -- links: a WordPress-like blog, no sitemap and no feed ------------------------------------------

    def _render_links(self) -> dict[str, _Doc]:
        live = self.live
        docs = {"/robots.txt": self._robots()}

        def chrome(title: str, main: str, body_class: str) -> bytes:
            recent = "".join(f'<li><a href="{self.story_path(s)}">{_esc(s.headline)}</a></li>' for s in live[:5])
            return self._html(
                f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="UTF-8">'
                f"<title>{_esc(title)} &#8211; Wendle Valley Echo</title>"
                '<link rel="stylesheet" id="twentyfifteen-style-css" href="/wp-content/themes/echo/style.css" media="all">'
                f'</head><body class="{body_class}"><div id="page" class="hfeed site">'
                '<a class="skip-link screen-reader-text" href="#content">Skip to content</a>'
                '<header id="masthead" class="site-header"><p class="site-title"><a href="/" rel="home">Wendle Valley Echo</a></p>'
                '<nav id="site-navigation" class="main-navigation"><ul id="menu-primary" class="menu">'
                '<li class="menu-item"><a href="/">Home</a></li>'
                '<li class="menu-item"><a href="/category/local/">Local</a></li>'
                '<li class="menu-item"><a href="/category/business/">Business</a></li></ul></nav></header>'
                f'<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">{main}</main></div>'
                '<aside id="secondary" class="widget-area"><section id="recent-posts-2" class="widget widget_recent_entries">'
                f'<h2 class="widget-title">Recent Posts</h2><ul>{recent}</ul></section></aside></div>'
                '<footer id="colophon" class="site-footer"><div class="site-info">Proudly powered by a CMS &middot; '
                "&copy; Wendle Valley Echo</div></footer></div></body></html>"
            )

        def teaser(s: Story) -> str:
            return (
                f'<article id="post-{s.number}" class="post-{s.number} post type-post status-publish format-standard hentry category-{s.section}">'
                f'<header class="entry-header"><h2 class="entry-title"><a href="{self.story_path(s)}" rel="bookmark">{_esc(s.headline)}</a></h2>'
                f'<div class="entry-meta"><span class="posted-on"><time class="entry-date published" datetime="{s.published.isoformat()}">'
                f"{s.published:%B} {s.published.day}, {s.published:%Y}</time></span></div></header>"
                f'<div class="entry-summary"><p>{_esc(s.paragraphs[0][:160])} [&hellip;]</p></div></article>'
            )

        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        docs["/"] = _Doc("text/html; charset=UTF-8", chrome("Home", "".join(teaser(s) for s in live[:6]), "home blog"), self._newest(live, epoch))
        for section in ("local", "business"):
            listed = [s for s in live if s.section == section]
            main = f'<header class="page-header"><h1 class="page-title">Category: {section.title()}</h1></header>'
            main += "".join(teaser(s) for s in listed)
            docs[f"/category/{section}/"] = _Doc(
                "text/html; charset=UTF-8", chrome(section.title(), main, "archive category"), self._newest(listed, epoch)
            )
        for s in live:
            paragraphs = "".join(f"<p>{_esc(p)}</p>" for p in s.paragraphs)
            updated = (
                f'<time class="updated" datetime="{s.updated.isoformat()}">{s.updated:%B %d, %Y}</time>' if s.updated != s.published else ""
            )
            main = (
                f'<article id="post-{s.number}" class="post-{s.number} post type-post status-publish hentry category-{s.section}">'
                f'<header class="entry-header"><h1 class="entry-title">{_esc(s.headline)}</h1></header>'
                f'<div class="entry-content">{paragraphs}</div>'
                f'<footer class="entry-footer"><span class="posted-on">Posted on <time class="entry-date published" datetime="{s.published.isoformat()}">'
                f"{s.published:%B} {s.published.day}, {s.published:%Y}</time>{updated}</span>"
                f'<span class="byline"> by <span class="author vcard">{_esc(s.author)}</span></span>'
                f'<span class="cat-links">Posted in <a href="/category/{s.section}/" rel="category tag">{s.section.title()}</a></span>'
                "</footer></article>"
            )
            docs[self.story_path(s)] = _Doc("text/html; charset=UTF-8", chrome(s.headline, main, "post-template-default single single-post"), s.updated)
        return docs

    # -- rss: a Drupal-like site whose feed lists every story ----------------------------------------

    def _render_rss(self) -> dict[str, _Doc]:
        live = self.live
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        docs = {"/robots.txt": self._robots(), "/rss.xml": self._rss("Brackwater Courier", live, content_type="application/rss+xml; charset=utf-8")}

        def page(title: str, content: str, node_class: str) -> bytes:
            return self._html(
                '<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
                '<meta name="Generator" content="Drupal 10 (https://www.drupal.org)">'
                f"<title>{_esc(title)} | Brackwater Courier</title>"
                '<link rel="alternate" type="application/rss+xml" title="Brackwater Courier" href="/rss.xml">'
                f'</head><body class="path-{node_class}"><div class="dialog-off-canvas-main-canvas"><div class="layout-container">'
                '<header role="banner"><div class="region region-header"><div id="block-sitebranding">'
                '<a href="/" rel="home" class="site-branding__name">Brackwater Courier</a></div></div></header>'
                f'<main role="main"><div class="layout-content"><div class="region region-content">{content}</div></div></main>'
                '<footer role="contentinfo"><div class="region region-footer"><p>Brackwater Courier, 4 Quay Street. '
                "Registered as a newspaper.</p></div></footer></div></div></body></html>"
            )

        rows = "".join(
            f'<div class="views-row"><div class="views-field views-field-title"><span class="field-content">'
            f'<a href="{self.story_path(s)}" hreflang="en">{_esc(s.headline)}</a></span></div></div>'
            for s in live[:3]
        )
        front = f'<div class="views-element-container"><div class="view view-frontpage"><div class="view-content">{rows}</div></div></div>'
        docs["/"] = _Doc("text/html; charset=UTF-8", page("Home", front, "frontpage"), self._newest(live[:3], epoch))
        for s in live:
            body = "".join(f"<p>{_esc(p)}</p>" for p in s.paragraphs)
            node = (
                f'<article data-history-node-id="{s.number}" role="article" class="node node--type-article node--view-mode-full">'
                f'<h1 class="page-title"><span class="field field--name-title">{_esc(s.headline)}</span></h1>'
                f'<div class="node__meta"><span class="field--name-uid">{_esc(s.author)}</span> '
                f'<span class="field--name-created">{s.published:%a, %m/%d/%Y - %H:%M}</span></div>'
                f'<div class="node__content"><div class="clearfix text-formatted field field--name-body field--type-text-with-summary">{body}</div></div>'
                "</article>"
            )
            docs[self.story_path(s)] = _Doc("text/html; charset=UTF-8", page(s.headline, node, "node"), s.updated)
        return docs

    # -- sitemap: a magazine found through its sitemap index ------------------------------------------

    def _render_sitemap(self) -> dict[str, _Doc]:
        live = self.live
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        docs = {"/robots.txt": self._robots("/sitemap_index.xml")}
        # Older stories in the first sitemap, the rest (and every new one) in the second.
        oldest_first = sorted(live, key=lambda s: s.number)
        parts = {"/post-sitemap.xml": [s for s in oldest_first if s.number <= 4], "/post-sitemap2.xml": [s for s in oldest_first if s.number > 4]}
        index = "".join(
            f"<sitemap><loc>{self.url(path)}</loc><lastmod>{self._newest(listed, epoch):%Y-%m-%d}</lastmod></sitemap>"
            for path, listed in parts.items()
        )
        docs["/sitemap_index.xml"] = _Doc(
            "application/xml; charset=UTF-8",
            (
                '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>\n'
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>'
            ).encode(),
            self._newest(live, epoch),
        )
        for path, listed in parts.items():
            urls = "".join(
                f"<url><loc>{self.url(self.story_path(s))}</loc><lastmod>{(s.updated if self.edits_redate else s.published):%Y-%m-%d}</lastmod></url>"
                for s in listed
            )
            docs[path] = _Doc(
                "application/xml; charset=UTF-8",
                f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode(),
                self._newest(listed, epoch),
            )

        def shell(title: str, inner: str) -> bytes:
            return self._html(
                f"<html><head><title>{_esc(title)} - The Carrick Review</title>"
                '<meta name="viewport" content="width=device-width"></head><body>'
                '<div class="wrap"><div class="top-bar"><a class="logo" href="/">The Carrick Review</a>'
                '<span class="tagline">Long reads from the moor</span></div>'
                f'<div class="page">{inner}</div>'
                '<div class="bottom">Subscribe to the print edition &middot; &copy; The Carrick Review</div></div></body></html>'
            )

        featured = "".join(
            f'<div class="featured"><a class="featured-link" href="{self.story_path(s)}">'
            f'<span class="kicker">Featured</span> <span class="featured-title">{_esc(s.headline)}</span></a></div>'
            for s in live[:2]
        )
        docs["/"] = _Doc("text/html; charset=utf-8", shell("Home", f'<div class="cover">{featured}</div>'), self._newest(live[:2], epoch))
        for s in live:
            paragraphs = "".join(f'<div class="para">{_esc(p)}</div>' for p in s.paragraphs)
            inner = (
                f'<div class="story"><div class="story-head"><div class="story-title">{_esc(s.headline)}</div>'
                f'<div class="story-info">Words by {_esc(s.author)} &middot; {s.published.day} {s.published:%B %Y}</div></div>'
                f'<div class="story-body__inner">{paragraphs}</div></div>'
            )
            docs[self.story_path(s)] = _Doc("text/html; charset=utf-8", shell(s.headline, inner), s.updated)
        return docs

    # -- twofeeds: an advertised section feed, and a full feed served as text/xml --------------------

    def _render_twofeeds(self) -> dict[str, _Doc]:
        live = self.live
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        docs = {
            "/robots.txt": self._robots(),
            "/feed/": self._rss("Northam Post: Local", [s for s in live if s.section == "local"], content_type="application/rss+xml; charset=UTF-8"),
            "/feeds/latest.xml": self._rss("Northam Post: everything", live, content_type="text/xml"),
        }

        def layout(title: str, inner: str) -> bytes:
            return self._html(
                "<!doctype html><html><head>"
                f'<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{_esc(title)}</title>'
                '<link rel="alternate" type="application/rss+xml" title="Local news" href="/feed/">'
                '</head><body><table width="100%" class="layout"><tr><td class="masthead"><a href="/"><b>THE NORTHAM POST</b></a></td></tr>'
                f'<tr><td class="main">{inner}</td></tr>'
                '<tr><td class="foot"><a href="/feeds/latest.xml">All news (XML)</a> | <a href="/feed/">Local news feed</a> | '
                "Northam Post Ltd</td></tr></table></body></html>"
            )

        front = "".join(
            f'<p class="lead"><a href="{self.story_path(s)}"><font size="+1">{_esc(s.headline)}</font></a><br>'
            f"{_esc(s.paragraphs[0][:120])}...</p>"
            for s in live[:2]
        )
        docs["/"] = _Doc("text/html", layout("The Northam Post", front), self._newest(live[:2], epoch))
        for s in live:
            text = "<br><br>".join(_esc(p) for p in s.paragraphs)
            inner = (
                f'<font size="+2"><b>{_esc(s.headline)}</b></font><br><i>{_esc(s.author)}, {s.published:%d/%m/%Y}</i>'
                f'<div class="storytext">{text}</div>'
            )
            docs[self.story_path(s)] = _Doc("text/html", layout(s.headline, inner), s.updated)
        return docs

    # -- headlines: a plain list of headline links with dates in the teasers ------------------------

    def _render_headlines(self) -> dict[str, _Doc]:
        live = self.live
        epoch = datetime(2024, 1, 1, tzinfo=UTC)
        docs = {"/robots.txt": self._robots()}

        def doc(title: str, inner: str) -> bytes:
            return self._html(
                f'<html><head><title>{_esc(title)}</title><meta name="description" content="News from Pellworth and district">'
                f'</head><body bgcolor="#ffffff"><div id="top"><a href="/">Pellworth Gazette</a></div>'
                f'<div id="content">{inner}</div><div id="bottom">Pellworth Gazette, est. 1974. Letters to the editor welcome.</div>'
                "</body></html>"
            )

        items = "".join(
            f'<li><a href="{self.story_path(s)}">{_esc(s.headline)}</a> <span class="date">{s.published:%d.%m.%Y}</span> &ndash; '
            f"{_esc(s.paragraphs[0][:90])}...</li>"
            for s in live
        )
        docs["/"] = _Doc(
            "text/html; charset=utf-8",
            doc("Pellworth Gazette - latest news", f"<p>Latest news, updated daily.</p><ul class=\"news\">{items}</ul>"),
            self._newest(live, epoch),
        )
        for s in live:
            text = "".join(f"<p>{_esc(p)}</p>" for p in s.paragraphs)
            inner = (
                f'<div class="headline">{_esc(s.headline)}</div><div class="byline">By {_esc(s.author)} | {s.published:%d.%m.%Y}</div>'
                f'<div class="text">{text}</div><p><a href="/">&laquo; Back to the news</a></p>'
            )
            docs[self.story_path(s)] = _Doc("text/html; charset=utf-8", doc(s.headline, inner), s.updated)
        return docs


@dataclass
class RealisticWeb:
    """The five sites, each on its own loopback port, with stories dated before ``day_one``."""

    stories_per_site: int = 8
    day_one: date = date(2024, 5, 10)
    sites: list[Site] = field(default_factory=list)

    def __post_init__(self):
        self.sites = [
            Site("links", "links", seed=101),
            Site("rss", "rss", seed=202, gone_status=410, edits_redate=True),
            Site("sitemap", "sitemap", seed=303, edits_redate=True),
            Site("twofeeds", "twofeeds", seed=404, gone_status=410),
            Site("headlines", "headlines", seed=505, gone_status=301),
        ]
        start = datetime.combine(self.day_one, datetime.min.time(), tzinfo=UTC) - timedelta(days=self.stories_per_site)
        for site in self.sites:
            for n in range(self.stories_per_site):
                site.add_story(start + timedelta(days=n, hours=7 + n % 5, minutes=13 * n % 60))
        markers = [s.marker for site in self.sites for s in site.stories]
        assert len(set(markers)) == len(markers), "two stories open with the same sentence"

    @property
    def start_urls(self) -> list[str]:
        return [site.url("/") for site in self.sites]

    @property
    def stories(self) -> list[Story]:
        return [story for site in self.sites for story in site.stories]

    def clear_logs(self) -> None:
        for site in self.sites:
            with site.lock:
                site.hits.clear()

    def __enter__(self) -> RealisticWeb:
        for site in self.sites:
            site.start()
        return self

    def __exit__(self, *exc) -> None:
        for site in self.sites:
            site.stop()
