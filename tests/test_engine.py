"""The engine as a library user meets it: a site's own records, library defaults, the live
policy, the engine from the app, key rotation, responders and incident ids."""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from guard import Guard, GuardConfig, GuardMiddleware, Refusal, Thresholds
from guard.challenge import VERIFY_PATH
from guard.engine import COOKIE_MAX_AGE
from guard.observe.decision_log import DecisionLog
from guard.signals.model import BELOW_BLOCK, ModelSignal
from guard.testing import ManualClock, Reply, call_asgi, chrome_headers, lifespan
from guard.types import Action

pytestmark = pytest.mark.anyio
SECRET = "engine-test-secret-0123456789"
RECORDS = {"profiles": {"paths": ["/profile/{id}"], "sensitive": True}}
SCRAPER = {"user-agent": "python-requests/2.32.3", "accept": "*/*"}


def profile_app() -> FastAPI:
    """A site of its own: profiles are its personal records; /resume/{id} is just a page."""
    app = FastAPI()

    @app.get("/profile/{number}")
    async def profile(number: int) -> dict[str, object]:
        return {"id": number, "phone": f"+86 138 0000 {number:04d}"}

    @app.get("/resume/{number}")
    async def resume(number: int) -> dict[str, object]:
        return {"id": number, "title": "a page like any other"}

    @app.get("/jobs")
    async def jobs() -> dict[str, object]:
        return {"jobs": []}

    return app


def guarded(settings: dict[str, object], clock: ManualClock) -> GuardMiddleware:
    """``profile_app`` behind a guard with ``settings`` (and a fixed secret)."""
    config = GuardConfig.from_mapping({"secret": SECRET, **settings})
    return GuardMiddleware(profile_app(), config, clock=clock)


async def walk(
    app: GuardMiddleware, clock: ManualClock, template: str, headers: dict[str, str], count: int
) -> list[int]:
    """A sequential scraper: ``count`` ids in order, one every 0.5 s, keeping cookies."""
    statuses, cookie = [], ""
    for number in range(1, count + 1):
        clock.advance(0.5)
        sent = {**headers, "cookie": cookie} if cookie else headers
        reply = await call_asgi(app, template.format(number), headers=sent)
        statuses.append(reply.status)
        cookie = (
            "; ".join(v.partition(";")[0] for k, v in reply.headers if k == "set-cookie") or cookie
        )
    return statuses


@pytest.mark.parametrize("headers", [SCRAPER, chrome_headers()], ids=["requests", "chrome"])
async def test_a_sites_own_record_route_stops_a_sequential_scraper(
    clock: ManualClock, headers: dict[str, str]
) -> None:
    """Declared in the site's config, /profile/{id} is a record route: a sequential scraper,
    an HTTP library or one copying Chrome's headers and keeping cookies, gets fewer than 20."""
    app = guarded({"routes": RECORDS}, clock)
    statuses = await walk(app, clock, "/profile/{}", headers, 150)
    assert statuses.count(200) < 20
    assert statuses[-10:].count(200) == 0


async def test_with_an_empty_config_a_resume_path_is_any_page(clock: ManualClock) -> None:
    """The library names nothing of the demo: with no config /resume/7 is not a record, and
    a client gets the same verdict there as on any page."""
    app = guarded({}, clock)
    resume = await call_asgi(app, "/resume/7", headers=SCRAPER)
    jobs = await call_asgi(app, "/jobs", headers=SCRAPER)
    assert resume.status == jobs.status == 200
    engine = app.guard
    facts = engine.facts.extract({"type": "http", "path": "/resume/7", "headers": []}, clock())
    assert facts.route.record_id is None
    assert not facts.route.route_class.sensitive
    assert engine.config.honeypot_paths == engine.config.robots_disallow == ()


async def test_a_slide_deck_of_images_is_not_refused(clock: ManualClock) -> None:
    """A person opening a deck of 200 images under a path no class names, in one minute,
    is served: the images are assets by file type (and by Sec-Fetch-Dest), with the static
    class's limits, not the default per-IP rate."""
    app = guarded({}, clock)
    image = {**chrome_headers(document=False), "sec-fetch-dest": "image"}
    statuses = []
    for n in range(200):
        clock.advance(0.25)
        path = f"/presentations/2014/deck/images/slide-{n}" + (".png" if n % 2 else "")
        statuses.append((await call_asgi(app, path, headers=image)).status)
    assert set(statuses) == {404}  # the app has no such files: what matters is no 429


def consumers(engine: Guard) -> list[object]:
    """Every part of the engine that holds the policy."""
    held = [engine.challenges, engine.facts]
    return held + [s for s in engine.signals if hasattr(s, "policy")]


