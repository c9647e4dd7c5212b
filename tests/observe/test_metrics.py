"""Prometheus metrics at /guard/metrics: token-guarded, decisions and challenge counts."""

from __future__ import annotations

import pytest

from guard.testing import call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
TOKEN = "metrics-token-0123456789"


async def test_metrics_need_the_admin_token(guarded: GuardedFactory) -> None:
    """Without the bearer token the endpoint answers 401; with it, Prometheus text."""
    app, _ = guarded(admin_token=TOKEN)
    assert (await call_asgi(app, "/guard/metrics")).status == 401
    wrong = {"authorization": "Bearer not-the-token-at-all"}
    assert (await call_asgi(app, "/guard/metrics", headers=wrong)).status == 401
    right = await call_asgi(app, "/guard/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status == 200
    assert "# TYPE guard_decisions_total counter" in right.text


async def test_decisions_and_challenges_are_counted(guarded: GuardedFactory) -> None:
    """Served, blocked and challenged requests and failed answers reach the counters."""
    app, _ = guarded(admin_token=TOKEN, model="off", thresholds={"gray": 0.35, "block": 0.9})
    await call_asgi(app, "/jobs", headers=chrome_headers())
    await call_asgi(app, "/resume/100001", headers={"user-agent": "python-requests/2.32"})
    copied = {**chrome_headers(), "sec-fetch-site": "same-origin"}
    await call_asgi(app, "/resume/100002", headers=copied, client=("203.0.113.5", 1))
    await call_asgi(app, "/guard/challenge/verify", method="POST", body=b"token=x&counter=1")
    text = (
        await call_asgi(app, "/guard/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    ).text
    assert 'guard_decisions_total{action="allow"} 1' in text
    assert 'guard_decisions_total{action="block"} 1' in text
    assert 'guard_decisions_total{action="challenge"} 1' in text
    assert 'guard_challenges_total{outcome="issued"} 1' in text
    assert 'guard_challenges_total{outcome="failed"} 1' in text


async def test_without_a_token_the_path_belongs_to_the_app(guarded: GuardedFactory) -> None:
    """With no admin_token configured, /guard/metrics is the app's (the demo's 404)."""
    app, _ = guarded()
    assert (await call_asgi(app, "/guard/metrics", headers=chrome_headers())).status == 404
