"""How addresses are shown in the decision log and on the dashboard (guard.observe.addresses)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.observe.addresses import address_shower, truncate_address
from guard.testing import call_asgi
from tests.conftest import SECRET

BOT = {"user-agent": "python-requests/2.32"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("203.0.113.8", "203.0.113.0/24"),
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("2001:db8:aaaa:bbbb::7", "2001:db8:aaaa::/48"),
        ("2001:db8:aaaa:bbbb::/64", "2001:db8:aaaa::/48"),
        ("unknown", "unknown"),
    ],
)
def test_truncation_keeps_the_first_24_or_48_bits(text: str, shown: str) -> None:
    """Addresses and networks are cut to a /24 (IPv4) or /48 (IPv6); other text is kept."""
    assert truncate_address(text) == shown


def test_each_mode_shows_addresses_as_it_says() -> None:
    """full shows the address, truncated its network, hashed a keyed hash that depends on
    the secret and stays the same for one address."""
    assert address_shower("full", b"k" * 32)("203.0.113.8") == "203.0.113.8"
    assert address_shower("truncated", b"k" * 32)("203.0.113.8") == "203.0.113.0/24"
    hashed = address_shower("hashed", b"k" * 32)
    assert hashed("203.0.113.8") == hashed("203.0.113.8") != "203.0.113.8"
    assert address_shower("hashed", b"j" * 32)("203.0.113.8") != hashed("203.0.113.8")


@pytest.mark.anyio
async def test_log_addresses_truncated_reaches_the_decision_log(tmp_path: Path) -> None:
    """log_addresses = "truncated" writes the client's /24 for both address and network,
    and the full address appears nowhere in the line."""
    log = tmp_path / "decisions.jsonl"
    config = demo_config({"secret": SECRET, "log_addresses": "truncated", "decision_log": str(log)})
    app = GuardMiddleware(create_demo_app(100), config)
    await call_asgi(app, "/resume/100007", headers=BOT, client=("203.0.113.8", 1))
    await app.guard.aclose()
    (line,) = [json.loads(text) for text in log.read_text().splitlines()]
    assert line["ip"] == line["network"] == "203.0.113.0/24"
    assert "203.0.113.8" not in log.read_text()
