"""What a page states for machines, read once: its JSON-LD objects and its <meta> tags."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

__all__ = ["ARTICLE_TYPES", "MODIFIED_META_KEYS", "VIDEO_TYPES", "first_meta", "first_str", "first_url", "json_ld_names", "json_ld_objects", "json_ld_types", "meta_map", "meta_values", "resolve_references"]

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "askpublicnewsarticle",
        "liveblogposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "posting",
        "socialmediaposting",
        "discussionforumposting",
        "medicalwebpage",
        "review",
    }
)
VIDEO_TYPES = frozenset({"videoobject", "clip", "episode", "movie", "tvepisode"})


def json_ld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        data = _loads_lenient(raw)
        if data is not None:
            objects.extend(_flatten_json_ld(data))
    return objects


# JSON-LD objects nest a few levels (an article, its author, the author's
# organisation's logo): below this depth there is nothing a page means.
MAX_JSON_LD_DEPTH = 32


def _loads_lenient(raw: str) -> Any:
    if raw.startswith("<!--"):
        raw = raw.removeprefix("<!--").removesuffix("-->").strip()
    try:
        return _within_depth(json.loads(raw, strict=False))
    except ValueError:
        pass
    except RecursionError:
        # Nested deeper than the parser's stack allows: no publisher writes that.
        logger.debug("JSON-LD block of %d chars nested too deep to parse", len(raw))
        return None
    # Trailing commas and a stray ";" are the usual hand-written mistakes.
    repaired = re.sub(r",\s*([}\]])", r"\1", raw.rstrip(";").strip())
    try:
        return _within_depth(json.loads(repaired, strict=False))
    except (ValueError, RecursionError):
        logger.debug("unparseable JSON-LD block of %d chars", len(raw))
        return None


def _within_depth(data: Any, limit: int = MAX_JSON_LD_DEPTH) -> Any:
    """``data`` with containers nested below ``limit`` levels replaced by None.

    Walked with a stack of its own, not by recursion, so every later reader
    (names, references, URLs) recurses a bounded number of levels.
    """
    pending = [(data, 1)] if isinstance(data, (dict, list)) else []
    while pending:
        container, depth = pending.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            child = container[key]
            if not isinstance(child, (dict, list)):
                continue
            if depth >= limit:
                container[key] = None
            else:
                pending.append((child, depth + 1))
    return data


def _flatten_json_ld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten_json_ld(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _flatten_json_ld(graph, depth + 1)
        main = data.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _flatten_json_ld(main, depth + 1)


def json_ld_types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    if isinstance(value, str):
        return {value.lower()}
    if isinstance(value, list):
        return {v.lower() for v in value if isinstance(v, str)}
    return set()


def json_ld_names(value: Any) -> list[str]:
    """Names of JSON-LD persons/organisations given as a string, dict, or list of them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [name for item in value for name in json_ld_names(item)]
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str):
            return [name]
        if isinstance(name, list):
            return [n for n in name if isinstance(n, str)]
        given, family = value.get("givenName"), value.get("familyName")
        if isinstance(given, str) and isinstance(family, str):
            return [f"{given} {family}"]
    return []


def resolve_references(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    """Replace ``{"@id": ...}`` references (a Yoast-style @graph) with the objects they name."""
    if isinstance(value, list):
        return [resolve_references(item, by_id) for item in value]
    if isinstance(value, dict) and "@type" not in value:
        target = by_id.get(value.get("@id"))  # type: ignore[arg-type]
        if target is not None:
            return {**target, **value}
    return value


def first_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in value:
            url = first_url(item)
            if url:
                return url
    if isinstance(value, dict):
        return first_url(
            value.get("url") or value.get("contentUrl") or value.get("@id")
        )
    return None


def first_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item.strip():
                return item
    return None


def meta_map(tree: HtmlElement) -> dict[str, list[str]]:
    """All <meta> values keyed by lowercased property/name/itemprop/http-equiv."""
    found: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        content = meta.get("content")
        if content is None:
            continue
        content = content.strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def first_meta(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = meta.get(key)
        if values:
            return values[0]
    return None


# Meta tags naming when a page was last modified, in trust order.
MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "article:modified",
    "datemodified",
    "modified_time",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
)


def meta_values(meta: dict[str, list[str]], *keys: str) -> list[str]:
    """Every value of ``keys``, in key order: a later one stands in when an earlier is unreadable."""
    return [value for key in keys for value in meta.get(key, ())]
