"""The newcomer surge: record reads by clients without the guard's cookie, counted together.

The model is off in these tests: they are about the rule.
"""

from __future__ import annotations

import json

import pytest

from guard.signals.newcomer import SURGE_HOLD
from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
SURGE = {"model": "off", "routes": {"sensitive": {"rates": {"newcomer": "3/minute"}}}}


def reasons_of(log: object) -> list[list[str]]:
    """The reasons of every logged decision."""
    return [json.loads(line)["reasons"] for line in log.getvalue().splitlines()]  # type: ignore[attr-defined]


async def test_newcomers_reading_records_in_a_surge_are_challenged(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Past the newcomer rate, a new client asking for a record gets the challenge page, and
    the surge holds after the rate refills (a minute later) until SURGE_HOLD after it was
    last exceeded; then new clients are served again."""
    app, log = guarded(**SURGE)
    for n in range(3):
        reply = await call_asgi(
            app, f"/resume/{100000 + n}", headers=chrome_headers(), client=(f"203.0.113.{n}", 1)
        )
        assert reply.status == 200
    fourth = await call_asgi(
        app, "/resume/100010", headers=chrome_headers(), client=("203.0.113.9", 1)
    )
    assert fourth.status == 429
    assert "crypto.subtle" in fourth.text
    assert reasons_of(log)[-1] == ["newcomer_surge"]
    clock.advance(60)
    held = await call_asgi(
        app, "/resume/100011", headers=chrome_headers(), client=("203.0.113.20", 1)
    )
    assert held.status == 429
    clock.advance(SURGE_HOLD)
    later = await call_asgi(
        app, "/resume/100012", headers=chrome_headers(), client=("203.0.113.21", 1)
    )
    assert later.status == 200


async def test_clients_with_the_guard_cookie_are_not_newcomers(guarded: GuardedFactory) -> None:
    """A client that kept the guard's cookie (from a listing page) reads records during a
    surge of newcomers without meeting the challenge."""
    app, log = guarded(**SURGE)
    home = ("203.0.113.9", 1)
    listing = await call_asgi(app, "/resumes", headers=chrome_headers(), client=home)
    cookie = (listing.header("set-cookie") or "").partition(";")[0]
    for n in range(4):
        await call_asgi(
            app, f"/resume/{100000 + n}", headers=chrome_headers(), client=(f"203.0.113.{n}", 1)
        )
    logged = len(reasons_of(log))
    kept = await call_asgi(
        app,
        "/resume/100011",
        headers={**chrome_headers(referer="http://testserver/resumes"), "cookie": cookie},
        client=home,
    )
    assert kept.status == 200
    assert all("newcomer_surge" not in reasons for reasons in reasons_of(log)[logged:])


async def test_no_newcomer_counting_in_shadow_mode(guarded: GuardedFactory) -> None:
    """In shadow mode the guard sets no cookie, so nobody counts as a newcomer."""
    app, log = guarded(mode="shadow", model="off", routes=SURGE["routes"])
    for n in range(5):
        await call_asgi(app, f"/resume/{100000 + n}", headers=chrome_headers())
    assert all("newcomer_surge" not in reasons for reasons in reasons_of(log))
