"""Which hosts and URLs newsdesk may fetch: the one address check every fetch goes through.

Pure and Scrapy-free, so the crawl's :class:`crawler.middlewares.PrivateAddressGuard` and the
one-page fetch of ``newsdesk extract`` (:mod:`crawler.page_fetch`) refuse exactly the same things:
schemes other than http(s), local host names, and addresses that are not public unicast ones,
including IPv6 addresses that carry a forbidden IPv4 address inside them.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = [
    "ALLOWED_SCHEMES",
    "LOCAL_NAMES",
    "embedded_ipv4",
    "is_forbidden_address",
    "is_local_name",
    "scheme_refusal",
]

ALLOWED_SCHEMES = ("http", "https")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

# IPv6 ranges whose last 32 bits are an IPv4 address a router or gateway may deliver to:
# IPv4-compatible (::/96, deprecated) and the well-known NAT64 prefix (RFC 6052).
_LAST_32_BITS_EMBED = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))
# Ranges that are never a public destination although Python's ``is_global`` says they are:
# NAT64 local-use (RFC 8215) and the deprecated site-local range (RFC 3879).
_NEVER_PUBLIC = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("fec0::/10"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address leads to: mapped, compatible, NAT64, 6to4, Teredo."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo  # (server, client): the client's address is where packets end up
    if any(ip in network for network in _LAST_32_BITS_EMBED):
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return ()


def _is_forbidden_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if not ip.is_global or ip.is_multicast:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC):
            return True
        return any(_is_forbidden_ip(inner) for inner in embedded_ipv4(ip))
    return False


def is_forbidden_address(address: str) -> bool:
    """True for an IP address that is not a public unicast one (a host name is never forbidden here).

    An IPv6 address that embeds an IPv4 address is refused when the embedded one would be.
    """
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _is_forbidden_ip(ip.ipv4_mapped)
    return _is_forbidden_ip(ip)


def is_local_name(host: str) -> bool:
    """``localhost`` and its spellings, which resolve to loopback without asking DNS."""
    name = host.lower().rstrip(".")
    return name in LOCAL_NAMES or name.endswith(".localhost")


def scheme_refusal(url: str) -> str | None:
    """Why ``url`` may not be fetched because of its scheme or a missing host, or None."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return f"refused {parts.scheme or 'scheme-less'} URL {url[:200]!r}: only http and https are fetched"
    if not parts.hostname:
        return f"refused URL without a host: {url[:200]!r}"
    return None
