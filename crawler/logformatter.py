"""Scrapy's log lines for items, cut to one short line each.

Scrapy's own formatter prints the whole item after "Dropped:", "Scraped from" and "Error
processing": for a page that is its HTML, thousands of characters per line for every hub, tag page
and refusal. Here each says what happened to which URL; the crawl log keeps the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter

__all__ = ["OneLineLogFormatter", "describe_item"]


def describe_item(item: Any) -> str:
    """An item as one short phrase: its URL (and title when it has one), never its body."""
    if isinstance(item, dict):
        url, title = item.get("url"), item.get("title")
    else:
        url = getattr(item, "url", None) or getattr(getattr(item, "page", None), "url", None)
        title = None
    text = f"<{url}>" if url else type(item).__name__
    if title:
        text += f" {title[:80]!r}"
    return text


class OneLineLogFormatter(LogFormatter):
    """Item lines without the item's contents (see the module docstring)."""

    def scraped(self, item, response, spider):
        return {"level": logging.DEBUG, "msg": "Sent to the store: %(item)s", "args": {"item": describe_item(item)}}

    def dropped(self, item, exception, response, spider):
        entry = super().dropped(item, exception, response, spider)
        # The drop's message already ends with the URL (see crawler/pipelines.py).
        return {**entry, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def item_error(self, item, exception, response, spider):
        entry = super().item_error(item, exception, response, spider)
        return {**entry, "msg": "Error processing %(item)s", "args": {"item": describe_item(item)}}
