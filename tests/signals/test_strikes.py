"""Address strikes: an address whose client was blocked for its behaviour stays suspect."""

from __future__ import annotations

import pytest

from guard.signals.strikes import STRIKE_TTL, Strike
from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
REQUESTS = {"user-agent": "python-requests/2.32"}
ADDRESS = ("203.0.113.50", 1)


def test_strike_packs_to_eight_bytes() -> None:
    """A strike is its time, in eight bytes, and unpacks to itself."""
    strike = Strike(1_800_000_000.25)
    assert len(strike.pack()) == 8
    assert Strike.unpack(strike.pack()) == strike


async def test_a_blocked_client_marks_its_address_for_other_agents(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """After python-requests is blocked on a record, a browser from the same address carries
    the soft `flagged_address` finding (and is still served: it is one finding), until the
    strike expires; another address carries nothing."""
    app, log = guarded(model="off")
    blocked = await call_asgi(app, "/resume/100000", headers=REQUESTS, client=ADDRESS)
    assert blocked.status == 403
    same = await call_asgi(app, "/resume/100001", headers=chrome_headers(), client=ADDRESS)
    other = await call_asgi(
        app, "/resume/100002", headers=chrome_headers(), client=("198.51.100.7", 1)
    )
    assert (same.status, other.status) == (200, 200)
    lines = log.getvalue().splitlines()  # plain allows (no findings) are not logged
    assert len(lines) == 2
    assert '"flagged_address"' in lines[1]
    clock.advance(STRIKE_TTL + 1)
    later = await call_asgi(app, "/resume/100003", headers=chrome_headers(), client=ADDRESS)
    assert later.status == 200
    # (its second record nobody showed it is logged now, for that soft finding alone)
    assert all('"flagged_address"' not in line for line in log.getvalue().splitlines()[2:])


async def test_budget_refusals_do_not_strike(guarded: GuardedFactory) -> None:
    """A client refused by a harvest budget (not by its own score) leaves no strike."""
    app, log = guarded(model="off", routes={"sensitive": {"budgets": {"ip": ["1/hour"]}}})
    headers = chrome_headers()
    await call_asgi(app, "/resume/100000", headers=headers, client=ADDRESS)
    refused = await call_asgi(app, "/resume/100001", headers=headers, client=ADDRESS)
    assert refused.status == 403
    other_agent = {**headers, "user-agent": headers["user-agent"].replace("131", "130")}
    await call_asgi(app, "/resume/100000", headers=other_agent, client=ADDRESS)
    assert "flagged_address" not in log.getvalue()
