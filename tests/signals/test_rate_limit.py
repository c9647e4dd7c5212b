"""Rate limits through the middleware: 429s carry RateLimit and Retry-After headers."""

from __future__ import annotations

import pytest

from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


async def test_429_carries_ietf_ratelimit_headers(guarded: GuardedFactory) -> None:
    """Past the per-IP listing limit a 429 names the policy, what remains and when to retry."""
    app, _ = guarded(thresholds={"gray": 1.0, "block": 1.0})
    statuses = [
        (await call_asgi(app, "/jobs", headers=chrome_headers())).status for _ in range(120)
    ]
    assert set(statuses) == {200}
    reply = await call_asgi(app, "/jobs", headers=chrome_headers())
    assert reply.status == 429
    assert reply.header("retry-after") == "1"
    assert (
        reply.header("ratelimit-policy") == '"default-ip";q=120;w=60, "default-network";q=600;w=60'
    )
    assert reply.header("ratelimit") == '"default-ip";r=0;t=1'


async def test_limits_refill_with_time(guarded: GuardedFactory, clock: ManualClock) -> None:
    """After Retry-After seconds the client is served again."""
    app, _ = guarded(thresholds={"gray": 1.0, "block": 1.0})
    for _ in range(120):
        await call_asgi(app, "/jobs", headers=chrome_headers())
    refused = await call_asgi(app, "/jobs", headers=chrome_headers())
    clock.advance(float(refused.header("retry-after") or 0))
    assert (await call_asgi(app, "/jobs", headers=chrome_headers())).status == 200


async def test_limits_are_per_ip_within_the_network_limit(guarded: GuardedFactory) -> None:
    """A second IP in the same /24 keeps its own IP allowance."""
    app, _ = guarded(thresholds={"gray": 1.0, "block": 1.0})
    for _ in range(121):
        await call_asgi(app, "/jobs", headers=chrome_headers(), client=("192.0.2.1", 1))
    other = await call_asgi(app, "/jobs", headers=chrome_headers(), client=("192.0.2.2", 1))
    assert other.status == 200


async def test_ipv6_clients_in_one_64_share_the_network_limit(guarded: GuardedFactory) -> None:
    """Addresses in one IPv6 /64 count against one network limit; another /64 does not."""
    app, _ = guarded(
        thresholds={"gray": 1.0, "block": 1.0},
        routes={"default": {"rates": {"ip": "1000/minute", "network": "10/minute"}}},
    )
    for host in range(10):
        reply = await call_asgi(
            app, "/jobs", headers=chrome_headers(), client=(f"2001:db8:1:2::{host + 1:x}", 1)
        )
        assert reply.status == 200
    same = await call_asgi(
        app, "/jobs", headers=chrome_headers(), client=("2001:db8:1:2:ffff::99", 1)
    )
    other = await call_asgi(app, "/jobs", headers=chrome_headers(), client=("2001:db8:1:3::1", 1))
    mapped = await call_asgi(app, "/jobs", headers=chrome_headers(), client=("::ffff:192.0.2.9", 1))
    assert same.status == 429
    assert other.status == 200
    assert mapped.status == 200


async def test_declared_bots_get_a_polite_rate_on_public_pages(guarded: GuardedFactory) -> None:
    """A search bot (Googlebot from Google's published range) may crawl listings, at most 60
    a minute per IP."""
    app, _ = guarded()
    headers = {"user-agent": GOOGLEBOT, "accept": "text/html"}
    google = ("66.249.66.1", 1)
    statuses = [
        (await call_asgi(app, "/resumes", headers=headers, client=google)).status for _ in range(61)
    ]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
