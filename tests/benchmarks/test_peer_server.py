"""benchmarks/peer_server.py: each peer, set up as its documentation shows on a real Redis,
refuses past its limit per client (so the peers benchmark measures live limiters)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from guard.demo.app import create_demo_app
from guard.testing import call_asgi, chrome_headers

pytestmark = pytest.mark.anyio
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
peer_server: Any = pytest.importorskip("peer_server")


@pytest.mark.parametrize("peer", ["slowapi", "limits"])
async def test_each_peer_refuses_past_its_limit_per_client(redis_url: str, peer: str) -> None:
    """Three requests a minute per X-Forwarded-For client: the fourth is a 429, and another
    client is still served."""
    limit = "3/minute"
    if peer == "slowapi":
        app = peer_server.slowapi_app(redis_url, limit, 100)
    else:
        app = peer_server.LimitsMiddleware(create_demo_app(100), redis_url, limit)
    client = f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    statuses = [
        (
            await call_asgi(app, "/jobs", headers={**chrome_headers(), "x-forwarded-for": client})
        ).status
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other = {**chrome_headers(), "x-forwarded-for": f"203.0.113.{secrets.randbelow(250) + 1}"}
    assert (await call_asgi(app, "/jobs", headers=other)).status == 200
    if peer == "limits":
        await app.aclose()
