"""Trusted proxies through the middleware: forwarding headers count only from them."""

from __future__ import annotations

import json

import pytest

from guard.testing import call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
PROXIES = {"trusted_proxies": ["10.0.0.0/8"], "log_allow_sample": 1.0}


def logged_ips(log: object) -> list[str]:
    lines = log.getvalue().splitlines()  # type: ignore[attr-defined]
    return [json.loads(line)["ip"] for line in lines]


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    guarded: GuardedFactory,
) -> None:
    """A client cannot claim another address: the peer is the client unless it is a proxy."""
    app, log = guarded(deny=["203.0.113.9"], allow=["198.51.100.0/24"], **PROXIES)
    for header in ("x-forwarded-for", "x-real-ip", "forwarded"):
        value = "for=198.51.100.7" if header == "forwarded" else "198.51.100.7"
        reply = await call_asgi(
            app, "/jobs", headers={**chrome_headers(), header: value}, client=("203.0.113.9", 5555)
        )
        assert reply.status == 403
    assert set(logged_ips(log)) == {"203.0.113.9"}


async def test_a_trusted_proxy_chain_yields_the_rightmost_untrusted_hop(
    guarded: GuardedFactory,
) -> None:
    """Behind two trusted proxies the client is the first hop they did not add."""
    app, log = guarded(deny=["198.51.100.7"], **PROXIES)
    headers = {**chrome_headers(), "x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.3"}
    reply = await call_asgi(app, "/jobs", headers=headers, client=("10.0.0.2", 5555))
    assert reply.status == 403
    assert logged_ips(log) == ["198.51.100.7"]


async def test_allowlisted_clients_skip_every_signal(guarded: GuardedFactory) -> None:
    """An allowlisted monitor may use curl on record pages."""
    app, _ = guarded(allow=["192.0.2.0/24"])
    reply = await call_asgi(
        app, "/resume/100001", headers={"user-agent": "curl/8.5.0"}, client=("192.0.2.44", 1)
    )
    assert reply.status == 200
