"""GuardMiddleware in process: modes, pass-through, integration, failure policy, bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from guard import Action, GuardMiddleware, StorageError
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.facts import Facts
from guard.signals.base import BaseSignal, Report
from guard.signals.behaviour import profile_key
from guard.signals.profile import ClientProfile
from guard.store import Store
from guard.store.base import Op, Result, ValueGet
from guard.testing import CHROME_UA, ManualClock, call_asgi, chrome_headers
from guard.types import Message, Receive, Scope, Send
from tests.conftest import SECRET, GuardedFactory, expose

pytestmark = pytest.mark.anyio
SCRAPER_UA = {"user-agent": "python-requests/2.32.3", "accept": "*/*"}


Exchange = tuple[int, list[tuple[str, str]], bytes]


async def scrape(app: GuardMiddleware, clock: ManualClock, count: int = 40) -> list[Exchange]:
    """A sequential scraper with a Chrome UA; returns every (status, headers, body)."""
    replies = []
    for offset in range(count):
        clock.advance(0.2)
        reply = await call_asgi(app, f"/resume/{100000 + offset}", headers=chrome_headers())
        replies.append((reply.status, reply.headers, reply.body))
    return replies


async def test_shadow_mode_never_changes_a_response(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Shadow mode logs what it would do but every response equals the unguarded app's."""
    shadow, log = guarded(mode="shadow")
    bare = create_demo_app(1000)
    shadow_replies = await scrape(shadow, clock)
    bare_replies = await scrape(bare, clock)  # type: ignore[arg-type]
    assert shadow_replies == bare_replies
    assert {status for status, _, _ in shadow_replies} == {200}
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    would_refuse = [line for line in lines if line["action"] in {"throttle", "block"}]
    assert would_refuse
    assert all(line["enforced"] is False for line in would_refuse)


async def test_off_mode_serves_the_bare_app(guarded: GuardedFactory, clock: ManualClock) -> None:
    """Mode off passes everything through: no verdict, no cookie, scrapers served."""
    app, log = guarded(mode="off")
    replies = await scrape(app, clock)
    assert {status for status, _, _ in replies} == {200}
    assert all(name != "set-cookie" for _, headers, _ in replies for name, _ in headers)
    assert log.getvalue() == ""


