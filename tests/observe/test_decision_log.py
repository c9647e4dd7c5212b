"""The decision log: what is written, IP hashing, sampling, flushing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.observe.decision_log import DecisionLog
from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.conftest import SECRET

pytestmark = pytest.mark.anyio
BOT = {"user-agent": "python-requests/2.32"}


async def test_refusals_are_logged_with_reasons_and_actors() -> None:
    """A refusal becomes one JSON line naming the action, reasons, route and actors."""
    stream = io.StringIO()
    app = GuardMiddleware(
        create_demo_app(100),
        demo_config({"secret": SECRET, "model": "off"}),
        decision_log=DecisionLog(stream),
    )
    await call_asgi(app, "/resume/100007", headers=BOT, client=("203.0.113.8", 1))
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["action"] == "block"
    assert line["status"] == 403
    assert line["reasons"] == ["automation:python-requests"]
    assert line["route"] == "/resume/{id}"
    assert line["ip"] == "203.0.113.8"
    assert line["network"] == "203.0.113.0/24"
    assert line["enforced"] is True


async def test_ips_can_be_hashed() -> None:
    """With hash_ips_in_log the address and network are keyed hashes, stable per client."""
    stream = io.StringIO()
    app = GuardMiddleware(
        create_demo_app(100),
        demo_config({"secret": SECRET}),
        decision_log=DecisionLog(stream, hash_ips=True, secret=b"k" * 32),
    )
    for _ in range(2):
        await call_asgi(app, "/resume/100007", headers=BOT, client=("203.0.113.8", 1))
    first, second = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert "203.0.113" not in stream.getvalue()
    assert first["ip"] == second["ip"]
    assert len(first["ip"]) == 16


async def test_plain_allows_are_sampled() -> None:
    """Allows with no findings are logged at the sample rate: none at 0, all at 1."""
    for sample, expected in ((0.0, 0), (1.0, 20)):
        stream = io.StringIO()
        clock = ManualClock()
        app = GuardMiddleware(
            create_demo_app(100),
            demo_config({"secret": SECRET}),
            decision_log=DecisionLog(stream, allow_sample=sample),
            clock=clock,
        )
        for n in range(20):
            clock.advance(30)
            await call_asgi(app, "/jobs", headers=chrome_headers(), client=(f"198.51.100.{n}", 1))
        assert len(stream.getvalue().splitlines()) == expected


async def test_config_path_writes_a_file(tmp_path: Path) -> None:
    """decision_log in the config appends to that file; aclose flushes and closes it."""
    path = tmp_path / "decisions.jsonl"
    config = demo_config({"secret": SECRET, "decision_log": str(path)})
    app = GuardMiddleware(create_demo_app(100), config)
    await call_asgi(app, "/resume/100001", headers=BOT)
    await app.guard.aclose()
    assert json.loads(path.read_text().splitlines()[0])["action"] == "block"
