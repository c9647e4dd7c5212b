"""The live policy's API at /guard/api/policy: token, reads, changes, bad changes, audit,
and a change made on one worker reaching another through Redis."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

import pytest

from guard.admin.sync import POLL_SECONDS
from guard.middleware import GuardMiddleware
from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.admin.workers import worker
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
TOKEN = "admin-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
PATH = "/guard/api/policy"
SCRIPT = {"user-agent": "python-requests/2.32.3"}


async def put(
    app: GuardMiddleware, change: object, **headers: str
) -> tuple[int, dict[str, object]]:
    """PUT ``change`` as JSON with the token; the status and the JSON answer."""
    reply = await call_asgi(
        app, PATH, method="PUT", headers={**AUTH, **headers}, body=json.dumps(change).encode()
    )
    return reply.status, json.loads(reply.text)


async def test_the_api_needs_the_token(guarded: GuardedFactory) -> None:
    """No token or a wrong one: 401 for GET and PUT, and nothing changes."""
    app, _ = guarded(admin_token=TOKEN)
    assert (await call_asgi(app, PATH)).status == 401
    wrong = {"authorization": "Bearer admin-token-0123456788"}
    reply = await call_asgi(app, PATH, method="PUT", headers=wrong, body=b'{"mode": "off"}')
    assert reply.status == 401
    assert app.guard.policy.mode == "enforce"


async def test_without_a_token_there_is_no_api(guarded: GuardedFactory) -> None:
    """With no admin_token configured the path is the app's (the demo's 404)."""
    app, _ = guarded()
    assert (await call_asgi(app, PATH, headers={**chrome_headers(), **AUTH})).status == 404


async def test_get_answers_the_live_policy(guarded: GuardedFactory) -> None:
    """GET answers mode, thresholds (with the gray action), weights and the version."""
    app, _ = guarded(admin_token=TOKEN, thresholds={"gray": 0.55, "block": 0.9})
    reply = await call_asgi(app, PATH, headers=AUTH)
    assert reply.status == 200
    assert json.loads(reply.text) == {
        "mode": "enforce",
        "thresholds": {"gray": 0.55, "block": 0.9, "gray_action": "challenge"},
        "weights": {},
        "shadow": [],
        "version": 0,
    }


async def test_a_change_reaches_the_verdicts_at_once(guarded: GuardedFactory) -> None:
    """A script on a record is blocked; after PUT mode=shadow it is served (logged only),
    and after a partial thresholds change the other fields stay as they were."""
    app, _ = guarded(admin_token=TOKEN)
    assert (await call_asgi(app, "/resume/100001", headers=SCRIPT)).status == 403
    status, answer = await put(app, {"mode": "shadow"})
    assert (status, answer["mode"], answer["version"]) == (200, "shadow", 1)
    assert (await call_asgi(app, "/resume/100002", headers=SCRIPT)).status == 200
    status, answer = await put(app, {"thresholds": {"gray": 0.4}, "weights": {"no_cookies": 0.2}})
    assert status == 200
    assert answer["thresholds"] == {"gray": 0.4, "block": 0.9, "gray_action": "challenge"}
    assert answer["mode"] == "shadow"
    assert app.guard.policy.weights == {"no_cookies": 0.2}
    _, answer = await put(app, {"weights": {"no_cookies": None}})
    assert answer["weights"] == {}


async def test_a_signal_can_be_tried_in_shadow_while_the_rest_enforce(
    guarded: GuardedFactory,
) -> None:
    """With the automation findings in shadow, a script reading a record is no longer blocked
    for naming its library; the decision log still names that finding, as shadowed."""
    app, log = guarded(admin_token=TOKEN)
    status, answer = await put(app, {"shadow": ["automation"]})
    assert (status, answer["shadow"]) == (200, ["automation"])
    reply = await call_asgi(app, "/resume/100001", headers=SCRIPT)
    assert reply.status != 403
    entry = json.loads(log.getvalue().splitlines()[-1])
    assert entry["shadowed"] == ["automation:python-requests"]
    assert not any(reason.startswith("automation") for reason in entry["reasons"])


async def test_mode_off_can_be_undone(guarded: GuardedFactory) -> None:
    """Turned off, the guard judges nothing but its API still answers, so it can be turned
    back on."""
    app, _ = guarded(admin_token=TOKEN)
    assert (await put(app, {"mode": "off"}))[0] == 200
    assert (await call_asgi(app, "/resume/100001", headers=SCRIPT)).status == 200
    assert (await put(app, {"mode": "enforce"}))[0] == 200
    assert (await call_asgi(app, "/resume/100002", headers=SCRIPT)).status == 403


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"thresholds": {"gray": 0.95, "block": 0.9}}, "must not exceed block"),
        ({"thresholds": {"gray": "high"}}, "thresholds.gray"),
        ({"thresholds": {"gray_action": "explode"}}, "gray_action"),
        ({"mode": "maybe"}, "mode"),
        ({"shadow": {"model": True}}, "shadow"),
        ({"shadow": ["no way"]}, "not a reason code"),
        ({"weights": {"no cookies!": 0.5}}, "not a reason code"),
        ({"weights": {"no_cookies": 3}}, "weights.no_cookies"),
        ({"threshold": {"gray": 0.5}}, "unknown field(s): threshold"),
        ([], "expected a JSON object"),
        ({}, "expected a JSON object"),
    ],
)
async def test_a_bad_change_is_refused_and_changes_nothing(
    guarded: GuardedFactory, change: object, reason: str
) -> None:
    """Each invalid change gets a 400 naming what is wrong; the policy stays as it was."""
    app, _ = guarded(admin_token=TOKEN)
    status, answer = await put(app, change)
    assert status == 400
    assert reason in str(answer["error"])
    reply = await call_asgi(app, PATH, headers=AUTH)
    assert json.loads(reply.text)["version"] == 0
    assert app.guard.policy.thresholds.gray == 0.6


async def test_bodies_and_methods_that_are_not_changes(guarded: GuardedFactory) -> None:
    """Not JSON: 400. Over 64 KiB: 413. DELETE: 405 with Allow."""
    app, _ = guarded(admin_token=TOKEN)
    bad = await call_asgi(app, PATH, method="PUT", headers=AUTH, body=b"{mode: off")
    assert (bad.status, json.loads(bad.text)["error"]) == (400, "the body is not JSON")
    big = await call_asgi(app, PATH, method="PUT", headers=AUTH, body=b" " * 70_000)
    assert big.status == 413
    gone = await call_asgi(app, PATH, method="DELETE", headers=AUTH)
    assert (gone.status, gone.header("allow")) == (405, "GET, HEAD, PUT")


async def test_every_change_is_audit_logged(
    guarded: GuardedFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The audit log names who changed what: the operator header and address, before and
    after."""
    app, _ = guarded(admin_token=TOKEN)
    with caplog.at_level(logging.INFO, logger="guard.audit"):
        await put(app, {"mode": "shadow"}, **{"x-guard-operator": "alice"})
    (entry,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "guard.audit"]
    assert entry["event"] == "policy_changed"
    assert entry["by"] == "alice (198.51.100.1)"
    assert (entry["before"]["mode"], entry["after"]["mode"]) == ("enforce", "shadow")


