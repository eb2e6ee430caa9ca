"""Downloader components: the private-address guard and the User-Agent.

With ``NEWSDESK_BLOCK_PRIVATE_ADDRESSES`` on, no request or redirect reaches loopback, private,
link-local or cloud-metadata addresses: see :class:`PrivateAddressGuard`. Every request names
newsdesk and the operator's contact (``NEWSDESK_CONTACT``): see :class:`ContactUserAgent`.
"""

from __future__ import annotations

import importlib.metadata
import ipaddress
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError

from crawler.addresses import is_forbidden_address, is_local_name, scheme_refusal

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["ContactUserAgent", "PrivateAddressGuard", "RefusedAddress", "is_forbidden_address", "newsdesk_user_agent"]


def newsdesk_user_agent(contact: str | None) -> str:
    """``newsdesk/VERSION``, with ``(+CONTACT)`` when the operator gave one: the site owner sees
    which tool is asking and whom to write to; no address is made up when none was given."""
    agent = f"newsdesk/{importlib.metadata.version('newsdesk')}"
    return f"{agent} (+{contact.strip()})" if contact and contact.strip() else agent


class ContactUserAgent:
    """Sets newsdesk's User-Agent on every request, unless the operator set ``USER_AGENT``
    themselves (``-s USER_AGENT=...``, a source's settings), and warns once per crawl when a site
    off this machine is crawled without a contact to reach whoever runs the crawl."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.contact = (settings.get("NEWSDESK_CONTACT") or "").strip()
        own = settings.getpriority("USER_AGENT") > SETTINGS_PRIORITIES["project"]
        self.user_agent = settings.get("USER_AGENT") if own else newsdesk_user_agent(self.contact)
        self.warned = bool(self.contact) or own

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgent:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        request.headers.setdefault(b"User-Agent", self.user_agent)
        if not self.warned and not _is_this_machine(urlsplit(request.url).hostname or ""):
            self.warned = True
            logger.warning(
                "crawling %s with no contact in the User-Agent: set NEWSDESK_CONTACT (an e-mail "
                "address or URL) so its owner can reach whoever runs this crawl",
                urlsplit(request.url).hostname,
            )


def _is_this_machine(host: str) -> bool:
    if is_local_name(host):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RefusedAddress(IgnoreRequest):
    """The request's target is a loopback, private, link-local or metadata address."""


class PrivateAddressGuard:
    """Refuses requests whose host is, or resolves to, a forbidden address.

    The name is resolved through the reactor's resolver, which is Scrapy's caching one: the
    connection that follows uses the cached answer checked here, so a second DNS answer cannot
    swap a private address in. Redirects pass through here again, so they are checked too.
    """

    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSDESK_BLOCK_PRIVATE_ADDRESSES"):
            raise NotConfigured  # NEWSDESK_BLOCK_PRIVATE_ADDRESSES is off (no message: Scrapy would log one as a warning)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        refusal = scheme_refusal(request.url)
        if refusal:  # only reachable by a redirect: DOWNLOAD_HANDLERS has no other scheme
            self.stats.inc_value("newsdesk/refused_scheme")
            raise RefusedAddress(refusal)
        host = (urlsplit(request.url).hostname or "").lower().rstrip(".")
        if is_local_name(host):
            self._refuse(host, host)
        try:
            ipaddress.ip_address(host.strip("[]"))
            address = host
        except ValueError:
            from twisted.internet import reactor

            try:
                address = await maybe_deferred_to_future(reactor.resolve(host))
            except DNSLookupError:
                return  # the download itself fails with the DNS error, recorded as such
        if is_forbidden_address(address):
            self._refuse(host, address)

    def _refuse(self, host: str, address: str) -> None:
        self.stats.inc_value("newsdesk/refused_private_address")
        shown = host if host == address else f"{host} ({address})"
        raise RefusedAddress(
            f"refused private address {shown} (NEWSDESK_BLOCK_PRIVATE_ADDRESSES is on; "
            "set it to false to crawl a site on this machine or network)"
        )
