"""benchmarks/adversarial.py's inputs: every case is a request the guard answers without a
5xx (the timing is the benchmark's; this checks the inputs and the answers, not speed)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from guard.demo.config import demo_config
from guard.facts.agent import MAX_AGENT_LENGTH
from guard.middleware import GuardMiddleware
from guard.types import Message

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from adversarial import cases
from hot_path import CONFIG, instant_app, receive


def test_every_adversarial_case_is_answered_without_an_error() -> None:
    """Each case's first requests go through the guard (every check on) and are answered
    2xx-4xx, with their input as big as the case says."""
    app = GuardMiddleware(instant_app, demo_config({"store": "memory://"}, path=CONFIG))
    statuses: dict[str, list[int]] = {}

    async def run() -> None:
        for name, build in cases(MAX_AGENT_LENGTH).items():
            for n in range(3):

                async def send(message: Message, name: str = name) -> None:
                    if message["type"] == "http.response.start":
                        statuses.setdefault(name, []).append(message["status"])

                await app(build(n), receive, send)
        await app.guard.aclose()

    asyncio.run(run())
    assert len(statuses) == len(cases(MAX_AGENT_LENGTH)) > 30
    assert all(200 <= s < 500 for found in statuses.values() for s in found), statuses
