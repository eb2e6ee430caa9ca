"""The whole metadata record of a page, gathered field by field in trust order."""

from __future__ import annotations

import functools
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from trafilatura import metadata as trafilatura_metadata

from crawler.normalize import canonical_url_or_none

from .authors import json_ld_authors, split_authors, twitter_byline
from .dates import date_from_url, first_date, first_time_element, htmldate_published
from .structured import (
    ARTICLE_TYPES,
    MODIFIED_META_KEYS,
    VIDEO_TYPES,
    first_meta,
    first_str,
    first_url,
    json_ld_names,
    json_ld_objects,
    json_ld_types,
    meta_map,
    meta_values,
    resolve_references,
)
from .text import clean_text
from .titles import choose_title, host_keys, read_masthead_names, text_with_breaks

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

__all__ = ["PageMetadata", "page_title_inputs", "read_metadata"]

@dataclass(slots=True)
class PageMetadata:
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    description: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    is_article_typed: bool = False
    is_video_typed: bool = False
    json_ld_body: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Fields that could not be read and were left empty, as "field: error".
    notes: list[str] = field(default_factory=list)


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Gather metadata in trust order: JSON-LD > meta tags > trafilatura/htmldate > URL.

    trafilatura's and htmldate's own readers are fallbacks, run only when the
    page's structured data leaves a field empty: htmldate alone costs about as
    much as extracting the text.

    Each field is read on its own: one that cannot be read (a date beyond what a
    datetime holds, structured data too deep to walk) is left empty and noted in
    ``notes``, and the others stand.
    """
    result = PageMetadata()
    meta: dict[str, list[str]] = {}
    objects: list[dict[str, Any]] = []
    with _field(result, url, "meta-tags"):
        meta = meta_map(tree)
    with _field(result, url, "json-ld"):
        objects = json_ld_objects(tree)
    article = next((o for o in objects if json_ld_types(o) & ARTICLE_TYPES), None)
    web_page = next((o for o in objects if json_ld_types(o) & {"webpage", "itempage"}), None)
    ld = article or {}
    result.is_article_typed = (
        article is not None or (first_meta(meta, "og:type") or "").lower() == "article"
    )
    result.is_video_typed = any(json_ld_types(o) & VIDEO_TYPES for o in objects) or (
        (first_meta(meta, "og:type") or "").lower().startswith("video")
    )
    host = urlsplit(url).hostname or ""
    by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}
    site_names: list[str | None] = []
    with _field(result, url, "site-name"):
        site_names = _site_names(meta, ld, objects, by_id)
        result.site_name = next((s for s in site_names if s), None)

    with _field(result, url, "title"):
        result.title = _title(tree, meta, ld, site_names, host)

    # Dates: JSON-LD > meta > <time datetime> > htmldate > URL.
    now = datetime.now(UTC)
    modified_values = [
        ld.get("dateModified"),
        *meta_values(meta, *MODIFIED_META_KEYS),
        (web_page or {}).get("dateModified"),
    ]
    with _field(result, url, "modified-date"):
        result.modified_at = first_date(
            modified_values, now, written=False
        ) or first_date(modified_values, now)
    with _field(result, url, "published-date"):
        result.published_at = _published(tree, url, meta, ld, web_page, modified_values, now)
    if (
        result.modified_at
        and result.published_at
        and result.modified_at < result.published_at
    ):
        result.modified_at = None

    with _field(result, url, "authors"):
        result.authors = _authors(tree, meta, ld, by_id, site_names, host)
    with _field(result, url, "language"):
        result.language = _language(tree, meta, ld)
    with _field(result, url, "description"):
        result.description = clean_text(
            first_meta(
                meta,
                "og:description",
                "description",
                "twitter:description",
                "dc.description",
            )
            or first_str(ld.get("description"))
        )
    with _field(result, url, "section"):
        section = first_str(ld.get("articleSection")) or first_meta(
            meta, "article:section", "section", "parsely-section"
        )
        result.section = clean_text(section)
    with _field(result, url, "tags"):
        result.tags = _tags(meta, ld)
    with _field(result, url, "image"):
        image = first_url(ld.get("image")) or first_meta(
            meta,
            "og:image",
            "og:image:url",
            "og:image:secure_url",
            "twitter:image",
            "twitter:image:src",
        )
        result.image_url = _absolute(url, image)
    with _field(result, url, "canonical"):
        result.canonical_url = _canonical(tree, url, meta, ld)

    body = ld.get("articleBody")
    if isinstance(body, str) and body.strip():
        result.json_ld_body = body
    return result


def page_title_inputs(tree: HtmlElement, url: str) -> dict[str, Any]:
    """:func:`title_inputs` read from the page alone, as :func:`read_metadata` reads them."""
    meta = meta_map(tree)
    objects = json_ld_objects(tree)
    ld = next((o for o in objects if json_ld_types(o) & ARTICLE_TYPES), None) or {}
    by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}
    site_names = _site_names(meta, ld, objects, by_id)
    return title_inputs(tree, meta, ld, site_names, urlsplit(url).hostname or "")


@contextmanager
def _field(result: PageMetadata, url: str, name: str) -> Iterator[None]:
    """Read one field; if it cannot be read, leave it empty with a note, and keep the others."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 — one unreadable field must not lose the story
        logger.info("metadata field %s of %s dropped: %r", name, url, error)
        result.notes.append(f"{name}: {type(error).__name__}")


