"""The newcomer surge: record reads by clients without the guard's cookie, counted together.

The model is off in these tests: they are about the rule.
"""

from __future__ import annotations

import pytest

from guard.testing import call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio


def reasons_of(log: object) -> list[list[str]]:
    """The reasons of every logged decision."""
    import json  # noqa: PLC0415

    return [json.loads(line)["reasons"] for line in log.getvalue().splitlines()]  # type: ignore[attr-defined]


async def test_a_surge_of_newcomers_is_evidence_not_a_refusal(guarded: GuardedFactory) -> None:
    """Past the newcomer rate, a new client reading a record gets a soft finding and is still
    served when nothing else is off; a client returning the guard's cookie is not counted."""
    app, log = guarded(model="off", routes={"sensitive": {"rates": {"newcomer": "3/minute"}}})
    for n in range(3):
        reply = await call_asgi(
            app, f"/resume/{100000 + n}", headers=chrome_headers(), client=(f"203.0.113.{n}", 1)
        )
        assert reply.status == 200
    fourth = await call_asgi(
        app, "/resume/100010", headers=chrome_headers(), client=("203.0.113.9", 1)
    )
    assert fourth.status == 200
    assert reasons_of(log)[-1] == ["newcomer_surge"]
    cookie = (fourth.header("set-cookie") or "").partition(";")[0]
    logged = len(reasons_of(log))
    kept = await call_asgi(
        app,
        "/resume/100011",
        headers={**chrome_headers(), "cookie": cookie},
        client=("203.0.113.9", 1),
    )
    assert kept.status == 200
    assert all("newcomer_surge" not in reasons for reasons in reasons_of(log)[logged:])


async def test_newcomer_surge_with_other_evidence_refuses(guarded: GuardedFactory) -> None:
    """During a surge, a newcomer whose headers claim a click but carry no Referer is refused
    (0.45 and 0.4 together pass the gray threshold); without the surge it is served."""
    app, _ = guarded(model="off", routes={"sensitive": {"rates": {"newcomer": "2/minute"}}})
    copied = {**chrome_headers(), "sec-fetch-site": "same-origin"}
    first = await call_asgi(app, "/resume/100000", headers=copied, client=("203.0.113.1", 1))
    assert first.status == 200
    await call_asgi(app, "/resume/100001", headers=chrome_headers(), client=("203.0.113.2", 1))
    late = await call_asgi(app, "/resume/100002", headers=copied, client=("203.0.113.3", 1))
    assert late.status == 429


async def test_no_newcomer_counting_in_shadow_mode(guarded: GuardedFactory) -> None:
    """In shadow mode the guard sets no cookie, so nobody counts as a newcomer."""
    app, log = guarded(
        mode="shadow", model="off", routes={"sensitive": {"rates": {"newcomer": "1/minute"}}}
    )
    for n in range(3):
        await call_asgi(app, f"/resume/{100000 + n}", headers=chrome_headers())
    assert all("newcomer_surge" not in reasons for reasons in reasons_of(log))
