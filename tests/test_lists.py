"""Tests for guard.lists.AccessLists: allow and deny networks."""

from __future__ import annotations

import ipaddress

from guard.lists import AccessLists
from guard.types import Action


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network from CIDR text."""
    return ipaddress.ip_network(text)


def addr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address from text."""
    return ipaddress.ip_address(text)


def test_unlisted_address_is_neither() -> None:
    """An address on neither list gets no verdict from the lists."""
    lists = AccessLists([net("10.0.0.0/8")], [net("192.0.2.0/24")])
    assert lists.check(addr("198.51.100.1")) is None


def test_allowed_address_is_allowed() -> None:
    """An address in an allowed network is allowed."""
    lists = AccessLists([net("10.0.0.0/8")], [])
    assert lists.check(addr("10.20.30.40")) is Action.ALLOW


def test_denied_address_is_blocked() -> None:
    """An address in a denied network is blocked."""
    lists = AccessLists([], [net("192.0.2.0/24")])
    assert lists.check(addr("192.0.2.99")) is Action.BLOCK


def test_deny_wins_over_allow() -> None:
    """A denied subnet inside an allowed range stays blocked; the rest stays allowed."""
    lists = AccessLists([net("10.0.0.0/8")], [net("10.66.0.0/16")])
    assert lists.check(addr("10.66.1.1")) is Action.BLOCK
    assert lists.check(addr("10.67.1.1")) is Action.ALLOW


def test_ipv6_networks() -> None:
    """IPv6 allow and deny networks match IPv6 addresses by prefix."""
    lists = AccessLists([net("2001:db8::/32")], [net("2001:db8:bad::/48")])
    assert lists.check(addr("2001:db8:1::1")) is Action.ALLOW
    assert lists.check(addr("2001:db8:bad:1::1")) is Action.BLOCK
    assert lists.check(addr("2001:db9::1")) is None


def test_families_do_not_mix() -> None:
    """IPv4 addresses never match IPv6 networks and vice versa, without raising."""
    lists = AccessLists([net("::/0")], [net("0.0.0.0/0")])
    assert lists.check(addr("2001:db8::1")) is Action.ALLOW
    assert lists.check(addr("192.0.2.1")) is Action.BLOCK


def test_unknown_address_is_neither() -> None:
    """Without a client address the lists say nothing."""
    lists = AccessLists([net("0.0.0.0/0")], [net("::/0")])
    assert lists.check(None) is None


def test_empty_lists() -> None:
    """With no lists every address is unlisted."""
    assert AccessLists([], []).check(addr("127.0.0.1")) is None
