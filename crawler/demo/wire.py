"""The Demo Wire: a small site of the demo web that breaks in edition 2, and whose pages carry
publishers' signals, for ``newsdesk health`` and the signal filters.

Edition 1 is healthy: a home page, an RSS feed, four stories. In edition 2 a redesign hides most
of each new story from the extractor (a third of the text is read) and the feed answers 410 Gone.
Its stories carry a TDMRep ``<meta>``, an ``X-Robots-Tag: noarchive`` header with a
``Content-Usage`` header, and paywall markup over a teaser. The site is not linked from the portal,
so crawls of the whole demo web (and its ground truth) do not meet it; ``newsdesk demo`` crawls it
as a source of its own.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

from crawler.demo.generated import article_text
from crawler.demo.render import Resource, attr, esc

__all__ = ["WIRE_PREFIX", "TDMREP_RULES", "wire_pages"]

WIRE_PREFIX = "/wire/"
#: The demo web's /.well-known/tdmrep.json: The Ledger reserves text and data mining.
TDMREP_RULES = [{"location": "/ledger/*", "tdm-reservation": 1, "tdm-policy": "{base}/tdm-policy.json"}]
_PUBLISHED = {1: datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc), 2: datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc)}
_PAYWALL = (
    '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
    '"isAccessibleForFree": false, "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": false, '
    '"cssSelector": ".members-only"}}</script>'
)


def _stories(edition: int) -> range:
    return range(1, 5) if edition == 1 else range(1, 9)


def _story(number: int, edition_added: int) -> tuple[str, Resource]:
    headline, paragraphs = article_text(1000 + number)
    if edition_added == 2:
        paragraphs = paragraphs[: max(1, len(paragraphs) // 3)]  # the redesign: the rest is in a widget
    head, body, headers = "", "".join(f"<p>{esc(p)}</p>" for p in paragraphs), ()
    if number == 1:
        head = '<meta name="tdm-reservation" content="1">'
    elif number == 2:
        headers = (("X-Robots-Tag", "noarchive"), ("Content-Usage", "train-ai=n"))
    elif number == 3:
        # A teaser: the rest of the story is for members, and not served.
        teaser = " ".join(paragraphs[:2])
        head, body = _PAYWALL, f'<p>{esc(teaser)}</p><div class="members-only"><p>Subscribe to read on.</p></div>'
    published = _PUBLISHED[edition_added]
    path = f"{WIRE_PREFIX}2026/story-{number}"
    page = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(headline)} | Demo Wire</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='{published.isoformat()}'>{head}</head>"
        f"<body><header><a href='{WIRE_PREFIX}'>Demo Wire</a></header>"
        f"<article><h1>{esc(headline)}</h1>{body}</article></body></html>\n"
    )
    resource = Resource.page(page, published)
    return path, replace(resource, headers=headers)


def wire_pages(edition: int, base_url: str) -> dict[str, Resource]:
    """The Demo Wire's paths in this edition, and the demo web's tdmrep.json."""
    stamp = _PUBLISHED[edition]
    pages = dict(_story(number, 1 if number <= 4 else 2) for number in _stories(edition))
    links = "".join(f"<li><a href='{attr(path)}'>Story</a></li>" for path in pages)
    feed_link = f"<link rel='alternate' type='application/rss+xml' href='{WIRE_PREFIX}feed.xml'>"
    pages[WIRE_PREFIX] = Resource.page(
        f"<!doctype html>\n<html lang='en'><head><title>Demo Wire</title>{feed_link}</head>"
        f"<body><h1>Demo Wire</h1><ul>{links}</ul></body></html>\n",
        stamp,
    )
    if edition == 1:
        items = "".join(f"<item><title>Story</title><link>{base_url}{path}</link></item>" for path in pages if path != WIRE_PREFIX)
        pages[f"{WIRE_PREFIX}feed.xml"] = Resource.page(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Demo Wire</title>{items}</channel></rss>\n',
            stamp,
            "application/rss+xml; charset=utf-8",
        )
    else:
        pages[f"{WIRE_PREFIX}feed.xml"] = Resource(410, b"<html><body><h1>410 Gone</h1></body></html>")
    rules = [{**rule, "tdm-policy": rule["tdm-policy"].format(base=base_url)} for rule in TDMREP_RULES]
    pages["/.well-known/tdmrep.json"] = Resource.page(json.dumps(rules), stamp, "application/json")
    return pages