async def test_a_change_on_one_worker_reaches_another_through_redis(
    redis_url: str, clock: ManualClock
) -> None:
    """Two workers on one Redis: a PUT on the first is what a GET on the second answers,
    its next requests are judged by it within half a second, and a third worker started
    later takes it on its first request."""
    prefix = f"policy{secrets.token_hex(4)}"
    first, second = worker(redis_url, prefix, clock, TOKEN), worker(redis_url, prefix, clock, TOKEN)
    try:
        assert (await call_asgi(second, "/resume/100001", headers=SCRIPT)).status == 403
        assert (await put(first, {"mode": "shadow"}))[0] == 200
        seen = json.loads((await call_asgi(second, PATH, headers=AUTH)).text)
        assert (seen["mode"], seen["version"]) == ("shadow", 1)
        assert (await put(first, {"mode": "enforce", "thresholds": {"gray": 0.5}}))[0] == 200
        await asyncio.sleep(POLL_SECONDS)
        await call_asgi(second, "/jobs", headers=chrome_headers())  # starts the look
        for _ in range(100):
            if second.guard.policy.thresholds.gray == 0.5:
                break
            await asyncio.sleep(0.01)
        assert second.guard.policy.thresholds.gray == 0.5
        assert second.guard.sync.version == 2
        third = worker(redis_url, prefix, clock, TOKEN)
        await call_asgi(third, "/jobs", headers=chrome_headers())
        for _ in range(100):
            if third.guard.sync.version == 2:
                break
            await asyncio.sleep(0.01)
        assert third.guard.policy.thresholds.gray == 0.5
        await third.guard.aclose()
    finally:
        await first.guard.aclose()
        await second.guard.aclose()