async def test_enforce_mode_refuses_the_same_scraper(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """The scraper shadow mode lets through is refused within a few records when enforcing."""
    app, _ = guarded()
    statuses = [status for status, _, _ in await scrape(app, clock)]
    assert statuses.count(200) < 20
    assert statuses[-1] in {403, 429}


class Recorder:
    """An ASGI app that records the scopes it sees and answers 200."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


async def test_websocket_and_lifespan_scopes_pass_through_untouched() -> None:
    """Non-HTTP scopes reach the app as they are, with no verdict added."""
    inner = Recorder()
    app = GuardMiddleware(inner, demo_config({"secret": SECRET}))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    for kind in ("websocket", "lifespan"):
        scope: Scope = {"type": kind, "path": "/resume/100001", "headers": []}
        await app(scope, receive, send)
    assert [s["type"] for s in inner.scopes] == ["websocket", "lifespan"]
    assert all("guard" not in s for s in inner.scopes)


async def test_verdict_is_written_to_the_scope() -> None:
    """The app can read the verdict (action, score, reasons) from scope["guard"]."""
    inner = Recorder()
    app = GuardMiddleware(inner, demo_config({"secret": SECRET}))
    await call_asgi(app, "/jobs", headers={"user-agent": "curl/8.5.0"})
    verdict = inner.scopes[0]["guard"]
    assert verdict.action is Action.ALLOW
    assert verdict.reasons == ("automation:curl",)
    assert 0 < verdict.score < 0.6


def _starlette_app() -> Starlette:
    async def record(request: Request) -> JSONResponse:
        verdict = request.scope["guard"]
        return JSONResponse({"id": request.path_params["id"], "action": verdict.action.label})

    return Starlette(
        routes=[Route("/resume/{id:int}", record)],
        middleware=[
            Middleware(
                GuardMiddleware,
                config=demo_config({"secret": SECRET}),
            )
        ],
    )


def _fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.get("/resume/{id}")
    async def record(id: int, request: Request) -> dict[str, object]:
        return {"id": id, "action": request.scope["guard"].action.label}

    app.add_middleware(GuardMiddleware, config=demo_config({"secret": SECRET}))
    return app


@pytest.mark.parametrize("factory", [_starlette_app, _fastapi_app], ids=["starlette", "fastapi"])
async def test_works_through_add_middleware(factory: object) -> None:
    """Starlette and FastAPI apps take the guard as middleware; it refuses and allows."""
    app = factory()  # type: ignore[operator]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.example") as client:
        person = await client.get("/resume/7", headers=chrome_headers())
        bot = await client.get("/resume/8", headers=SCRAPER_UA)
    assert person.status_code == 200
    assert person.json() == {"id": 7, "action": "allow"}
    assert bot.status_code == 403


class DeadStore(Store):
    """A store whose backend is down: every call raises StorageError."""

    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        raise StorageError("connection refused")

    async def forget(self, key_start: str) -> int:
        raise StorageError("connection refused")


async def test_store_outage_fails_open_and_keeps_stateless_signals() -> None:
    """With the store down a person is served and an automation client is still refused."""
    config = demo_config({"secret": SECRET})
    app = GuardMiddleware(create_demo_app(100), config, store=DeadStore())
    person = await call_asgi(app, "/resume/100001", headers=chrome_headers())
    bot = await call_asgi(app, "/resume/100001", headers=SCRAPER_UA)
    assert person.status == 200
    assert bot.status == 403


async def test_store_outage_fails_closed_when_configured() -> None:
    """fail_closed = true answers 503 with Retry-After while the store is down."""
    config = demo_config({"secret": SECRET, "fail_closed": True})
    app = GuardMiddleware(create_demo_app(100), config, store=DeadStore())
    reply = await call_asgi(app, "/resume/100001", headers=chrome_headers())
    assert reply.status == 503
    assert reply.header("retry-after") == "5"


class BrokenSignal(BaseSignal):
    """A signal with a bug: it raises on every request."""

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        raise RuntimeError("bug in a signal")


async def test_a_bug_in_the_guard_never_becomes_a_500() -> None:
    """If judging raises, the request is served unguarded instead of failing."""
    config = demo_config({"secret": SECRET})
    app = GuardMiddleware(create_demo_app(100), config, signals=(BrokenSignal(),))
    reply = await call_asgi(app, "/resume/100001", headers=chrome_headers())
    assert reply.status == 200
    assert 'class="phone"' in reply.text


@pytest.mark.parametrize(
    ("path", "headers", "client"),
    [
        ("/resume/100001", [(b"user-agent", b"\xff\xfe\x00bad\r\n"), (b"accept", b"\x80")], None),
        ("/resume/100001", [(b"user-agent", b"Mozilla/5.0 " + b"A" * 16384)], ("10.1.1.1", 1)),
        ("/resume/100001", [(b"x-forwarded-for", b"\xff, ::::, 1.2.3.4.5")], ("10.1.1.1", 1)),
        ("/resume/\udcff\udcfe", [(b"user-agent", CHROME_UA.encode())], ("10.1.1.1", 1)),
        ("/resume/100001", [(b"cookie", b"__guard=\xff.\xfe; session=\x00")], ("10.1.1.1", 1)),
        ("/resume/100001", [(b"forwarded", b'for="[zz::1]:x";proto=https')], ("10.1.1.1", 1)),
        ("/resume/100001", [], ("not-an-ip", 1)),
    ],
    ids=[
        "bad-bytes-no-client",
        "16k-ua",
        "garbage-xff",
        "non-utf8-path",
        "bad-cookie",
        "bad-forwarded",
        "bad-peer",
    ],
)
async def test_malformed_input_never_gets_a_500(
    path: str, headers: list[tuple[bytes, bytes]], client: tuple[str, int] | None
) -> None:
    """Malformed headers, a huge UA, no client address and odd paths get a real answer."""
    config = demo_config({"secret": SECRET, "trusted_proxies": ["10.0.0.0/8"]})
    app = GuardMiddleware(create_demo_app(100), config)
    reply = await call_asgi(app, path, headers=headers, client=client)
    assert reply.status in {200, 403, 404, 429}


async def test_json_clients_get_json_refusals_and_browsers_get_html() -> None:
    """A refusal is JSON for Accept: application/json and an HTML page otherwise."""
    app = GuardMiddleware(create_demo_app(100), demo_config({"secret": SECRET}))
    api = await call_asgi(
        app,
        "/api/resumes/100001",
        headers={"user-agent": "curl/8.5.0", "accept": "application/json"},
    )
    page = await call_asgi(app, "/resume/100001", headers={"user-agent": "curl/8.5.0"})
    assert api.status == page.status == 403
    body = json.loads(api.body)
    incident = body.pop("incident")
    assert body == {"error": "forbidden", "reason": "automated_traffic", "retry_after": None}
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", incident)
    assert (page.header("content-type") or "").startswith("text/html")
    assert '<html lang="en">' in page.text


class ClosingStore(DeadStore):
    """A store that records being closed."""

    closed = False

    async def close(self) -> None:
        self.closed = True


async def test_the_store_closes_when_the_app_shuts_down() -> None:
    """Lifespan messages pass unchanged; the store is closed before shutdown completes."""
    store = ClosingStore()
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "lifespan.startup.complete"})
        assert not store.closed
        await send({"type": "lifespan.shutdown.complete"})

    async def receive() -> Message:
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "lifespan.shutdown.complete":
            assert store.closed

    guard = GuardMiddleware(app, demo_config({"secret": SECRET}), store=store)
    await guard({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert store.closed


class FlakySignal(BaseSignal):
    """A signal with an intermittent bug: it raises on every other request."""

    def __init__(self) -> None:
        self.calls = 0

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        self.calls += 1
        if self.calls % 2:
            raise RuntimeError("intermittent bug")


async def test_an_intermittent_bug_does_not_eat_budgets() -> None:
    """A request the guard fails on is served and gives back its budget reservation, so
    the healthy requests around it keep their full budget."""
    config = demo_config(
        {
            "secret": SECRET,
            "model": "off",  # the test counts what the budget lets through
            "thresholds": {"gray": 1.0, "block": 1.0},
            "routes": {"sensitive": {"budgets": {"ip": ["5/hour"]}}},
        }
    )
    app = GuardMiddleware(create_demo_app(100), config, signals=(FlakySignal(),))
    await expose(app, range(100000, 100010))
    statuses = [
        (await call_asgi(app, f"/resume/{100000 + n}", headers=chrome_headers())).status
        for n in range(10)
    ]
    assert statuses == [200] * 10


async def test_state_is_written_before_the_page_reaches_the_client(
    guarded: GuardedFactory,
) -> None:
    """By the time the last chunk of a served page goes out, the client's profile already
    counts the page and holds the records it showed: a next request sent as soon as the
    page arrives cannot load an older copy (and overwrite what this one wrote)."""
    app, _ = guarded(model="off")
    seen: list[ClientProfile | None] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/resumes",
        "query_string": b"page=2",
        "headers": [(k.encode(), v.encode()) for k, v in chrome_headers().items()],
        "client": ("198.51.100.9", 1),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            facts = app.guard.facts.extract(scope, app.guard.clock())
            key = profile_key(app.guard.config.key_prefix, facts)
            (found,) = await app.guard.store.execute([ValueGet(key, ClientProfile)], facts.now)
            seen.append(found if isinstance(found, ClientProfile) else None)

    await app(scope, receive, send)
    assert seen
    profile = seen[0]
    assert profile is not None
    assert profile.documents == 1
    assert len(profile.ledger.shown) == 2 * 20
