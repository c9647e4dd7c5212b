"""Tests for guard.facts.client: client address resolution, parse_ip and network_group."""

from __future__ import annotations

import ipaddress
import random

import pytest

from guard.config import IPNetwork
from guard.facts.client import (
    ClientAddressResolver,
    in_networks,
    network_group,
    network_of,
    parse_ip,
)

PROXIES: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("2001:db8:ffff::/48"),
)
SPOOF_HEADERS = [
    {"x-forwarded-for": "198.51.100.1"},
    {"forwarded": "for=198.51.100.1"},
    {"x-real-ip": "198.51.100.1"},
    {"x-forwarded-for": "198.51.100.1", "forwarded": 'for="[2001:db8::1]"', "x-real-ip": "1.1.1.1"},
]


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse an address that the test knows is valid."""
    return ipaddress.ip_address(text)


@pytest.mark.parametrize("headers", SPOOF_HEADERS)
def test_untrusted_peer_ignores_forwarding_headers(headers: dict[str, str]) -> None:
    """A peer outside the trusted proxies is the client whatever headers it sends."""
    resolver = ClientAddressResolver(PROXIES)
    assert resolver.resolve("203.0.113.9", headers) == ip("203.0.113.9")


@pytest.mark.parametrize("headers", SPOOF_HEADERS)
def test_no_trusted_proxies_means_headers_are_never_believed(headers: dict[str, str]) -> None:
    """With no trusted proxies configured, even a private peer's headers are ignored."""
    resolver = ClientAddressResolver(())
    assert resolver.resolve("10.1.2.3", headers) == ip("10.1.2.3")


def test_trusted_peer_takes_rightmost_untrusted_xff_hop() -> None:
    """Through a chain of trusted proxies the client is the rightmost hop not trusted."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.3, 10.0.0.2"}
    assert resolver.resolve("10.0.0.1", headers) == ip("203.0.113.7")


def test_client_supplied_xff_prefix_cannot_choose_the_address() -> None:
    """Hops left of the first untrusted one are attacker-controlled and are not used."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "1.2.3.4, 5.6.7.8, 198.51.100.20"}
    assert resolver.resolve("10.9.9.9", headers) == ip("198.51.100.20")


def test_all_hops_trusted_gives_leftmost_hop() -> None:
    """When every hop is a trusted proxy the leftmost one is the best address known."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "10.0.0.5, 10.0.0.4"}
    assert resolver.resolve("10.0.0.1", headers) == ip("10.0.0.5")


def test_trusted_peer_without_headers_is_the_client() -> None:
    """A trusted proxy that forwarded nothing is itself the client address."""
    resolver = ClientAddressResolver(PROXIES)
    assert resolver.resolve("10.0.0.1", {}) == ip("10.0.0.1")


def test_x_real_ip_from_trusted_peer() -> None:
    """X-Real-IP is used when it is the only forwarding header from a trusted proxy."""
    resolver = ClientAddressResolver(PROXIES, "x-real-ip")
    assert resolver.resolve("10.0.0.1", {"x-real-ip": " 198.51.100.4 "}) == ip("198.51.100.4")


def test_forwarded_header_with_quoted_ipv6_and_ports() -> None:
    """RFC 7239 `for=` values with quotes, brackets and ports reduce to bare addresses."""
    resolver = ClientAddressResolver(PROXIES, "forwarded")
    headers = {
        "forwarded": 'for="[2001:db8:cafe::17]:4711";proto=https, For="10.0.0.9:8080";by=10.0.0.1'
    }
    assert resolver.resolve("10.0.0.1", headers) == ip("2001:db8:cafe::17")


def test_forwarded_header_ipv4_with_port_and_other_params() -> None:
    """An IPv4 `for=` with a port and sibling parameters yields the address."""
    resolver = ClientAddressResolver(PROXIES, "forwarded")
    headers = {"forwarded": 'proto=http;for="192.0.2.60:4711";by=203.0.113.43'}
    assert resolver.resolve("10.0.0.1", headers) == ip("192.0.2.60")


def test_forwarded_trusted_ipv6_hop_is_skipped() -> None:
    """A trusted IPv6 proxy hop in Forwarded is skipped like an IPv4 one."""
    resolver = ClientAddressResolver(PROXIES, "forwarded")
    headers = {"forwarded": 'for=198.51.100.2, for="[2001:db8:ffff::5]"'}
    assert resolver.resolve("2001:db8:ffff::1", headers) == ip("198.51.100.2")


def test_client_sent_forwarded_cannot_override_proxy_xff() -> None:
    """A Forwarded header the proxy passed through untouched must not beat the XFF it set."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"forwarded": "for=6.6.6.6", "x-forwarded-for": "198.51.100.30"}
    assert resolver.resolve("10.0.0.1", headers) == ip("198.51.100.30")


