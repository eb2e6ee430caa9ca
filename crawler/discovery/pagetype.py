"""Is a fetched page worth extracting as an article? Cheap signals read before extraction.

The publisher's own markup decides first (``og:type=article``, a JSON-LD ``NewsArticle`` /
``Article`` / ``BlogPosting``). Without it, a page that is a list of teasers (several
``<article>`` blocks, or many headline links) is an index page: followed for links, never stored.
Anything else goes on to extraction, which has the last word (text density, video-only, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from parsel import Selector

__all__ = ["PageVerdict", "classify_page"]

ARTICLE_SCHEMA_TYPES = frozenset(
    {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
     "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "scholarlyarticle",
     "techarticle", "report"}
)  # fmt: skip
LISTING_SCHEMA_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "website", "videoobject"})
#: This many teaser blocks or headline links, with no article markup, make an index page.
MIN_TEASER_ARTICLES = 3
MIN_HEADLINE_LINKS = 6


@dataclass(frozen=True, slots=True)
class PageVerdict:
    is_candidate: bool
    reason: str
    #: The publisher marked the page up as an article (og:type, JSON-LD): its rel=next is a part.
    has_article_markup: bool = False


def _schema_types(selector: Selector) -> set[str]:
    types: set[str] = set()
    for script in selector.xpath('//script[@type="application/ld+json"]/text()').getall()[:10]:
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


def classify_page(selector: Selector) -> PageVerdict:
    og_type = (selector.xpath('//meta[@property="og:type"]/@content').get() or "").strip().lower()
    schema = _schema_types(selector)
    if og_type == "article" or schema & ARTICLE_SCHEMA_TYPES:
        return PageVerdict(True, "article markup", has_article_markup=True)
    if schema & LISTING_SCHEMA_TYPES and not selector.xpath("//meta[@property='article:published_time']"):
        return PageVerdict(False, f"index page ({', '.join(sorted(schema & LISTING_SCHEMA_TYPES))} markup)")
    teasers = len(selector.xpath("//article"))
    if teasers >= MIN_TEASER_ARTICLES:
        return PageVerdict(False, f"index page ({teasers} teaser blocks)")
    headline_links = len(selector.xpath("//*[self::h2 or self::h3 or self::h4]//a[@href]"))
    if headline_links >= MIN_HEADLINE_LINKS:
        return PageVerdict(False, f"index page ({headline_links} headline links)")
    return PageVerdict(True, "no index-page signals")


