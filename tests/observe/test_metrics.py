"""Prometheus metrics at /guard/metrics: token-guarded; decisions, scores, latency, the
store, challenges and policy changes; no client-chosen label values; every worker's counts
in multiprocess mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guard.testing import call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
TOKEN = "metrics-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}


async def scrape(app: object) -> str:
    """The metrics text."""
    reply = await call_asgi(app, "/guard/metrics", headers=AUTH)  # type: ignore[arg-type]
    assert reply.status == 200
    assert (
        reply.header(
            "content-type",
        )
        == "text/plain; version=0.0.4; charset=utf-8"
    )
    return reply.text


async def test_metrics_need_the_admin_token(guarded: GuardedFactory) -> None:
    """Without the bearer token the endpoint answers 401; with it, Prometheus text."""
    app, _ = guarded(admin_token=TOKEN)
    assert (await call_asgi(app, "/guard/metrics")).status == 401
    wrong = {"authorization": "Bearer not-the-token-at-all"}
    assert (await call_asgi(app, "/guard/metrics", headers=wrong)).status == 401
    assert "# TYPE guard_decisions_total counter" in await scrape(app)


async def test_decisions_scores_latency_and_challenges_are_counted(
    guarded: GuardedFactory,
) -> None:
    """Served, blocked and challenged requests reach the counters by action and reason
    family, with their scores and the guard's own time; challenge outcomes are counted."""
    app, _ = guarded(admin_token=TOKEN, model="off", thresholds={"gray": 0.35, "block": 0.9})
    await call_asgi(app, "/jobs", headers=chrome_headers())
    await call_asgi(app, "/resume/100001", headers={"user-agent": "python-requests/2.32"})
    copied = {**chrome_headers(), "sec-fetch-site": "same-origin"}
    await call_asgi(app, "/resume/100002", headers=copied, client=("203.0.113.5", 1))
    await call_asgi(app, "/guard/challenge/verify", method="POST", body=b"token=x&counter=1")
    text = await scrape(app)
    assert 'guard_decisions_total{action="allow",reason="none"} 1.0' in text
    assert 'guard_decisions_total{action="block",reason="automation"} 1.0' in text
    assert 'guard_decisions_total{action="challenge",reason="navigation_without_referer"}' in text
    assert 'guard_challenges_total{outcome="issued"} 1.0' in text
    assert 'guard_challenges_total{outcome="failed"} 1.0' in text
    assert "guard_score_count 3.0" in text
    assert "guard_decision_seconds_count 3.0" in text
    assert "guard_store_seconds_count 3.0" in text
    assert "python-requests" not in text
    assert "203.0.113.5" not in text


async def test_policy_changes_and_shadow_decisions_are_counted(guarded: GuardedFactory) -> None:
    """A change through the API counts as an ``api`` policy change, and decisions made in
    shadow mode carry the ``_shadow`` suffix."""
    app, _ = guarded(admin_token=TOKEN)
    body = json.dumps({"mode": "shadow"}).encode()
    assert (
        await call_asgi(app, "/guard/api/policy", method="PUT", headers=AUTH, body=body)
    ).status == 200
    await call_asgi(app, "/resume/100001", headers={"user-agent": "python-requests/2.32"})
    text = await scrape(app)
    assert 'guard_policy_changes_total{origin="api"} 1.0' in text
    assert 'guard_decisions_total{action="block_shadow",reason="automation"} 1.0' in text


async def test_a_store_outage_is_counted(guarded: GuardedFactory) -> None:
    """With Redis unreachable (fail-open), requests are judged on the local store: counted
    as fallbacks, and the circuit gauge goes to 1 once the breaker opens."""
    app, _ = guarded(admin_token=TOKEN, store="redis://127.0.0.1:1?timeout=0.2")
    for n in range(4):
        await call_asgi(app, "/jobs", headers=chrome_headers(), client=(f"198.51.100.{n}", 1))
    text = await scrape(app)
    assert 'guard_store_errors_total{outcome="fallback"} 4.0' in text
    assert "guard_store_circuit_open 1.0" in text
    await app.guard.aclose()


async def test_without_a_token_the_path_belongs_to_the_app(guarded: GuardedFactory) -> None:
    """With no admin_token configured, /guard/metrics is the app's (the demo's 404)."""
    app, _ = guarded()
    assert (await call_asgi(app, "/guard/metrics", headers=chrome_headers())).status == 404


WORKER = """
import asyncio, sys
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import call_asgi, chrome_headers

async def main() -> None:
    config = demo_config({"secret": "s" * 24, "admin_token": "TOKEN"})
    app = GuardMiddleware(create_demo_app(100), config)
    for n in range(int(sys.argv[1])):
        await call_asgi(app, "/jobs", headers=chrome_headers(), client=(f"198.51.100.{n}", 1))
    if sys.argv[2] == "scrape":
        reply = await call_asgi(app, "/guard/metrics", headers={"authorization": "Bearer TOKEN"})
        print(reply.text)

asyncio.run(main())
""".replace("TOKEN", TOKEN)


def test_every_worker_is_counted_in_multiprocess_mode(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR set, a scrape of one worker reports the decisions of
    all: two workers judged 3 and 4 requests, the third is scraped after its own 2."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for count in ("3", "4"):
        subprocess.run([sys.executable, "-c", WORKER, count, "quiet"], env=env, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", WORKER, "2", "scrape"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert 'guard_decisions_total{action="allow",reason="none"} 9.0' in scraped
    assert "guard_decision_seconds_count 9.0" in scraped
