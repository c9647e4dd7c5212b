"""Redis outages: killed, restarted and paused mid-traffic. No 5xx, bounded waits, recovery."""

from __future__ import annotations

import time

import pytest

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.store import MemoryStore
from guard.store.redis import RedisStore
from guard.store.resilient import CircuitBreaker, ResilientStore
from guard.testing import ManualClock, Reply, call_asgi, chrome_headers
from guard.testing.redis import RedisServer
from tests.conftest import SECRET

pytestmark = pytest.mark.anyio
BOT = {"user-agent": "python-requests/2.32"}
TIMEOUT = 0.2  # short, yet well above a loopback round trip on a busy 2-core machine
SLOWEST = 1.0  # generous: a request must never wait much longer than the store's timeout


class Monotonic:
    """The breaker's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guarded(server: RedisServer, fallback: bool = True) -> tuple[GuardMiddleware, Monotonic]:
    """The demo behind a guard on ``server``: 5 records an hour per IP; block at score 0.9.

    (A quick reader of a few records without assets scores under 0.9, an automation client
    0.95.)
    """
    mono = Monotonic()
    store = ResilientStore(
        RedisStore.from_url(f"{server.url}?timeout={TIMEOUT}"),
        MemoryStore() if fallback else None,
        CircuitBreaker(threshold=3, cooldown=5.0),
        clock=mono,
    )
    config = demo_config(
        {
            "secret": SECRET,
            "fail_closed": not fallback,
            "model": "off",  # these tests count what the budget lets through
            "thresholds": {"gray": 0.9, "block": 0.9},
            # (the readers here read records no page showed them: discovery is off, so
            # that only the budget refuses them)
            "routes": {
                "sensitive": {"budgets": {"ip": ["5/hour"]}},
                "listings": {"shows_records": False},
            },
        }
    )
    return GuardMiddleware(create_demo_app(1000), config, store=store, clock=ManualClock()), mono


async def timed(app: GuardMiddleware, path: str, ip: str, headers: dict[str, str]) -> Reply:
    """One request; it must answer within SLOWEST seconds."""
    start = time.perf_counter()
    reply = await call_asgi(app, path, headers=headers, client=(ip, 1))
    assert time.perf_counter() - start < SLOWEST
    return reply


async def read_records(app: GuardMiddleware, ip: str, count: int, first: int) -> list[int]:
    return [
        (await timed(app, f"/resume/{first + n * 17}", ip, chrome_headers())).status
        for n in range(count)
    ]


async def test_killed_redis_fails_open_and_enforcement_resumes(private_redis: RedisServer) -> None:
    """Redis dies mid-traffic: no 5xx, bots still refused, per-process budgets hold; then
    Redis comes back and the shared budgets are enforced from it again."""
    app, mono = guarded(private_redis)
    assert await read_records(app, "192.0.2.1", 7, 100000) == [200] * 5 + [403] * 2
    assert int(private_redis.command("DBSIZE")) > 0

    private_redis.kill()
    during = await read_records(app, "192.0.2.2", 7, 100100)
    assert during == [200] * 5 + [403] * 2  # the local fallback keeps the budget
    assert (await timed(app, "/resume/100500", "192.0.2.3", BOT)).status == 403
    assert app.guard.store.breaker.open  # type: ignore[attr-defined]

    private_redis.start()
    mono.now += 5.0  # the cooldown passes; the next call probes Redis
    after = await read_records(app, "192.0.2.4", 7, 100200)
    assert after == [200] * 5 + [403] * 2
    assert not app.guard.store.breaker.open  # type: ignore[attr-defined]
    assert any("{ip:192.0.2.4}" in key for key in private_redis.command("--scan").split())
    await app.guard.aclose()


async def test_paused_redis_costs_at_most_the_timeout(private_redis: RedisServer) -> None:
    """While Redis is paused (CLIENT PAUSE) requests wait about the timeout, then are served."""
    app, _ = guarded(private_redis)
    assert (await timed(app, "/jobs", "192.0.2.9", chrome_headers())).status == 200
    private_redis.pause(1500)
    start = time.perf_counter()
    statuses = [
        (await timed(app, "/jobs", "192.0.2.9", chrome_headers())).status for _ in range(10)
    ]
    assert statuses == [200] * 10
    # Three timeouts open the breaker; after that the pause costs nothing.
    assert time.perf_counter() - start < 3 * 2 * TIMEOUT + SLOWEST
    await app.guard.aclose()


async def test_fail_closed_answers_503_while_redis_is_down(private_redis: RedisServer) -> None:
    """With fail_closed and no fallback, an outage refuses with 503 and Retry-After."""
    app, mono = guarded(private_redis, fallback=False)
    assert (await timed(app, "/jobs", "192.0.2.5", chrome_headers())).status == 200
    private_redis.kill()
    replies = [await timed(app, "/jobs", "192.0.2.5", chrome_headers()) for _ in range(5)]
    assert {reply.status for reply in replies} == {503}
    assert replies[-1].header("retry-after") == "5"
    private_redis.start()
    mono.now += 5.0
    assert (await timed(app, "/jobs", "192.0.2.5", chrome_headers())).status == 200
    await app.guard.aclose()
