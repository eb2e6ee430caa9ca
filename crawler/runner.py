"""Running crawls from Python: the ``newsdesk`` commands call this, never ``scrapy`` directly.

A Twisted reactor starts once per process, so one call runs every requested crawl together and
returns when all have finished.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

__all__ = ["CrawlTarget", "project_settings", "run_crawls"]


@dataclass(frozen=True)
class CrawlTarget:
    """One crawl: a source name and where it starts (no start URLs: the sources file says)."""

    source: str
    start_urls: tuple[str, ...]
    spider_args: Mapping[str, Any] = field(default_factory=dict)


def project_settings(database_url: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSDESK_DATABASE_URL", database_url, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawls(
    targets: Sequence[CrawlTarget], database_url: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Crawl every target in this process; returns each source's Scrapy stats."""
    from crawler.spiders.news import NewsSpider

    process = CrawlerProcess(project_settings(database_url, overrides))
    crawlers = {}
    for target in targets:
        crawler = process.create_crawler(NewsSpider)
        crawlers[target.source] = crawler
        urls = ",".join(target.start_urls) or None
        process.crawl(crawler, start_urls=urls, source=target.source, **target.spider_args)
    process.start()
    logging.getLogger(__name__).debug("crawls finished: %s", ", ".join(crawlers))
    return {source: crawler.stats.get_stats() for source, crawler in crawlers.items()}
