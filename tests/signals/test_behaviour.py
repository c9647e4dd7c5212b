"""Behaviour signals through the middleware: honeypot, robots.txt, cookies, pace."""

from __future__ import annotations

import json
import random
import re

import pytest

from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio


def reasons(log: object) -> list[list[str]]:
    lines = log.getvalue().splitlines()  # type: ignore[attr-defined]
    return [json.loads(line)["reasons"] for line in lines]


async def test_honeypot_hit_blocks_the_client(guarded: GuardedFactory, clock: ManualClock) -> None:
    """Following the invisible link gets the client blocked on its next requests."""
    app, log = guarded(model="off")
    assert (await call_asgi(app, "/resumes", headers=chrome_headers())).status == 200
    clock.advance(2)
    await call_asgi(app, "/resumes/all", headers=chrome_headers())
    clock.advance(2)
    reply = await call_asgi(app, "/resume/100001", headers=chrome_headers())
    assert reply.status == 403
    assert reasons(log)[-1][0] == "honeypot"


async def test_reading_robots_then_ignoring_it_is_refused(guarded: GuardedFactory) -> None:
    """A client that fetched robots.txt and then reads a disallowed record is refused."""
    app, log = guarded(model="off")
    assert (await call_asgi(app, "/robots.txt", headers=chrome_headers())).status == 200
    assert (await call_asgi(app, "/resumes", headers=chrome_headers())).status == 200
    reply = await call_asgi(app, "/resume/100001", headers=chrome_headers())
    assert reply.status == 429
    assert "robots_ignored" in reasons(log)[-1]


async def test_cookie_is_issued_and_a_client_that_drops_it_is_noticed(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Pages set a signed guard cookie; five pages without returning it is a finding."""
    app, log = guarded(model="off")
    first = await call_asgi(app, "/", headers=chrome_headers())
    assert (first.header("set-cookie") or "").startswith("__guard=")
    for path in ("/jobs", "/resumes", "/search?q=a", "/resumes?page=2"):
        clock.advance(5)
        await call_asgi(app, path, headers=chrome_headers())
    assert "no_cookies" in reasons(log)[-1]


async def test_returned_cookie_is_not_reissued(guarded: GuardedFactory) -> None:
    """A client that keeps the cookie gets no new one."""
    app, _ = guarded(model="off")
    first = await call_asgi(app, "/", headers=chrome_headers())
    cookie = (first.header("set-cookie") or "").partition(";")[0]
    second = await call_asgi(app, "/jobs", headers={**chrome_headers(), "cookie": cookie})
    assert second.header("set-cookie") is None


async def test_one_odd_habit_alone_refuses_no_one(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A person with cached assets (no static loads) keeps reading the records a listing
    showed them: one soft finding only."""
    app, log = guarded(model="off")
    listing = await call_asgi(app, "/resumes?page=3", headers=chrome_headers())
    cookie = (listing.header("set-cookie") or "").partition(";")[0]
    links = re.findall(r'href="(/resume/\d+)"', listing.text)
    for n, link in enumerate(random.Random(3).sample(links, 8)):
        clock.advance(8 + n)
        reply = await call_asgi(app, link, headers={**chrome_headers(), "cookie": cookie})
        assert reply.status == 200
    assert reasons(log)[-1] == ["no_static_assets"]