def _site_names(
    meta: dict[str, list[str]],
    ld: dict[str, Any],
    objects: list[dict[str, Any]],
    by_id: dict[str, dict[str, Any]],
) -> list[str | None]:
    """The site's names as the page declares them: needed to clean titles and authors."""
    publisher = resolve_references(ld.get("publisher"), by_id)
    # A personal site's publisher is its author, a Person: not a site name to strip.
    publisher_names = [
        name
        for item in (publisher if isinstance(publisher, list) else [publisher])
        if not (isinstance(item, dict) and "person" in json_ld_types(item))
        for name in json_ld_names(item)
    ]
    website = next(
        (
            o
            for o in objects
            if "website" in json_ld_types(o)
            or "organization" in json_ld_types(o)
            or "newsmediaorganization" in json_ld_types(o)
        ),
        None,
    )
    site_names = [
        first_meta(meta, "og:site_name"),
        *publisher_names,
        *(json_ld_names(website) if website else []),
        first_meta(meta, "application-name", "apple-mobile-web-app-title", "twitter:site"),
        # Not trafilatura's sitename: it falls back to the page title.
    ]
    return [clean_text(s.lstrip("@")) for s in site_names if s]


def _title(
    tree: HtmlElement,
    meta: dict[str, list[str]],
    ld: dict[str, Any],
    site_names: list[str | None],
    host: str,
) -> str | None:
    """The headline. The masthead's logo names the site on pages that declare no site name."""
    return choose_title(**title_inputs(tree, meta, ld, site_names, host))


def title_inputs(
    tree: HtmlElement,
    meta: dict[str, list[str]],
    ld: dict[str, Any],
    site_names: list[str | None],
    host: str,
) -> dict[str, Any]:
    """What :func:`choose_title` reads off the page (benchmarks/title_ranker_experiment.py too)."""
    title_tag = tree.find(".//title")
    metadata_titles = [
        clean_text(first_str(ld.get("headline")) or first_str(ld.get("name"))),
        clean_text(first_meta(meta, "og:title")),
        clean_text(first_meta(meta, "twitter:title")),
        clean_text(title_tag.text_content()) if title_tag is not None else None,
    ]
    # trafilatura's guess (often the h1 itself): only for a page with no title of its own.
    metadata_titles.append(
        None
        if any(metadata_titles)
        else clean_text(trafilatura_metadata.extract_title(tree))
    )
    return {
        "h1_texts": [clean_text(text_with_breaks(h)) for h in tree.iterfind(".//h1")][:5],
        "metadata_titles": metadata_titles,
        "site_names": site_names,
        "host": host,
        "masthead_names": functools.cache(lambda: read_masthead_names(tree)),
    }


