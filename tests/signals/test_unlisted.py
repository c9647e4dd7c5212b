"""Tests for guard.signals.unlisted: young clients reading records no page showed anybody."""

from __future__ import annotations

import html
import io
import json
import re
import uuid
from urllib.parse import urlencode

import pytest

from guard.challenge import VERIFY_PATH
from guard.challenge.work import solve
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.signals.campaign import HOLD
from guard.signals.unlisted import UNLISTED_RUN
from guard.store import MemoryStore
from guard.store.redis import RedisStore
from guard.store.resilient import CircuitBreaker, ResilientStore
from guard.testing import ManualClock, Reply, call_asgi, chrome_headers
from guard.testing.redis import RedisServer
from tests.conftest import SECRET, GuardedFactory, expose

pytestmark = pytest.mark.anyio
FLOOR = {"model": "off", "campaign_floor": 5, "challenge_difficulty": 8}
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def reasons(log: io.StringIO) -> list[list[str]]:
    """The reasons of each decision logged, in order."""
    return [json.loads(line)["reasons"] for line in log.getvalue().splitlines()]


async def start_campaign(app: GuardMiddleware) -> None:
    """Twelve new clients from twelve networks each read a record nobody showed them."""
    for n in range(12):
        await call_asgi(
            app, f"/resume/{100500 + n}", headers=chrome_headers(), client=(f"10.9.{n}.9", 1)
        )


async def shown_ids(app: GuardMiddleware, client: str) -> list[str]:
    """The record ids a listing served to ``client`` links to."""
    reply = await call_asgi(app, "/resumes?page=3", headers=chrome_headers(), client=(client, 1))
    assert reply.status == 200
    return re.findall(r'href="/resume/(\d+)"', reply.text)


def is_challenge(reply: Reply) -> bool:
    return reply.status == 429 and 'name="token"' in reply.text


def is_turned_back(reply: Reply) -> bool:
    """A 429 that is no challenge: the page sending the client to the site's own pages."""
    return reply.status == 429 and not is_challenge(reply) and 'href="/"' in reply.text