async def test_a_live_policy_change_reaches_every_part_mid_traffic(clock: ManualClock) -> None:
    """Thresholds, weights and mode changed while serving apply at the next request in every
    part that reads them: the verdict, the challenge's difficulty, the model's scale, the
    tracking cookie, the verify endpoint and the newcomer count."""
    app = guarded({"routes": RECORDS, "model": "shipped", "challenge_difficulty": 8}, clock)
    engine = app.guard
    assert all(part.policy is engine.policy for part in consumers(engine))  # type: ignore[attr-defined]
    assert len(consumers(engine)) >= 5  # challenges, facts, strikes, model, ...
    copied = {**chrome_headers(), "sec-fetch-site": "same-origin"}  # one 0.4 finding

    assert (await call_asgi(app, "/jobs", headers=copied)).status == 200
    engine.policy.thresholds = Thresholds(gray=0.35, block=0.9)
    page = await call_asgi(app, "/jobs", headers=copied)
    assert page.status == 429
    incident_in(page)  # a person who cannot pass the check can still quote it
    assert "bits = 8" in page.text.replace("bits=", "bits = ")
    engine.policy.update(thresholds=Thresholds(gray=0.1, block=0.95))
    harder = await call_asgi(app, "/jobs", headers=copied)
    assert "bits = 11" in harder.text.replace("bits=", "bits = ")  # 8 + (0.4 - 0.1) * 10

    model = next(s for s in engine.signals if isinstance(s, ModelSignal))
    assert model.weight(1.0) == pytest.approx(0.95 - BELOW_BLOCK)

    assert (await call_asgi(app, "/profile/1", headers=SCRAPER)).status == 403
    engine.policy.weights = {"automation": 0.0, "model": 0.0, "flagged_address": 0.0}
    engine.policy.thresholds = Thresholds()
    assert (await call_asgi(app, "/profile/1", headers=SCRAPER)).status == 200

    engine.policy.mode = "shadow"
    shadow = await call_asgi(app, "/jobs", headers=chrome_headers())
    assert shadow.status == 200
    assert shadow.header("set-cookie") is None
    assert (await call_asgi(app, VERIFY_PATH, method="POST")).status == 404  # the app's

    engine.policy.mode = "enforce"
    enforced = await call_asgi(app, "/jobs", headers=chrome_headers())
    assert (enforced.header("set-cookie") or "").startswith("__guard=")


async def test_the_engine_is_app_state_guard_under_add_middleware() -> None:
    """With app.add_middleware the engine is app.state.guard once the app starts: its
    policy can be changed, and the app's shutdown closes it."""
    app = profile_app()
    app.add_middleware(GuardMiddleware, config=GuardConfig.from_mapping({"routes": RECORDS}))
    closed: list[bool] = []

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, object]:
        verdict = request.scope["guard"]
        return {"action": verdict.action.label, "enforced": verdict.enforced}

    async with lifespan(app):
        engine: Guard = app.state.guard
        original = engine.aclose

        async def aclose() -> None:
            closed.append(True)
            await original()

        engine.aclose = aclose  # type: ignore[method-assign]
        assert (await call_asgi(app, "/profile/1", headers=SCRAPER)).status == 403
        engine.policy.update(mode="shadow")
        assert (await call_asgi(app, "/profile/1", headers=SCRAPER)).status == 200
        reply = await call_asgi(app, "/whoami", headers=SCRAPER)
        assert json.loads(reply.body)["enforced"] is False
    assert closed == [True]


async def test_a_wrapped_starlette_app_gets_state_guard_at_once(clock: ManualClock) -> None:
    """Wrapping a Starlette or FastAPI app directly publishes the engine before any request."""
    app = profile_app()
    middleware = GuardMiddleware(app, GuardConfig.from_mapping({}), clock=clock)
    assert app.state.guard is middleware.guard


async def test_a_guard_built_beforehand_is_the_one_used(clock: ManualClock) -> None:
    """GuardMiddleware(app, guard=...) uses that engine; mixing it with a config is an error."""
    engine = Guard.from_config(GuardConfig.from_mapping({"secret": SECRET}), clock=clock)
    assert GuardMiddleware(profile_app(), guard=engine).guard is engine
    with pytest.raises(TypeError):
        GuardMiddleware(profile_app(), GuardConfig(), guard=engine)


def test_from_config_reads_a_toml_path(tmp_path: pytest.TempPathFactory) -> None:
    """Guard.from_config takes a TOML file's path as well as a config."""
    path = tmp_path / "guard.toml"  # type: ignore[operator]
    path.write_text(
        '[guard]\nmode = "shadow"\n[guard.routes.profiles]\npaths = ["/p/{id}"]\nsensitive = true\n'
    )
    engine = Guard.from_config(path)
    assert engine.policy.mode == "shadow"
    assert engine.config.route_class("profiles").sensitive


