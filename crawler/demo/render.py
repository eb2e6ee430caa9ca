"""Renders one edition of the demo web into a path -> resource table.

Three publishers with deliberately different markup (semantic + JSON-LD, div soup with
inline ads, a raw page full of widget text), plus the traps a real crawl meets: URL
variants, an AMP copy, a syndicated wire story, 404/500/301 links, a windows-1251 page
and a robots.txt disallow.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from crawler.demo.model import SITES, Site, Story, canonical_path, moment
from crawler.demo.stories import stories_for

__all__ = ["TRAP_PATHS", "Resource", "build_site"]

# When each edition "went live": the Last-Modified of listing pages, feeds and sitemaps.
EDITION_STAMPS = {1: moment("2026-11-22 06:00"), 2: moment("2026-11-23 20:00")}

UTM_QUERY = "?utm_source=newsletter&utm_medium=email"

# Fixed trap URLs (paths on the served host). Variant URLs of articles are derived per story.
TRAP_PATHS = {
    "not_found": "/planet/2026/11/01/withdrawn-story",
    "server_error": "/courier/live/election-night",
    "redirect": "/planet/go/2611",
    "redirect_target": "/planet/2026/11/10/glacier-retreat-slowed",
    "disallowed": "/ledger/private/staff-rota",
    "cp1251": "/courier/culture/katok-v-gorodskom-parke",
}

VIDEO_PAGES = {
    "planet": ("/planet/video/harbour-lights-timelapse",
               "Timelapse: the harbour lights come on as the ferries leave Port Selva."),
    "ledger": ("/ledger/video/rovers-goal-highlights",
               "Watch: every angle of the Rovers winner at Canal End."),
    "courier": ("/courier/video/quartet-rehearsal",
                "Video: the quartet rehearses the new score for the rediscovered silent comedy."),
}

PODCAST_EPISODES = (
    "The Courier Briefing: what the housing emails mean",
    "Culture Desk: films that came back from the dead",
    "Health Check: inside a busy emergency department",
)


@dataclass(frozen=True)
class Resource:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    last_modified: datetime | None = None
    location: str | None = None  # for redirects: a path on the same host
    etag: str | None = field(default=None)
    #: Further response headers, e.g. a publisher's X-Robots-Tag.
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def page(cls, text: str, last_modified: datetime, content_type: str = "text/html; charset=utf-8",
             encoding: str = "utf-8") -> Resource:
        body = text.encode(encoding, errors="xmlcharrefreplace")
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        return cls(200, body, content_type, last_modified, None, etag)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def long_date(when: datetime) -> str:
    return f"{when.day} {when:%B %Y}"


class _Renderer:
    def __init__(self, edition: int, base_url: str) -> None:
        self.edition = edition
        self.base = base_url
        self.stamp = EDITION_STAMPS[edition]
        stories = sorted(stories_for(edition), key=lambda s: s.published, reverse=True)
        self.by_site: dict[str, list[Story]] = {key: [] for key in SITES}
        for story in stories:
            self.by_site[story.site].append(story)

    def url(self, path: str) -> str:
        return self.base + path

    # ----------------------------------------------------------------- planet
    def planet_shell(self, title: str, head: str, main: str) -> str:
        nav = "".join(
            f'<li><a href="/planet/{s}/">{s.title()}</a></li>' for s in SITES["planet"].sections
        )
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(title)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"{head}</head>\n<body>\n"
            '<header class="masthead"><a class="logo" href="/planet/">The Daily Planet</a>'
            f'<nav><ul>{nav}<li><a href="/planet/about">About us</a></li></ul></nav></header>\n'
            f"<main>\n{main}\n</main>\n"
            '<footer class="site-footer"><p>&copy; 2026 The Daily Planet</p>'
            '<a href="/planet/about">About</a> <a href="/planet/feed.rss">RSS</a> '
            '<a href="/">All Demo News sites</a></footer>\n</body>\n</html>\n'
        )

    def planet_article(self, story: Story, amp: bool = False) -> str:
        path = canonical_path(story)
        canonical = self.url(path)
        image = self.url(f"/planet/img/{story.slug}.jpg")
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": story.title,
            "description": story.description,
            "datePublished": story.published.isoformat(),
            "dateModified": (story.modified or story.published).isoformat(),
            "author": [{"@type": "Person", "name": name} for name in story.authors],
            "articleSection": story.section.title(),
            "keywords": list(story.keywords),
            "image": [image],
            "url": canonical,
            "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
            "publisher": {"@type": "Organization", "name": "The Daily Planet"},
        }
        ld_text = json.dumps(ld, ensure_ascii=False, indent=1).replace("</", "<\\/")
        head = (
            f'<meta name="description" content="{attr(story.description)}">\n'
            f'<link rel="canonical" href="{attr(canonical)}">\n'
            + ("" if amp else f'<link rel="amphtml" href="{attr(self.url("/planet/amp/" + story.slug))}">\n')
            + '<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{attr(story.title)}">\n'
            f'<meta property="og:url" content="{attr(canonical)}">\n'
            f'<meta property="og:image" content="{attr(image)}">\n'
            f'<meta property="og:description" content="{attr(story.description)}">\n'
            '<meta property="og:site_name" content="The Daily Planet">\n'
            f'<script type="application/ld+json">\n{ld_text}\n</script>\n'
        )
        byline = ", ".join(f'<a rel="author" href="/planet/about">{esc(n)}</a>' for n in story.authors)
        updated = (
            f' <span class="updated">Updated <time datetime="{story.modified.isoformat()}">'
            f"{long_date(story.modified)}</time></span>"
            if story.modified else ""
        )
        paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
        related = "".join(
            f'<li><a href="{canonical_path(other)}">{esc(other.title)}</a></li>'
            for other in self.by_site["planet"] if other.section == story.section and other is not story
        )
        main = (
            f'<article class="story">\n<header>\n<p class="kicker"><a href="/planet/{story.section}/">'
            f"{story.section.title()}</a></p>\n<h1>{esc(story.title)}</h1>\n"
            f'<p class="byline">By {byline} &middot; <time datetime="{story.published.isoformat()}">'
            f"{long_date(story.published)}</time>{updated}</p>\n</header>\n"
            f'<figure><img src="/planet/img/{story.slug}.jpg" alt="" width="800" height="450">'
            "<figcaption>Photograph: Daily Planet picture desk</figcaption></figure>\n"
            f'<div class="story-body">\n{paragraphs}\n</div>\n'
            '<footer class="story-tools">'
            + ("" if amp else f'<a href="/planet/amp/{story.slug}">Lightweight (AMP) version</a> ')
            + f'<a href="{path}#comments">Comments</a></footer>\n</article>\n'
            f'<aside class="related"><h2>More in {story.section.title()}</h2><ul>{related}</ul></aside>'
        )
        if amp:
            return (
                "<!doctype html>\n<html amp lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{esc(story.title)} | The Daily Planet</title>\n{head}"
                "<style amp-boilerplate>body{visibility:hidden}</style>\n</head>\n<body>\n"
                f"{main}\n</body>\n</html>\n"
            )
        return self.planet_shell(f"{story.title} | The Daily Planet", head, main)

    def planet_listing(self, heading: str, stories: list[Story], extra: str = "", head: str = "") -> str:
        items = []
        for story in stories:
            items.append(
                f'<article class="teaser"><h2><a href="{canonical_path(story)}">{esc(story.title)}</a></h2>'
                f'<time datetime="{story.published.isoformat()}">{long_date(story.published)}</time>'
                f"<p>{esc(story.description)}</p></article>"
            )
        return self.planet_shell(
            f"{heading} | The Daily Planet", head,
            f"<h1>{esc(heading)}</h1>\n{extra}\n<section class=\"latest\">\n" + "\n".join(items) + "\n</section>",
        )

    def planet_home(self) -> str:
        stories = self.by_site["planet"]
        top = stories[0]
        extra = (
            '<section class="promos">'
            f'<p class="newsletter-pick">From our newsletter: <a href="{attr(canonical_path(top) + UTM_QUERY)}">'
            f"{esc(top.title)}</a></p>"
            f'<p>Short link: <a href="{TRAP_PATHS["redirect"]}">our glacier report</a></p>'
            f'<p>Archive: <a href="{TRAP_PATHS["not_found"]}">A story that was withdrawn</a></p>'
            f'<p>Watch: <a href="{VIDEO_PAGES["planet"][0]}">Harbour lights timelapse</a></p>'
            "</section>"
        )
        head = '<link rel="alternate" type="application/rss+xml" title="The Daily Planet" href="/planet/feed.rss">\n'
        return self.planet_listing("Latest news", stories, extra, head)

    # ----------------------------------------------------------------- ledger
    def ledger_shell(self, title: str, head: str, content: str) -> str:
        nav = " | ".join(f'<a href="/ledger/{s}/">{s.upper()}</a>' for s in SITES["ledger"].sections)
        return (
            "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
            f"<title>{esc(title)}</title>\n{head}</head>\n<body>\n"
            '<div id="cookie-consent" class="cookie-bar">We use cookies to improve your experience '
            'and to show you personalised advertising. <a href="/ledger/about">Manage settings</a> '
            '<span class="btn">Accept all</span></div>\n'
            '<div class="wrap"><div class="top"><div class="logo"><a href="/ledger/">METRO LEDGER</a></div>'
            f'<div class="menu">{nav} | <a href="/ledger/about">ABOUT</a></div></div>\n'
            f"{content}\n"
            '<div class="newsletter-box"><div class="nl-title">Get the Ledger in your inbox</div>'
            "<div>Sign up for our free morning newsletter with the day's city headlines.</div>"
            '<form action="/ledger/newsletter" method="post"><input name="email" placeholder="Your email">'
            '<input type="submit" value="Subscribe"></form></div>\n'
            '<div class="foot">Metro Ledger Ltd. All rights reserved. <a href="/ledger/about">Contact</a> '
            f'<a href="{TRAP_PATHS["disallowed"]}">Staff area</a> <a href="/ledger/atom.xml">Atom feed</a> '
            '<a href="/">Demo News network</a></div>\n'
            "</div>\n</body>\n</html>\n"
        )

    def ledger_article(self, story: Story) -> str:
        others = [o for o in self.by_site["ledger"] if o is not story][:4]
        # The related-stories box links with a trailing slash: the same articles under a variant URL.
        related = (
            '<div class="related-box"><div class="rb-title">Related stories</div>'
            + "".join(f'<div class="rb-item"><a href="{canonical_path(o)}/">{esc(o.title)}</a></div>' for o in others)
            + "</div>"
        )
        advert = (
            '<div class="ad-slot"><div class="ad-label">Advertisement</div>'
            '<div class="sponsored"><a href="/ledger/about">Sponsored: Five kitchen upgrades under 500</a></div>'
            '<div class="sponsored"><a href="/ledger/about">Sponsored: Why locals are switching energy supplier</a></div>'
            "</div>"
        )
        blocks = []
        for index, paragraph in enumerate(story.paragraphs):
            blocks.append(f'<div class="para">{esc(paragraph)}</div>')
            if index == 1:
                blocks.append(related)
            if index == 3:
                blocks.append(advert)
        stamp = f"Published {long_date(story.published)} {story.published:%H:%M}"
        if story.modified:
            stamp += f" | Updated {long_date(story.modified)} {story.modified:%H:%M}"
        head = (
            f'<meta name="author" content="{attr(", ".join(story.authors))}">\n'
            f'<meta name="description" content="{attr(story.description)}">\n'
            f'<link rel="canonical" href="{attr(self.url(canonical_path(story)))}">\n'
        )
        content = (
            '<div class="main"><div class="col-left">\n'
            f'<div class="crumb"><a href="/ledger/">Home</a> &gt; <a href="/ledger/{story.section}/">'
            f"{story.section.title()}</a></div>\n"
            f'<div class="hd">{esc(story.title)}</div>\n'
            f'<div class="byline">By {esc(" and ".join(story.authors))}</div>\n'
            f'<div class="dateline">{stamp}</div>\n'
            '<div class="body-col">\n' + "\n".join(blocks) + "\n</div>\n"
            '<div class="share-row">Share this story: Facebook | X | WhatsApp | Email</div>\n'
            '</div><div class="col-right"><div class="promo">Win tickets to the panto! Enter our '
            'competition.</div></div></div>'
        )
        return self.ledger_shell(f"{story.title} - Metro Ledger", head, content)

    def ledger_listing(self, heading: str, stories: list[Story], extra: str = "", head: str = "") -> str:
        rows = "\n".join(
            f'<div class="row"><div class="row-title"><a href="{canonical_path(s)}">{esc(s.title)}</a></div>'
            f'<div class="row-date">{long_date(s.published)}</div></div>'
            for s in stories
        )
        return self.ledger_shell(
            f"{heading} - Metro Ledger", head,
            f'<div class="main"><div class="col-left"><div class="hd">{esc(heading)}</div>\n{extra}\n{rows}</div></div>',
        )

    def ledger_home(self) -> str:
        extra = (
            f'<div class="row"><a href="{VIDEO_PAGES["ledger"][0]}">VIDEO: Rovers winner from every angle</a></div>'
            '<div class="row"><a href="/ledger/city/old-story-removed">Archive: bin strike ends</a></div>'
        )
        head = '<link rel="alternate" type="application/atom+xml" title="Metro Ledger" href="/ledger/atom.xml">\n'
        return self.ledger_listing("Latest news", self.by_site["ledger"], extra, head)

    # ---------------------------------------------------------------- courier
    def courier_shell(self, title: str, head: str, content: str, lang: str = "en",
                      charset: str = "utf-8") -> str:
        nav = "".join(f'<a class="nav" href="/courier/{s}/">{s.title()}</a>' for s in SITES["courier"].sections)
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="{charset}">\n'
            f"<title>{esc(title)}</title>\n{head}</head>\n<body>\n"
            f'<div class="topbar"><a href="/courier/">Evening Courier</a> {nav} '
            '<a class="nav" href="/courier/about">About</a></div>\n'
            f"{content}\n"
            '<div class="footer">Evening Courier &middot; <a href="/courier/about">Imprint</a> &middot; '
            '<a href="/courier/rss.xml">RSS</a> &middot; <a href="/">Demo News</a></div>\n'
            "</body>\n</html>\n"
        )

    def courier_article(self, story: Story) -> str:
        index = self.by_site["courier"].index(story)
        icons = "".join(
            f'<span class="icon {name}">icon {name}</span> '
            for name in ("bookmark-b", "camera", "check", "share", "print", "comment")
        )
        most_read = "".join(
            f'<li><a href="{canonical_path(o)}#comments">{esc(o.title)}</a></li>'
            for o in self.by_site["courier"][:5] if o is not story
        )
        paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
        head = (
            '<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{attr(story.title)}">\n'
            f'<meta property="og:url" content="{attr(self.url(canonical_path(story)))}">\n'
            f'<meta property="article:published_time" content="{story.published.isoformat()}">\n'
            f'<meta property="article:section" content="{story.section.title()}">\n'
            f'<link rel="canonical" href="{attr(self.url(canonical_path(story)))}">\n'
        )
        content = (
            f'<div class="tools">{icons}</div>\n'
            f'<h1 class="headline">{esc(story.title)}</h1>\n'
            f'<div class="date">{story.published:%d.%m.%Y %H:%M}</div>\n'
            f'<div class="authors">{esc(", ".join(story.authors))}</div>\n'
            f'<div class="text">\n{paragraphs}\n</div>\n'
            '<div class="comments-policy">Dear readers! Thank you for your vibrant engagement with '
            "our journalism. To keep the conversation civil we moderate every comment before it "
            'appears; please read our <a href="/courier/about">comments policy</a> before posting. '
            "Comments that contain insults or links to advertising will be removed.</div>\n"
            f'<div class="podcast"><span>Podcasts</span> <span>0:00</span> <span>13:56</span> '
            f"<span>{esc(PODCAST_EPISODES[index % len(PODCAST_EPISODES)])}</span></div>\n"
            '<div class="share"><span>Share</span> <span>Facebook</span> <span>X</span> '
            "<span>Telegram</span> <span>Copy link</span></div>\n"
            f'<div class="most-read"><h3>Most read</h3><ol>{most_read}</ol></div>'
        )
        if story.language == "ru":
            return self.courier_shell(f"{story.title} - Evening Courier", head, content,
                                      lang="ru", charset="windows-1251")
        return self.courier_shell(f"{story.title} - Evening Courier", head, content)

    def courier_listing(self, heading: str, stories: list[Story], extra: str = "", head: str = "") -> str:
        items = "\n".join(
            f'<div class="teaser"><span class="date">{s.published:%d.%m.%Y}</span> '
            f'<a href="{canonical_path(s)}">{esc(s.title)}</a></div>'
            for s in stories
        )
        return self.courier_shell(f"{heading} - Evening Courier", head,
                                  f'<h1 class="headline">{esc(heading)}</h1>\n{extra}\n{items}')

    def courier_home(self) -> str:
        extra = (
            f'<div class="live"><a href="{TRAP_PATHS["server_error"]}">LIVE: election night blog</a></div>'
            f'<div class="video"><a href="{VIDEO_PAGES["courier"][0]}">Video: quartet rehearsal</a></div>'
        )
        head = '<link rel="alternate" type="application/rss+xml" title="Evening Courier" href="/courier/rss.xml">\n'
        return self.courier_listing("Evening Courier", self.by_site["courier"], extra, head)

    # ------------------------------------------------------------ shared bits
    def about(self, site: Site) -> str:
        text = (
            f"<h1>About {site.name}</h1><p>{site.name} is part of the Demo News network, an "
            "invented group of newspapers served locally for testing crawlers. Every story, "
            "person and place on this site is fictional.</p>"
        )
        return {"planet": self.planet_shell, "ledger": self.ledger_shell, "courier": self.courier_shell}[
            site.key](f"About us - {site.name}", "", text)

    def video(self, site: Site) -> str:
        path, caption = VIDEO_PAGES[site.key]
        text = (
            f'<div class="video-page"><iframe src="https://player.example.invalid/embed/{path.rsplit("/", 1)[1]}" '
            'width="640" height="360" allowfullscreen></iframe>'
            f'<p class="caption">{esc(caption)}</p></div>'
        )
        head = '<meta property="og:type" content="video.other">\n'
        return {"planet": self.planet_shell, "ledger": self.ledger_shell, "courier": self.courier_shell}[
            site.key](f"{caption} - {site.name}", head, text)

    def portal(self) -> str:
        links = "".join(f'<li><a href="{site.prefix}">{site.name}</a></li>' for site in SITES.values())
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Demo News network</title>"
            f"</head><body><h1>Demo News network</h1><ul>{links}</ul></body></html>\n"
        )

    def robots(self) -> str:
        # AI crawlers are turned away from the whole web, as many publishers do.
        lines = ["User-agent: GPTBot", "User-agent: CCBot", "Disallow: /", ""]
        lines += ["User-agent: *", "Disallow: /ledger/private/", ""]
        lines += [f"Sitemap: {self.url(site.sitemap_path)}" for site in SITES.values()]
        return "\n".join(lines) + "\n"

    def sitemap(self, site: Site) -> str:
        stories = self.by_site[site.key]
        if site.key == "courier":  # a Google News sitemap
            entries = "".join(
                f"<url><loc>{esc(self.url(canonical_path(s)))}</loc>"
                f"<lastmod>{s.last_changed.isoformat()}</lastmod><news:news><news:publication>"
                f"<news:name>Evening Courier</news:name><news:language>{s.language}</news:language>"
                f"</news:publication><news:publication_date>{s.published.isoformat()}</news:publication_date>"
                f"<news:title>{esc(s.title)}</news:title></news:news></url>\n"
                for s in stories
            )
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + entries + "</urlset>\n"
            )
        entries = "".join(
            f"<url><loc>{esc(self.url(canonical_path(s)))}</loc>"
            f"<lastmod>{s.last_changed.isoformat()}</lastmod></url>\n"
            for s in stories
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + entries + "</urlset>\n"
        )

    def rss(self, site: Site) -> str:
        items = "".join(
            f"<item><title>{esc(s.title)}</title><link>{esc(self.url(canonical_path(s)))}</link>"
            f'<guid isPermaLink="true">{esc(self.url(canonical_path(s)))}</guid>'
            f"<pubDate>{format_datetime(s.published)}</pubDate>"
            f"<description>{esc(s.description)}</description></item>\n"
            for s in self.by_site[site.key]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
            f"<title>{esc(site.name)}</title><link>{esc(self.url(site.prefix))}</link>"
            f"<description>Latest stories from {esc(site.name)}</description>"
            f"<lastBuildDate>{format_datetime(self.stamp)}</lastBuildDate>\n{items}</channel></rss>\n"
        )

    def atom(self, site: Site) -> str:
        entries = "".join(
            f"<entry><title>{esc(s.title)}</title>"
            f'<link rel="alternate" href="{attr(self.url(canonical_path(s)))}"/>'
            f"<id>{esc(self.url(canonical_path(s)))}</id>"
            f"<published>{s.published.isoformat()}</published><updated>{s.last_changed.isoformat()}</updated>"
            + "".join(f"<author><name>{esc(a)}</name></author>" for a in s.authors)
            + f"<summary>{esc(s.description)}</summary></entry>\n"
            for s in self.by_site[site.key]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"<title>{esc(site.name)}</title><id>{esc(self.url(site.prefix))}</id>"
            f'<link rel="self" href="{attr(self.url(site.feed_path))}"/>'
            f'<link rel="alternate" href="{attr(self.url(site.prefix))}"/>'
            f"<updated>{self.stamp.isoformat()}</updated>\n{entries}</feed>\n"
        )

    # ------------------------------------------------------------------ table
    def build(self) -> dict[str, Resource]:
        stamp = self.stamp
        pages: dict[str, Resource] = {
            "/": Resource.page(self.portal(), stamp),
            "/robots.txt": Resource.page(self.robots(), stamp, "text/plain; charset=utf-8"),
            TRAP_PATHS["server_error"]: Resource(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"),
            TRAP_PATHS["redirect"]: Resource(301, location=TRAP_PATHS["redirect_target"]),
            TRAP_PATHS["disallowed"]: Resource.page(
                self.ledger_shell("Staff rota - Metro Ledger", "",
                                  '<div class="hd">Staff rota</div><div class="para">Internal page: '
                                  "crawlers must not fetch this (robots.txt disallows it).</div>"),
                stamp,
            ),
        }
        home = {"planet": self.planet_home, "ledger": self.ledger_home, "courier": self.courier_home}
        listing = {"planet": self.planet_listing, "ledger": self.ledger_listing, "courier": self.courier_listing}
        article = {"planet": self.planet_article, "ledger": self.ledger_article, "courier": self.courier_article}
        for site in SITES.values():
            stories = self.by_site[site.key]
            pages[site.prefix] = Resource.page(home[site.key](), stamp)
            for section in site.sections:
                in_section = [s for s in stories if s.section == section]
                pages[f"{site.prefix}{section}/"] = Resource.page(
                    listing[site.key](section.title(), in_section), stamp
                )
            pages[f"{site.prefix}about"] = Resource.page(self.about(site), stamp)
            pages[VIDEO_PAGES[site.key][0]] = Resource.page(self.video(site), stamp)
            pages[site.sitemap_path] = Resource.page(self.sitemap(site), stamp, "application/xml")
            if site.feed_type == "application/atom+xml":
                pages[site.feed_path] = Resource.page(self.atom(site), stamp, "application/atom+xml")
            else:
                pages[site.feed_path] = Resource.page(self.rss(site), stamp, "application/rss+xml")
            for story in stories:
                if story.language == "en":
                    resource = Resource.page(article[site.key](story), story.last_changed)
                else:
                    # Charset declared only in <meta>: the header says plain text/html.
                    resource = Resource.page(article[site.key](story), story.last_changed,
                                             "text/html", encoding="cp1251")
                pages[canonical_path(story)] = resource
                if site.key == "planet":
                    pages[f"/planet/amp/{story.slug}"] = Resource.page(
                        self.planet_article(story, amp=True), story.last_changed
                    )
        return pages


def build_site(edition: int, base_url: str) -> dict[str, Resource]:
    """Every servable path of the given edition (paths without query; 404 for anything else)."""
    return _Renderer(edition, base_url).build()

