"""The one address check every fetch goes through: IPv6 forms that carry a forbidden IPv4 inside."""

from __future__ import annotations

import pytest

from crawler.addresses import is_forbidden_address, scheme_refusal


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::127.0.0.1",  # NAT64 well-known prefix
        "64:ff9b::169.254.169.254",
        "64:ff9b:1::a00:1",  # NAT64 local-use prefix
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "fec0::1",  # site-local
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "[::127.0.0.1]",
    ],
)
def test_ipv6_that_embeds_a_forbidden_ipv4_is_refused(address):
    assert is_forbidden_address(address)


@pytest.mark.parametrize("address", ["64:ff9b::8.8.8.8", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111"])
def test_ipv6_that_embeds_a_public_ipv4_is_allowed(address):
    assert not is_forbidden_address(address)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "data:text/html,hi", "gopher://a/"])
def test_only_http_and_https_are_fetched(url):
    assert scheme_refusal(url)


def test_http_and_https_pass_the_scheme_check():
    assert scheme_refusal("http://example.com/") is None
    assert scheme_refusal("HTTPS://example.com/") is None
