"""Erasure at /guard/api/forget and `guard forget`: one person's state goes, on every worker,
and nothing else does."""

from __future__ import annotations

import json
import logging
import secrets

import pytest

from guard.admin.erasure import Person
from guard.cli import main
from guard.middleware import GuardMiddleware
from guard.store.base import actor_keys
from guard.testing import ManualClock, call_asgi, chrome_headers, live_server
from tests.admin.workers import worker
from tests.conftest import GuardedFactory, expose

pytestmark = pytest.mark.anyio
TOKEN = "admin-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
PATH = "/guard/api/forget"
PERSON, NEIGHBOUR = "203.0.113.8", "203.0.113.9"
READER = chrome_headers(referer="http://testserver/resumes")
RECORDS = range(100000, 100040)


async def forget(app: GuardMiddleware, person: object) -> tuple[int, dict[str, object]]:
    """POST ``person`` as JSON with the token; the status and the JSON answer."""
    body = json.dumps(person).encode()
    reply = await call_asgi(app, PATH, method="POST", headers=AUTH, body=body)
    return reply.status, json.loads(reply.text)


async def read_until_refused(app: GuardMiddleware, ip: str) -> int:
    """Read records (all shown lately) as ``ip`` until one is refused; the status then."""
    for record in RECORDS:
        reply = await call_asgi(app, f"/resume/{record}", headers=READER, client=(ip, 1))
        if reply.status != 200:
            return reply.status
    return 200


async def test_the_endpoint_needs_the_token_and_a_post(guarded: GuardedFactory) -> None:
    """No token: 401; the token with GET: 405; no admin token configured: the app's path."""
    app, _ = guarded(admin_token=TOKEN)
    body = json.dumps({"ip": PERSON}).encode()
    assert (await call_asgi(app, PATH, method="POST", body=body)).status == 401
    assert (await call_asgi(app, PATH, headers=AUTH)).status == 405
    plain, _ = guarded()
    assert (await call_asgi(plain, PATH, headers={**chrome_headers(), **AUTH})).status == 404


@pytest.mark.parametrize(
    "document",
    [
        [],
        {},
        {"ip": "not-an-address"},
        {"user_agents": ["Mozilla/5.0"]},
        {"ip": PERSON, "user_agents": "Mozilla/5.0"},
        {"identity": ""},
        {"ip": PERSON, "email": "someone@example.com"},
    ],
)
def test_a_person_must_be_named_plainly(document: object) -> None:
    """Anything but an address, user agents with it, and/or an identity is refused."""
    with pytest.raises(ValueError, match=r"expected|not an address|together|nothing"):
        Person.from_json(document)


async def test_bad_requests_change_nothing(guarded: GuardedFactory) -> None:
    """A body that is not JSON, or names nobody, gets a 400 with the reason."""
    app, _ = guarded(admin_token=TOKEN)
    reply = await call_asgi(app, PATH, method="POST", headers=AUTH, body=b"{")
    assert reply.status == 400
    status, answer = await forget(app, {"ip": "bogus"})
    assert status == 400
    assert "not an address" in str(answer["error"])


async def test_a_forgotten_reader_starts_afresh_and_others_do_not(
    guarded: GuardedFactory, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader refused for reading too fast is served again once forgotten (its address,
    profile and dashboard entries gone); a neighbour refused alike stays refused. The
    erasure is audit-logged without the address."""
    app, _ = guarded(admin_token=TOKEN)
    await expose(app, RECORDS)
    assert await read_until_refused(app, PERSON) == 429
    assert await read_until_refused(app, NEIGHBOUR) == 429
    assert any(PERSON in str(row["client"]) for row in app.guard.activity.recent)
    with caplog.at_level(logging.INFO, logger="guard.audit"):
        status, answer = await forget(app, {"ip": PERSON, "user_agents": [READER["user-agent"]]})
    assert status == 200
    deleted = answer["deleted"]
    assert isinstance(deleted, dict)
    assert deleted["ip"] > 0
    assert deleted["client"] > 0
    assert deleted["dashboard"] > 0
    assert not any(PERSON in str(row["client"]) for row in app.guard.activity.recent)
    assert "erasure by" in caplog.text
    assert PERSON not in caplog.text
    again = await call_asgi(app, f"/resume/{RECORDS[0]}", headers=READER, client=(PERSON, 1))
    assert again.status == 200
    still = await call_asgi(app, f"/resume/{RECORDS[0]}", headers=READER, client=(NEIGHBOUR, 1))
    assert still.status == 429


async def test_an_identity_is_forgotten_by_its_raw_value(guarded: GuardedFactory) -> None:
    """The session id a client sent names its identity's keys (kept as a keyed hash)."""
    app, _ = guarded(admin_token=TOKEN)
    await expose(app, RECORDS)
    cookie = {**READER, "cookie": "session=abc123-session"}
    for record in RECORDS[:3]:
        await call_asgi(app, f"/resume/{record}", headers=cookie, client=(PERSON, 1))
    status, answer = await forget(app, {"identity": "abc123-session"})
    assert status == 200
    deleted = answer["deleted"]
    assert isinstance(deleted, dict)
    assert deleted["identity"] > 0
    assert (await forget(app, {"identity": "abc123-session"}))[1]["deleted"] == {
        "ip": 0,
        "client": 0,
        "identity": 0,
    }


async def test_one_worker_forgets_for_all_through_redis(redis_url: str) -> None:
    """On Redis, an erasure asked of one worker deletes the state every worker reads."""
    prefix = f"erasure-{secrets.token_hex(4)}"
    clock = ManualClock()
    first = worker(redis_url, prefix, clock, TOKEN)
    second = worker(redis_url, prefix, clock, TOKEN)
    try:
        await expose(first, RECORDS)
        assert await read_until_refused(first, PERSON) == 429
        status, answer = await forget(second, {"ip": PERSON})
        assert status == 200
        deleted = answer["deleted"]
        assert isinstance(deleted, dict)
        assert deleted["ip"] > 0
        keys = actor_keys(prefix, "ip", PERSON)
        assert await first.guard.store.forget(keys) == 0
    finally:
        await first.guard.aclose()
        await second.guard.aclose()


async def test_the_store_down_answers_503(guarded: GuardedFactory) -> None:
    """With the store unreachable, the erasure is not claimed: a 503 asks to try again."""
    app, _ = guarded(admin_token=TOKEN, store="redis://127.0.0.1:9?timeout=0.05")
    status, answer = await forget(app, {"ip": PERSON})
    assert status == 503
    assert "unavailable" in str(answer["error"])


def test_the_command_sends_the_erasure(
    guarded: GuardedFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guard forget` posts the person to a running guard and prints what went; it needs
    someone to forget and a token."""
    app, _ = guarded(admin_token=TOKEN)
    assert main(["forget", "--url", "http://127.0.0.1:9", "--token", TOKEN]) == 2
    with live_server(app) as base:
        argv = ["forget", "--url", base, "--ip", PERSON, "--user-agent", "curl/8", "--token", TOKEN]
        assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"deleted": {"ip": 0, "client": 0, "identity": 0, "dashboard": 0}}
