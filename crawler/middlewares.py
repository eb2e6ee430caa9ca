"""Downloader components: the private-address guard.

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

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["GuardedResolver", "PrivateAddressGuard", "RefusedAddress", "is_forbidden_address"]


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
