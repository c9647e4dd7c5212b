"""benchmarks/bench.toml still loads over the demo's config, and the overhead benchmark's
traffic still meets no refusal under it (the benchmark measures checks, not refusals)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import ManualClock, call_asgi

pytestmark = pytest.mark.anyio
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench.toml"
CHROME = {
    "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Windows"',
    "upgrade-insecure-requests": "1",
    "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "sec-fetch-site": "same-origin",
    "sec-fetch-mode": "navigate",
    "sec-fetch-user": "?1",
    "sec-fetch-dest": "document",
    "referer": "https://testserver/resumes",
    "accept-encoding": "gzip, deflate, br, zstd",
    "accept-language": "en-US,en;q=0.9",
    "priority": "u=0, i",
    "x-forwarded-proto": "https",
}


async def test_the_benchmark_traffic_is_never_refused(clock: ManualClock) -> None:
    """1,500 reads of random records by 300 clients behind the trusted proxy, as
    wrk_resumes.lua sends them, a few milliseconds apart: all served."""
    config = demo_config(path=BENCH, env={})
    app = GuardMiddleware(create_demo_app(10_000), config, clock=clock)
    rng = random.Random(20241122)
    statuses = set()
    for _ in range(1500):
        client = f"198.18.{rng.randrange(256)}.{rng.randrange(1, 3)}"
        headers = {**CHROME, "x-forwarded-for": client}
        reply = await call_asgi(app, f"/resume/{100000 + rng.randrange(10_000)}", headers=headers,
                                client=("127.0.0.1", 40000))  # fmt: skip
        statuses.add(reply.status)
        clock.advance(0.004)
    assert statuses == {200}