def test_garbage_hop_stops_the_walk_at_last_good_hop() -> None:
    """A garbled hop ends the walk: nothing to its left is believed."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "198.51.100.1, not-an-ip, 10.0.0.2"}
    assert resolver.resolve("10.0.0.1", headers) == ip("10.0.0.2")


def test_garbage_hop_left_of_client_is_irrelevant() -> None:
    """Junk injected by the client left of its real address does not disturb resolution."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "<script>, , 999.1.1.1, 198.51.100.3"}
    assert resolver.resolve("10.0.0.1", headers) == ip("198.51.100.3")


@pytest.mark.parametrize(
    "header",
    [{"x-forwarded-for": ""}, {"x-forwarded-for": "garbage"}, {"forwarded": "for=unknown"}],
)
def test_garbage_only_header_falls_back_to_the_peer(header: dict[str, str]) -> None:
    """An empty or unparseable forwarding header leaves the trusted peer as the address."""
    resolver = ClientAddressResolver(PROXIES)
    assert resolver.resolve("10.0.0.1", header) == ip("10.0.0.1")


def test_xff_hop_with_port_is_understood() -> None:
    """An X-Forwarded-For hop of the form address:port resolves to the address."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "198.51.100.8:52311"}
    assert resolver.resolve("10.0.0.1", headers) == ip("198.51.100.8")


def test_no_peer_gives_none() -> None:
    """Without a peer address (e.g. a unix socket) there is no client address."""
    resolver = ClientAddressResolver(PROXIES)
    assert resolver.resolve(None, {"x-forwarded-for": "198.51.100.1"}) is None
    assert resolver.resolve("", {}) is None


def test_unparseable_peer_gives_none() -> None:
    """A peer that is not an IP address yields None rather than an exception."""
    assert ClientAddressResolver(PROXIES).resolve("/run/app.sock", {}) is None


def test_ipv4_mapped_peer_is_normalised_and_matched_against_ipv4_proxies() -> None:
    """A dual-stack server's ::ffff:10.0.0.1 peer counts as the trusted IPv4 proxy."""
    resolver = ClientAddressResolver(PROXIES)
    headers = {"x-forwarded-for": "::ffff:198.51.100.77"}
    assert resolver.resolve("::ffff:10.0.0.1", headers) == ip("198.51.100.77")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::FFFF:c000:0201", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("2001:DB8::1", "2001:db8::1"),
    ],
)
def test_parse_ip_normalises(text: str, expected: str) -> None:
    """parse_ip strips spaces, unwraps IPv4-mapped IPv6 and canonicalises IPv6."""
    assert parse_ip(text) == ip(expected)


@pytest.mark.parametrize("text", ["", "garbage", "1.2.3", "256.0.0.1", "[::1]", "1.2.3.4:80"])
def test_parse_ip_rejects_non_addresses(text: str) -> None:
    """parse_ip returns None for anything that is not a bare address."""
    assert parse_ip(text) is None


def test_network_group_is_slash_24_for_ipv4() -> None:
    """IPv4 addresses group by /24."""
    assert network_group(ip("192.0.2.200")) == "192.0.2.0/24"
    assert network_group(ip("192.0.2.1")) == network_group(ip("192.0.2.254"))
    assert network_group(ip("192.0.3.1")) != network_group(ip("192.0.2.1"))


def test_network_group_is_slash_64_for_ipv6() -> None:
    """IPv6 addresses group by /64: one site's subnet, not one address."""
    first = network_group(ip("2001:db8:1:2:aaaa::1"))
    assert first == "2001:db8:1:2::/64"
    assert network_group(ip("2001:db8:1:2:bbbb::2")) == first
    assert network_group(ip("2001:db8:1:3::1")) != first


def test_in_networks_ignores_other_family() -> None:
    """An IPv4 address is never inside an IPv6 network and vice versa (no exception)."""
    assert in_networks(ip("10.0.0.1"), PROXIES)
    assert not in_networks(ip("2001:db8::1"), (ipaddress.ip_network("10.0.0.0/8"),))
    assert in_networks(ip("2001:db8:ffff:1::1"), PROXIES)
    assert not in_networks(ip("11.0.0.1"), PROXIES)


def test_network_of_is_the_block_ipaddress_computes() -> None:
    """The /24 or /64 as ``ipaddress`` writes the network, for addresses at every edge."""
    rng = random.Random(24)
    samples = [
        *(ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(2000)),
        *(ipaddress.IPv6Address(rng.getrandbits(128)) for _ in range(2000)),
        *(ipaddress.IPv6Address(rng.getrandbits(16) << 64) for _ in range(200)),  # zero runs
        *map(ipaddress.ip_address, ["0.0.0.0", "255.255.255.255", "::", "::1", "ffff::"]),
        *map(ipaddress.ip_address, ["2001:db8::", "::ffff:0:0", "64:ff9b::1.2.3.4"]),
    ]
    for address in samples:
        prefix = 24 if address.version == 4 else 64
        expected = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
        assert network_of(address) == expected, address
