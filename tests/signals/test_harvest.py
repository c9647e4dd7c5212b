"""Harvest budgets through the middleware: distinct served records per actor and window."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.responses import PlainTextResponse

from guard import GuardMiddleware
from guard.demo.config import demo_config
from guard.testing import ManualClock, call_asgi, chrome_headers
from guard.types import Receive, Scope, Send
from tests.conftest import SECRET, GuardedFactory, expose

pytestmark = pytest.mark.anyio
NO_SCORE = {"gray": 1.0, "block": 1.0}  # isolate the budget: scores alone never refuse


def budget(ip: str) -> dict[str, object]:
    return {
        "model": "off",  # these tests are about budgets, not scores
        "thresholds": NO_SCORE,
        "routes": {"sensitive": {"budgets": {"ip": [ip], "network": ["1000/hour"]}}},
    }


async def test_budget_counts_distinct_served_records(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Five records an hour: the sixth distinct record is refused, re-reads count once."""
    app, log = guarded(**budget("5/hour"))
    await expose(app, range(100001, 100007))
    for record in (100001, 100002, 100001, 100003, 100004, 100005):
        clock.advance(10)
        assert (await call_asgi(app, f"/resume/{record}", headers=chrome_headers())).status == 200
    clock.advance(10)
    refused = await call_asgi(app, "/resume/100006", headers=chrome_headers())
    assert refused.status == 403
    line = json.loads(log.getvalue().splitlines()[-1])
    assert line["reasons"][0] == "harvest_budget:ip:hour"


async def test_missing_records_do_not_spend_the_budget(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """404s are not records served: only 2xx responses count."""
    app, _ = guarded(resumes=100, **budget("3/hour"))
    await expose(app, [999001, 999002, 999003, 999004, 100001, 100002, 100003])
    for record in (999001, 999002, 999003, 999004):
        clock.advance(10)
        assert (await call_asgi(app, f"/resume/{record}", headers=chrome_headers())).status == 404
    for record in (100001, 100002, 100003):
        clock.advance(10)
        assert (await call_asgi(app, f"/resume/{record}", headers=chrome_headers())).status == 200


async def test_budget_window_slides(guarded: GuardedFactory, clock: ManualClock) -> None:
    """An hour later the budget is available again."""
    app, _ = guarded(**budget("2/hour"))
    for record in (100001, 100002):
        clock.advance(1)
        await call_asgi(app, f"/resume/{record}", headers=chrome_headers())
    assert (await call_asgi(app, "/resume/100003", headers=chrome_headers())).status == 403
    clock.advance(3600)
    assert (await call_asgi(app, "/resume/100003", headers=chrome_headers())).status == 200


async def test_json_api_records_share_the_budget(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """HTML and JSON routes to the same records draw on one budget."""
    app, _ = guarded(**budget("2/hour"))
    await call_asgi(app, "/resume/100001", headers=chrome_headers())
    clock.advance(5)
    api = {**chrome_headers(), "accept": "application/json"}
    assert (await call_asgi(app, "/api/resumes/100002", headers=api)).status == 200
    clock.advance(5)
    refused = await call_asgi(app, "/api/resumes/100003", headers=api)
    assert refused.status == 403
    assert json.loads(refused.body)["reason"] == "harvest_budget"


async def slow_record_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A record page that takes a moment, so concurrent requests overlap."""
    await asyncio.sleep(0.01)
    await PlainTextResponse('<span class="phone">1</span>')(scope, receive, send)


async def test_concurrent_requests_cannot_overshoot_the_budget(clock: ManualClock) -> None:
    """Fifty records requested at once against a budget of ten: exactly ten are served."""
    config = demo_config({"secret": SECRET, **budget("10/hour")})
    app = GuardMiddleware(slow_record_app, config, clock=clock)
    replies = await asyncio.gather(
        *(call_asgi(app, f"/resume/{100100 + n * 7}", headers=chrome_headers()) for n in range(50))
    )
    statuses = [reply.status for reply in replies]
    assert statuses.count(200) == 10
    assert statuses.count(403) == 40


async def test_a_failed_response_releases_its_reservation(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Refused and missing records leave no reservation behind to shrink the budget."""
    app, _ = guarded(resumes=100, **budget("2/hour"))
    await expose(app, [*range(999000, 999020), 100001, 100050])
    await asyncio.gather(
        *(call_asgi(app, f"/resume/{999000 + n}", headers=chrome_headers()) for n in range(20))
    )
    clock.advance(5)
    first = await call_asgi(app, "/resume/100001", headers=chrome_headers())
    second = await call_asgi(app, "/resume/100050", headers=chrome_headers())
    assert (first.status, second.status) == (200, 200)