async def test_a_campaign_turns_young_readers_of_unlisted_records_back_to_the_site(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """During a campaign a new client reading a record nobody was shown gets a 429 that
    sends it to the site's pages, with the campaign's remaining hold as Retry-After; a
    record another client was shown gets a challenge instead; after the campaign the
    unlisted record is served."""
    app, log = guarded(**FLOOR)
    shown = await shown_ids(app, "192.0.2.50")
    await start_campaign(app)
    clock.advance(30)
    reader = ("198.51.100.7", 1)
    turned = await call_asgi(app, "/resume/100900", headers=chrome_headers(), client=reader)
    assert is_turned_back(turned)
    assert reasons(log)[-1][0] == "unlisted_record"
    assert 0 < int(turned.header("retry-after") or 0) <= HOLD
    assert "site&#x27;s pages" in turned.text
    other = ("198.51.101.7", 1)
    landing = await call_asgi(app, f"/resume/{shown[0]}", headers=chrome_headers(), client=other)
    assert is_challenge(landing)
    assert "unlisted_record" not in reasons(log)[-1]
    clock.advance(HOLD + 61)
    after = await call_asgi(app, "/resume/100900", headers=chrome_headers(), client=reader)
    assert after.status == 200


async def test_a_solved_challenge_does_not_open_unlisted_records(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A young client that solved the campaign's challenge reads the shown record it was
    challenged on, but records nobody was shown stay closed to it: a farm that solves
    every challenge gets nothing from the id space."""
    app, log = guarded(**FLOOR)
    shown = await shown_ids(app, "192.0.2.50")
    await start_campaign(app)
    client, headers = ("198.51.100.8", 1), chrome_headers()
    page = await call_asgi(app, f"/resume/{shown[1]}", headers=headers, client=client)
    assert is_challenge(page)
    found = re.search(r'name="token" value="([^"]+)"', page.text)
    assert found is not None
    token = html.unescape(found.group(1))
    passed = await call_asgi(
        app,
        VERIFY_PATH,
        method="POST",
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
        body=urlencode({"token": token, "counter": solve(token, 12)}).encode(),
        client=client,
    )
    assert passed.status == 303
    cookies = "; ".join(v.partition(";")[0] for k, v in passed.headers if k == "set-cookie")
    headers = {**headers, "cookie": cookies}
    served = await call_asgi(app, f"/resume/{shown[1]}", headers=headers, client=client)
    assert served.status == 200
    closed = await call_asgi(app, "/resume/100901", headers=headers, client=client)
    assert is_turned_back(closed)
    assert reasons(log)[-1][0] == "unlisted_record"


async def test_two_workers_share_what_was_shown(redis_url: str, clock: ManualClock) -> None:
    """A listing served by one worker opens its records to another worker's young clients
    (a challenge, not a turn back); a record nobody was shown is turned back there."""
    settings = {
        **FLOOR,
        "secret": SECRET,
        "store": f"{redis_url}?timeout=1",
        "key_prefix": f"exposure-{uuid.uuid4().hex[:8]}",
    }
    workers = [
        GuardMiddleware(create_demo_app(1000), demo_config(settings), clock=clock) for _ in range(2)
    ]
    try:
        shown = await shown_ids(workers[0], "192.0.2.50")
        for worker in workers:  # each worker sees the campaign
            await start_campaign(worker)
        clock.advance(5)
        landing = await call_asgi(
            workers[1], f"/resume/{shown[0]}", headers=chrome_headers(), client=("198.51.100.9", 1)
        )
        assert is_challenge(landing)
        turned = await call_asgi(
            workers[1], "/resume/100902", headers=chrome_headers(), client=("198.51.102.9", 1)
        )
        assert is_turned_back(turned)
    finally:
        for worker in workers:
            await worker.guard.aclose()


async def test_outside_a_campaign_a_run_of_unlisted_records_is_turned_back(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """With no campaign, a young client's first records nobody was shown are served (links
    from an old message); from the UNLISTED_RUN-th in a row it is sent to the site's pages,
    while a record shown to someone else gets discovery's challenge at most."""
    app, log = guarded(model="off")
    headers = chrome_headers()
    statuses = []
    for record in range(UNLISTED_RUN):
        clock.advance(20)
        reply = await call_asgi(app, f"/resume/{100417 + 7 * record}", headers=headers)
        headers["cookie"] = (
            headers.get("cookie") or (reply.header("set-cookie") or ";").split(";")[0]
        )
        statuses.append(reply.status)
    assert statuses[:-1] == [200] * (UNLISTED_RUN - 1)
    assert is_turned_back(reply)
    assert reasons(log)[-1][0] == "unlisted_record"
    assert reply.header("retry-after") is None  # nothing to wait for: find it on the site
    await expose(app, [100900])
    clock.advance(20)
    assert is_challenge(await call_asgi(app, "/resume/100900", headers=headers))


async def test_a_client_past_its_first_visit_is_not_turned_back(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A client with a history (more than three pages, first seen over five minutes ago)
    reading records nobody was shown meets discovery's evidence, not a turn back."""
    app, log = guarded(model="off")
    headers = chrome_headers()
    for page in (1, 2, 3, 4):
        clock.advance(100)
        reply = await call_asgi(app, f"/resumes?page={page}", headers=headers)
        headers["cookie"] = (
            headers.get("cookie") or (reply.header("set-cookie") or ";").split(";")[0]
        )
    for record in range(UNLISTED_RUN + 1):
        clock.advance(30)
        reply = await call_asgi(app, f"/resume/{100003 + 11 * record}", headers=headers)
        assert not is_turned_back(reply)
    assert not any("unlisted_record" in r for r in reasons(log))


async def test_a_verified_crawler_is_never_turned_back(guarded: GuardedFactory) -> None:
    """Googlebot from Google's published range, on a site that lets it read records (a
    weight of 0 for declared bots: records are refused to every bot by default), reads
    records nobody was shown, as many in a row as it likes."""
    app, log = guarded(model="off", robots_disallow=[], weights={"declared_bot": 0.0})
    crawler = {"user-agent": GOOGLEBOT, "accept": "text/html"}
    for step in range(UNLISTED_RUN + 3):
        reply = await call_asgi(
            app, f"/resume/{100100 + 37 * step}", headers=crawler, client=("66.249.66.1", 1)
        )
        assert reply.status == 200
    assert not any("unlisted_record" in r for r in reasons(log))


async def test_an_outage_turns_nobody_back(private_redis: RedisServer, clock: ManualClock) -> None:
    """With Redis down and the per-process fallback answering, every client looks new and no
    record looks shown: a crowd of readers starts no campaign and nobody is turned back."""
    store = ResilientStore(
        RedisStore.from_url(f"{private_redis.url}?timeout=0.2"),
        MemoryStore(),
        CircuitBreaker(threshold=1, cooldown=600.0),
    )
    config = demo_config({**FLOOR, "secret": SECRET})
    app = GuardMiddleware(create_demo_app(1000), config, store=store, clock=clock)
    private_redis.kill()
    try:
        for n in range(12):  # a crowd of new readers, each reading records nobody was shown
            headers = chrome_headers()
            for record in range(UNLISTED_RUN + 1):
                clock.advance(1)
                reply = await call_asgi(
                    app,
                    f"/resume/{100100 + 29 * record + n}",
                    headers=headers,
                    client=(f"10.8.{n}.9", 1),
                )
                headers["cookie"] = (
                    headers.get("cookie") or (reply.header("set-cookie") or ";").split(";")[0]
                )
                assert not is_turned_back(reply)
        assert store.degraded
    finally:
        await app.guard.aclose()


async def test_ids_no_link_scan_can_note_are_never_turned_back(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A record id with characters the body scanner does not read (percent-encoded, say)
    could never be marked shown, so it is never turned back."""
    app, log = guarded(model="off")
    headers = chrome_headers()
    for n in range(UNLISTED_RUN + 1):
        clock.advance(20)
        reply = await call_asgi(app, f"/resume/caf%C3%A9-{n}", headers=headers)
        headers["cookie"] = (
            headers.get("cookie") or (reply.header("set-cookie") or ";").split(";")[0]
        )
        assert not is_turned_back(reply)
    assert not any("unlisted_record" in r for r in reasons(log))