async def test_the_tracking_cookie_survives_a_key_rotation(clock: ManualClock) -> None:
    """A guard cookie issued under the old secret is still a returning browser's after the
    secret rotates (old one in previous_secrets), and a stranger's once it is dropped."""
    old, new = "old-secret-0123456789abcdef", "new-secret-0123456789abcdef"
    before = GuardMiddleware(profile_app(), GuardConfig.from_mapping({"secret": old}), clock=clock)
    issued = (await call_asgi(before, "/jobs", headers=chrome_headers())).header("set-cookie")
    assert issued is not None
    cookie = {"cookie": issued.partition(";")[0]}
    rotated = GuardConfig.from_mapping({"secret": new, "previous_secrets": [old]})
    dropped = GuardConfig.from_mapping({"secret": new})
    scope = {"type": "http", "path": "/jobs", "headers": [(b"cookie", cookie["cookie"].encode())]}
    assert Guard(rotated, clock=clock).facts.extract(scope, clock()).tracked
    assert not Guard(dropped, clock=clock).facts.extract(scope, clock()).tracked
    after = GuardMiddleware(profile_app(), rotated, clock=clock)
    again = await call_asgi(after, "/jobs", headers={**chrome_headers(), **cookie})
    assert again.header("set-cookie") is None  # known browser: no new cookie
    assert COOKIE_MAX_AGE >= 86400


def incident_in(reply: Reply) -> str:
    """The incident id a refusal shows."""
    found = re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}", reply.text)
    assert found is not None, reply.text[:300]
    return found.group(0)


async def test_a_refusal_quotes_the_incident_the_log_records(clock: ManualClock) -> None:
    """The incident id on a refusal page is the one in the decision log's line for it."""
    stream = io.StringIO()
    config = GuardConfig.from_mapping({"secret": SECRET, "routes": RECORDS})
    app = GuardMiddleware(profile_app(), config, clock=clock, decision_log=DecisionLog(stream))
    reply = await call_asgi(app, "/profile/3", headers={**SCRAPER, "accept": "text/html"})
    assert reply.status == 403
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["incident"] == incident_in(reply)
    assert line["action"] == Action.BLOCK.label


async def test_pages_come_in_the_clients_language(clock: ManualClock) -> None:
    """A refusal is in Chinese for a browser preferring zh-CN, in English otherwise."""
    app = guarded({"routes": RECORDS}, clock)
    chinese = {**SCRAPER, "accept": "text/html", "accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}
    english = {**SCRAPER, "accept": "text/html", "accept-language": "en-GB,en;q=0.9"}
    assert '<html lang="zh-CN">' in (await call_asgi(app, "/profile/1", headers=chinese)).text
    assert '<html lang="en">' in (await call_asgi(app, "/profile/1", headers=english)).text


async def test_a_site_can_own_its_refusals(clock: ManualClock) -> None:
    """A responder's response is sent (with the standard headers it did not set); one that
    raises falls back to the default page instead of becoming a 500."""
    seen: list[Refusal] = []

    def branded(refusal: Refusal) -> Response:
        seen.append(refusal)
        return PlainTextResponse(f"nope ({refusal.incident})", refusal.status)

    def broken(refusal: Refusal) -> Response:
        raise RuntimeError("a bug in the site's responder")

    def wrong(refusal: Refusal) -> Response:
        return "not a response"  # type: ignore[return-value]

    config = GuardConfig.from_mapping({"secret": SECRET, "routes": RECORDS})
    mine = GuardMiddleware(profile_app(), config, clock=clock, responder=branded)
    reply = await call_asgi(mine, "/profile/1", headers=SCRAPER)
    assert reply.status == 403
    assert reply.text == f"nope ({seen[0].incident})"
    assert reply.header("cache-control") == "no-store"
    assert seen[0].kind == "block"
    for responder in (broken, wrong):
        fallback = GuardMiddleware(profile_app(), config, clock=clock, responder=responder)
        html = {**SCRAPER, "accept": "text/html"}
        reply = await call_asgi(fallback, "/profile/1", headers=html)
        assert reply.status == 403
        incident_in(reply)


async def test_calling_pages_images_buys_no_higher_limit(clock: ManualClock) -> None:
    """A client sending Sec-Fetch-Dest: image on page requests still meets the catch-all's
    per-IP rate, as it would without the header."""
    app = guarded({}, clock)
    statuses = {}
    for dest in ("image", "document"):
        headers = {**chrome_headers(), "sec-fetch-dest": dest}
        replies = []
        for n in range(200):
            clock.advance(0.1)
            replies.append((await call_asgi(app, f"/jobs?page={n}", headers=headers)).status)
        statuses[dest] = replies.count(429)
        clock.advance(3600)
    assert statuses["image"] >= 40, statuses
    assert statuses["image"] == statuses["document"], statuses
