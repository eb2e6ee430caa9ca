"""Crawl components: the private-address guard, and frontier completion of hub requests.

With ``NEWSDESK_BLOCK_PRIVATE_ADDRESSES`` on, no request or redirect reaches loopback, private,
link-local or cloud-metadata addresses. Literal IPs are refused before the request is sent
(:class:`PrivateAddressGuard`); host names are checked on the address they resolve to, at
connection time (:class:`GuardedResolver`), so a DNS answer cannot smuggle a private target in.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from storage import frontier
from storage.db import open_database, resolve_database_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["FrontierHubMiddleware", "GuardedResolver", "PrivateAddressGuard", "RefusedAddress", "is_forbidden_address"]


class RefusedAddress(IgnoreRequest):
    """The request's target is a loopback, private, link-local or metadata address."""


def is_forbidden_address(address: str) -> bool:
    """True for any address that is not a public unicast one."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class PrivateAddressGuard:
    """Refuses requests whose host is a forbidden literal address or a local name."""

    LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSDESK_BLOCK_PRIVATE_ADDRESSES"):
            raise NotConfigured("NEWSDESK_BLOCK_PRIVATE_ADDRESSES is off")
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        host = (urlsplit(request.url).hostname or "").lower().rstrip(".")
        if host in self.LOCAL_NAMES or host.endswith(".localhost") or is_forbidden_address(host):
            self.stats.inc_value("newsdesk/refused_private_address")
            raise RefusedAddress(
                f"refused private address {host} (NEWSDESK_BLOCK_PRIVATE_ADDRESSES is on; "
                "set it to false to crawl a site on this machine or network)"
            )


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, failing any name that resolves to a forbidden address."""

    block_private = True

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.block_private = crawler.settings.getbool("NEWSDESK_BLOCK_PRIVATE_ADDRESSES")
        return resolver

    def getHostByName(self, name: str, timeout=()):
        deferred = super().getHostByName(name, timeout)
        if self.block_private:
            deferred.addCallback(self._refuse_private, name)
        return deferred

    @staticmethod
    def _refuse_private(address: str, name: str) -> str:
        if is_forbidden_address(address):
            logger.warning("refused %s: it resolves to the private address %s", name, address)
            raise DNSLookupError(f"refused private address {address} for {name}")
        return address


class FrontierHubMiddleware:
    """Marks robots.txt, sitemap and feed requests done once everything they listed is queued.

    Pages are marked done by the store pipeline, with their result; hubs yield only requests,
    so they are done when their callback's output has been consumed (the requests it yielded are
    in the frontier by then).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.sessions = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierHubMiddleware:
        return cls(crawler)

    async def process_spider_output(self, response, result):
        async for output in result:
            yield output
        meta = response.meta
        if meta.get("kind", "page") != "page" and "frontier_url" in meta:
            spider = self.crawler.spider
            if self.sessions is None:
                self.sessions = open_database(resolve_database_url(self.crawler.settings.get("NEWSDESK_DATABASE_URL")))
            with self.sessions.begin() as session:
                frontier.complete(session, spider.source_name, meta["frontier_url"], outcome="hub", run_id=spider.run_id)
