"""Tarpit: gray-zone requests are delayed, then served; too many at once get a 429."""

from __future__ import annotations

import asyncio

import pytest

from guard import Action, GuardConfig, GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.testing import call_asgi
from guard.types import Receive, Scope, Send
from tests.conftest import SECRET

pytestmark = pytest.mark.anyio
GRAY = {"user-agent": "MyHarvester/1.0", "accept": "text/html"}  # "other" UA on a record: 0.5


def tarpit_config(**extra: object) -> GuardConfig:
    return demo_config(
        {
            "secret": SECRET,
            "tarpit_delay": 0.2,
            "thresholds": {"gray": 0.4, "gray_action": "tarpit"},
            **extra,
        }
    )


async def test_tarpitted_request_is_delayed_then_served() -> None:
    """A gray-zone client waits tarpit_delay and then gets the page."""
    seen: list[Scope] = []
    demo = create_demo_app(100)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await demo(scope, receive, send)

    guarded = GuardMiddleware(app, tarpit_config())
    loop = asyncio.get_running_loop()
    start = loop.time()
    reply = await call_asgi(guarded, "/resume/100001", headers=GRAY)
    assert reply.status == 200
    assert loop.time() - start >= 0.2
    assert seen[0]["guard"].action is Action.TARPIT


async def test_tarpit_is_bounded_and_overflow_is_throttled() -> None:
    """Past tarpit_max_concurrent waiting requests, the next ones get a 429 at once."""
    guarded = GuardMiddleware(create_demo_app(100), tarpit_config(tarpit_max_concurrent=2))
    replies = await asyncio.gather(
        *(
            call_asgi(guarded, "/resume/100001", headers=GRAY, client=(f"192.0.2.{n}", 1))
            for n in range(5)
        )
    )
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200, 200, 429, 429, 429]
    for reply in replies:
        if reply.status == 429:
            assert reply.header("retry-after") == "1"  # the tarpit's delay, rounded up
            assert reply.header("ratelimit") is None  # no rate limit was spent


async def test_shadow_mode_never_tarpits() -> None:
    """In shadow mode the tarpit verdict is only logged: no delay."""
    guarded = GuardMiddleware(create_demo_app(100), tarpit_config(mode="shadow", tarpit_delay=5))
    reply = await asyncio.wait_for(call_asgi(guarded, "/resume/100001", headers=GRAY), 2.0)
    assert reply.status == 200