def _published(
    tree: HtmlElement,
    url: str,
    meta: dict[str, list[str]],
    ld: dict[str, Any],
    web_page: dict[str, Any] | None,
    modified_values: list[Any],
    now: datetime,
) -> datetime | None:
    """The publication date: JSON-LD > meta > <time datetime> > htmldate > URL."""
    published_values = [
        ld.get("datePublished"),
        ld.get("dateCreated"),
        *meta_values(
            meta,
            "article:published_time",
            "og:article:published_time",
            "article:published",
            "datepublished",
            "published_time",
            "publishdate",
            "publish-date",
            "pubdate",
            "parsely-pub-date",
            "sailthru.date",
            "dc.date.issued",
            "dcterms.issued",
            "dc.date",
            "dcterms.date",
            "date",
            "citation_publication_date",
            "og:published_time",
            "article.published",
            "cxenseparse:recs:publishtime",
        ),
        (web_page or {}).get("datePublished"),
    ]
    # schema.org and Open Graph dates are ISO 8601: one written for readers
    # ("Jun 24, 2025") comes from a template printing a display field, often the
    # last re-publication, so htmldate's reading of the page goes first.
    return (
        first_date(published_values, now, written=False)
        or first_time_element(tree, now, url)
        or htmldate_published(tree, url, modified_values, now)
        or first_date(published_values, now)
        or date_from_url(url)
    )


def _authors(
    tree: HtmlElement,
    meta: dict[str, list[str]],
    ld: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    site_names: list[str | None],
    host: str,
) -> tuple[str, ...]:
    ld_authors = ld.get("author") or ld.get("creator")
    authors = json_ld_authors(
        resolve_references(ld_authors, by_id), site_names, host_keys(host)
    )
    if not authors:
        raw_authors = [
            v
            for key in (
                "author",
                "article:author",
                "dc.creator",
                "parsely-author",
                "sailthru.author",
                "byl",
            )
            for v in meta.get(key, [])
            if not v.startswith("http")
        ]
        if not raw_authors:
            raw_authors = twitter_byline(meta)
        if not raw_authors:
            raw_authors = (trafilatura_metadata.extract_author(tree) or "").split(";")
        authors = split_authors(
            raw_authors, exclude=site_names, hosts=host_keys(host)
        )
    return authors


def _canonical(
    tree: HtmlElement, url: str, meta: dict[str, list[str]], ld: dict[str, Any]
) -> str | None:
    """<link rel=canonical>, else og:url, else JSON-LD mainEntityOfPage: the first that is a web address."""

    canonical = None
    for link in tree.iterfind(".//link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href")
            break
    main_entity = ld.get("mainEntityOfPage")
    if isinstance(main_entity, dict):
        main_entity = main_entity.get("@id") or main_entity.get("url")
    ld_url = (
        main_entity
        if isinstance(main_entity, str) and main_entity.startswith("http")
        else None
    )
    for declared in (canonical, first_meta(meta, "og:url"), ld_url):
        absolute = _absolute(url, declared)
        if absolute is not None and canonical_url_or_none(absolute) is not None:
            return absolute
    return None


def _language(
    tree: HtmlElement, meta: dict[str, list[str]], ld: dict[str, Any]
) -> str | None:
    values = [
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        tree.get("xml:lang"),
        first_meta(meta, "content-language", "language", "dc.language", "og:locale"),
        first_str(ld.get("inLanguage")),
    ]
    for value in values:
        if not value:
            continue
        code = re.split(r"[-_,;\s]", value.strip().lower(), maxsplit=1)[0]
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    return None


def _tags(meta: dict[str, list[str]], ld: dict[str, Any]) -> tuple[str, ...]:
    raw: list[str] = list(meta.get("article:tag", []))
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        raw.extend(keywords.split(","))
    elif isinstance(keywords, list):
        raw.extend(k for k in keywords if isinstance(k, str))
    if not raw:
        for key in ("news_keywords", "keywords"):
            for value in meta.get(key, []):
                raw.extend(value.split(","))
    tags: dict[str, str] = {}
    for tag in raw:
        cleaned = clean_text(tag)
        if cleaned and len(cleaned) <= 80:
            tags.setdefault(cleaned.casefold(), cleaned)
    return tuple(tags.values())


def _absolute(base: str, value: str | None) -> str | None:
    value = clean_text(value)
    if not value or value.startswith(("data:", "javascript:")):
        return None
    try:
        return urljoin(base, value)
    except ValueError:
        return None
