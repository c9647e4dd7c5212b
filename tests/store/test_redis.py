"""The Redis store behind the middleware: keys, TTLs, round trips, scripts, memory per client."""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import select
import signal
import time

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.signals.profile import ClientProfile
from guard.store import redis as redis_store
from guard.store.base import DistinctAdd, DistinctCount, RateHit, RateState, ValueGet, ValuePut
from guard.store.redis import RedisStore
from guard.testing import ManualClock, call_asgi, chrome_headers
from guard.testing.redis import RedisServer
from tests.conftest import SECRET, expose
from tests.store.commandstats import command_calls, evalsha_calls

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0


def guarded_on(server: RedisServer, clock: ManualClock, **settings: object) -> GuardMiddleware:
    """The demo behind a guard whose state is in ``server``."""
    # A roomy timeout: these tests are about what is stored, not how fast (see the outage tests).
    # The model is off: it adds no store operations, and these tests count what is stored.
    store = f"{server.url}?timeout=1"
    config = demo_config({"secret": SECRET, "store": store, "model": "off", **settings})
    return GuardMiddleware(create_demo_app(1000), config, clock=clock)


async def browse(
    app: GuardMiddleware, clock: ManualClock, ip: str, rng: random.Random, records: int = 20
) -> list[int]:
    """A person: home page with its assets, a listing, then ``records`` resumes at human pace."""
    statuses = []
    cookie = ""

    async def get(path: str, document: bool = True) -> str:
        nonlocal cookie
        headers = chrome_headers(document=document)
        if cookie:
            headers["cookie"] = cookie
        reply = await call_asgi(app, path, headers=headers, client=(ip, 40000))
        cookie = cookie or (reply.header("set-cookie") or "").partition(";")[0]
        statuses.append(reply.status)
        return reply.text

    await get("/")
    for asset in ("/static/css/site.css", "/static/js/site.js", "/static/img/logo.svg"):
        await get(asset, document=False)
    shown: list[str] = []
    for page in range(2, 2 + math.ceil(records / 20)):
        shown += re.findall(r'href="(/resume/\d+)"', await get(f"/resumes?page={page}"))
    for link in rng.sample(shown, records):
        clock.advance(min(rng.lognormvariate(math.log(8.0), 0.7), 90.0))
        await get(link)
    return statuses


def keys(server: RedisServer) -> list[str]:
    """Every key in the server."""
    listing = server.command("--scan")
    return [line for line in listing.splitlines() if line]


async def test_every_key_has_the_prefix_and_a_ttl(private_redis: RedisServer) -> None:
    """After real traffic, every key starts with the prefix and will expire."""
    clock = ManualClock()
    app = guarded_on(private_redis, clock, key_prefix="shop")
    assert set(await browse(app, clock, "198.51.100.7", random.Random(1))) == {200}
    await call_asgi(app, "/resume/100001", headers={"user-agent": "curl/8"})
    await app.guard.aclose()
    found = keys(private_redis)
    assert found
    assert all(key.startswith("shop:{") for key in found)
    ttls = {key: int(private_redis.command("PTTL", key)) for key in found}
    # -1: a key without a TTL, the one failure. 0: under a millisecond left, and -2: gone,
    # expired since the scan (a rate-limit key lives only until its limit refills, which can
    # be a fraction of a second; on a loaded machine each PTTL here takes milliseconds).
    lasting = {key: ttl for key, ttl in ttls.items() if ttl == -1}
    assert not lasting, lasting
    assert any(ttl > 0 for ttl in ttls.values())


async def test_one_round_trip_per_request(
    private_redis: RedisServer,
) -> None:
    """Each request costs one script call: its writes after the response ride along with the
    next request's call; the last ones go when the store closes."""
    clock = ManualClock()
    app = guarded_on(private_redis, clock, thresholds={"gray": 1.0, "block": 1.0})
    # Hold writes for a minute: every request's writes must then go with the next one's call.
    app.guard.store.primary.hold_writes = 60.0  # type: ignore[attr-defined]
    await call_asgi(app, "/jobs", headers=chrome_headers())  # loads the script (NOSCRIPT)
    requests = 25
    await expose(app, (100000 + n * 13 for n in range(requests)))  # shown to someone
    private_redis.command("CONFIG", "RESETSTAT")
    for n in range(requests):
        clock.advance(7)
        reply = await call_asgi(app, f"/resume/{100000 + n * 13}", headers=chrome_headers())
        assert reply.status == 200
    await app.guard.aclose()
    stats = private_redis.command("INFO", "commandstats")
    calls = {m[0]: int(m[1]) for m in re.findall(r"cmdstat_(\w+):calls=(\d+)", stats)}
    assert calls.get("evalsha") == requests + 1
    assert "script" not in calls  # no reload: the script stays cached


async def test_a_flushed_script_cache_is_reloaded(private_redis: RedisServer) -> None:
    """After SCRIPT FLUSH (a restart, a failover) the store reloads its script and carries on."""
    clock = ManualClock()
    app = guarded_on(private_redis, clock)
    assert (await call_asgi(app, "/resume/100001", headers=chrome_headers())).status == 200
    private_redis.command("SCRIPT", "FLUSH")
    assert (await call_asgi(app, "/resume/100002", headers=chrome_headers())).status == 200
    bot = await call_asgi(app, "/resume/100003", headers={"user-agent": "python-requests/2"})
    assert bot.status == 403
    await app.guard.aclose()
    assert keys(private_redis)


async def test_memory_per_tracked_client_is_under_1_kib(private_redis: RedisServer) -> None:
    """Fifty people reading 20 resumes each: what Redis keeps per person is under 1 KiB.

    MEMORY USAGE over every key, divided by the number of people, with each person in a
    /24 of their own (the worst case: no network state is shared) and the fingerprint
    shared, as one browser build is. Tracked state is what outlives a session: budgets and
    profile. Rate-limit keys expire within seconds of a client's last request (their TTL is
    the time until the limit refills), and the campaign signal's sitewide count of the last
    minute's new record readers within about 75 seconds (one HyperLogLog per quarter
    minute, the same size for a thousand people as for fifty); they are reported, not
    counted. Neither are the sitewide markers of records shown (one small key a record,
    for a day, however many people were shown it), which are reported a key.
    """
    clock = ManualClock()
    app = guarded_on(private_redis, clock)
    rng = random.Random(5)
    people = 50
    for n in range(people):
        statuses = await browse(app, clock, f"10.{n}.{n % 7}.{n + 1}", rng)
        assert set(statuses) == {200}
    await app.guard.aclose()
    tracked = transient = markers = marker_bytes = 0
    for key in keys(private_redis):
        used = private_redis.command("MEMORY", "USAGE", key)
        ttl = int(private_redis.command("PTTL", key) or -2)
        if not used or ttl == -2:
            continue  # expired between the scan and the question
        if ":r:" in key:
            assert ttl <= 60_000
            transient += int(used)
        elif "{global:all}:cr:" in key:
            assert ttl <= 90_000
            transient += int(used)
        elif "{exposure:" in key:
            markers, marker_bytes = markers + 1, marker_bytes + int(used)
        else:
            tracked += int(used)
    print(
        f"redis bytes per person: {tracked / people:.0f} tracked, "
        f"{transient / people:.0f} more in rate-limit keys while active; "
        f"{markers} records shown, {marker_bytes / max(markers, 1):.0f} bytes a record"
    )
    assert markers <= 20 * people
    assert tracked / people < 1024


async def test_held_writes_are_sent_without_a_next_request(private_redis: RedisServer) -> None:
    """With no further requests, a request's writes still reach Redis (on the next turn)."""
    clock = ManualClock()
    app = guarded_on(private_redis, clock, thresholds={"gray": 1.0, "block": 1.0})
    await call_asgi(app, "/resume/100001", headers=chrome_headers(), client=("192.0.2.77", 1))
    deadline = asyncio.get_running_loop().time() + 5
    while not any(":b3600:" in key and "192.0.2.77" in key for key in keys(private_redis)):
        assert asyncio.get_running_loop().time() < deadline, "held writes never arrived"
        await asyncio.sleep(0.01)
    await app.guard.aclose()


async def test_writes_made_while_a_call_is_out_wait_for_the_next_call(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy worker's writes ride with the next call instead of taking one of their own;
    made while no call is out, they go at once (on the next loop turn)."""
    monkeypatch.setattr(redis_store, "BUSY_HOLD", 30.0)  # longer than this test
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        await store.execute([RateHit("busy:warm", 10, 60.0)], T0)  # connects, loads the script
        private_redis.command("CONFIG", "RESETSTAT")
        out = asyncio.ensure_future(store.execute([RateHit("busy:other", 10, 60.0)], T0))
        await asyncio.sleep(0)  # the call is out, its reply not yet in
        await store.write_later([ValuePut("busy:held", ClientProfile(requests=3), 60.0)], T0)
        await out
        await asyncio.sleep(0.05)
        assert evalsha_calls(private_redis) == 1  # the write is still held
        [got] = await store.execute([ValueGet("busy:held", ClientProfile)], T0)
        assert isinstance(got, ClientProfile)
        assert got.requests == 3  # the next call carried it, before its own read
        assert evalsha_calls(private_redis) == 2
        await store.write_later([ValuePut("busy:idle", ClientProfile(requests=4), 60.0)], T0)
        await asyncio.sleep(0.05)
        assert evalsha_calls(private_redis) == 3  # no call out: sent on its own at once
    finally:
        await store.close()


async def counted(store: RedisStore, *ops: DistinctCount) -> list[int]:
    """The counts ``ops`` answer, in one call."""
    results = await store.execute(ops, T0)
    counts = [result for result in results if isinstance(result, int)]
    assert len(counts) == len(ops)
    return counts


async def test_a_large_reserved_set_is_estimated_never_short_and_within_its_error(
    private_redis: RedisServer,
) -> None:
    """Past a thousand members a reserving count comes from the last recount plus the places
    taken since: a few short of the sketch's count plus the places held at most, and at
    most about 1% over it, with a recount only now and then; a member added without a place
    forces a recount."""
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    key, window = "guard:{fingerprint:f00d}:b3600", 3600.0
    rng = random.Random(7)
    await store.execute([DistinctAdd(key, f"m{n}", window) for n in range(1100)], T0)
    private_redis.command("CONFIG", "RESETSTAT")
    for _ in range(600):  # three requests at a time, one in five of them not served
        held = await counted(store, *[DistinctCount(key, window, reserve=True)] * 3)
        [exact] = await counted(store, DistinctCount(key, window))
        for place, count in enumerate(held):
            # The sketch's own count wanders a little with each member, so the estimate may
            # be a few short of it; a place that added nothing counts until the next recount.
            assert exact + place - 4 <= count <= exact * (1 + 1 / 100) + 3 + place
        adds = [
            DistinctAdd(key, None if rng.random() < 0.2 else str(rng.getrandbits(40)), window, True)
            for _ in held
        ]
        await store.execute(adds, T0)
    assert exact > 2300
    assert command_calls(private_redis, "pfcount") < 600 + 1800 / 8  # the plain counts + few
    await store.execute([DistinctAdd(key, str(n), window) for n in range(40)], T0)
    [after] = await counted(store, DistinctCount(key, window, reserve=True))
    [exact] = await counted(store, DistinctCount(key, window))
    assert after == exact
    await store.close()


async def test_a_budget_below_a_thousand_keeps_no_estimate(private_redis: RedisServer) -> None:
    """A check whose limit is at most 1,024 never looks for an estimate; and when a limit
    comes down past a set that had one (a change of config), the estimate goes, so a later,
    higher limit cannot read one that missed the places taken meanwhile."""
    key, window = "guard:{ip:198.51.100.4}:b3600", 3600.0
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        private_redis.command("CONFIG", "RESETSTAT")
        for n in range(5):
            await store.execute([DistinctCount(key, window, reserve=True, limit=400)], T0)
            await store.execute([DistinctAdd(key, str(n), window, release=True)], T0)
        assert command_calls(private_redis, "hmget") == 0
    finally:
        await store.close()
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        await store.execute([DistinctAdd(key, f"m{n}", window) for n in range(1100)], T0)
        await counted(store, DistinctCount(key, window, reserve=True))
        assert private_redis.command("EXISTS", f"{key}:n") == "1"
        [refused] = await counted(store, DistinctCount(key, window, reserve=True, limit=400))
        assert refused > 1000
        assert private_redis.command("EXISTS", f"{key}:n") == "0"
    finally:
        await store.close()


async def test_the_python_encoder_serves_the_same_calls(private_redis: RedisServer) -> None:
    """Without the compiled encoder (not built, or GUARD_NATIVE=0) the store frames its
    calls in Python, and Redis answers them alike: rate steps, reserved places, a record
    added, a value kept, and steps ahead given back on close."""
    lean = RedisStore.from_url(f"{private_redis.url}?timeout=1").client
    store = RedisStore(lean, 1.0, native=False)
    key, budget = "guard:{ip:192.0.2.7}:r:sensitive", "guard:{ip:192.0.2.7}:b3600"
    try:
        for left in (99, 98, 97, 96, 95):  # the third takes steps ahead: still one a hit
            [state] = await store.execute([RateHit(key, 100, 60.0)], T0)
            assert isinstance(state, RateState)
            assert state.remaining == left
        assert await store.execute([DistinctCount(budget, 3600.0, True, 120)], T0) == [0]
        await store.execute([DistinctAdd(budget, "100001", 3600.0, release=True)], T0)
        await store.execute([ValuePut("guard:{client:ab}:p", ClientProfile(requests=2), 60.0)], T0)
        [profile] = await store.execute([ValueGet("guard:{client:ab}:p", ClientProfile)], T0)
        assert isinstance(profile, ClientProfile)
        assert profile.requests == 2
        assert await store.execute([DistinctCount(budget, 3600.0)], T0) == [1]
    finally:
        await store.close()
    stored = float(private_redis.command("GET", key))
    assert stored == pytest.approx(T0 + 5 * 0.6)  # the block's unused steps went back


async def test_a_reply_in_by_the_time_a_busy_loop_reaches_its_deadline_counts_on_redis_py(
    private_redis: RedisServer,
) -> None:
    """On redis-py's clients (a cluster's path) a script call answered while the event loop
    was busy past its deadline gets its reply, as on the pipelined connection: under
    asyncio.timeout it failed, and three such calls in a row opened the circuit."""
    client = Redis(
        host="127.0.0.1",
        port=private_redis.port,
        single_connection_client=True,
        retry=Retry(NoBackoff(), 0),
    )
    store = RedisStore(client, 0.5)  # the loop cannot reach it before it is blocked
    key = "guard:{ip:192.0.2.9}:r:sensitive"
    loop = asyncio.get_running_loop()
    assert private_redis.pid is not None
    try:
        await store.execute([RateHit(key, 100, 60.0)], T0)  # connected, script loaded
        os.kill(private_redis.pid, signal.SIGSTOP)  # the call waits, however slow this is
        due = loop.time() + 0.5
        call = asyncio.ensure_future(store.execute([RateHit(key, 100, 60.0)], T0))
        for _ in range(5):
            await asyncio.sleep(0)  # the call goes out and waits
        assert not call.done()
        # From here the loop is busy until the reply is in and the deadline has passed.
        os.kill(private_redis.pid, signal.SIGCONT)
        assert client.connection is not None
        sock = client.connection._writer.transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert select.select([sock], [], [], 10)[0]
        time.sleep(max(0.0, due - loop.time()) + 0.02)  # noqa: ASYNC251 - a busy loop, on purpose
        [state] = await call
        assert isinstance(state, RateState)
        assert state.remaining == 98
    finally:
        os.kill(private_redis.pid, signal.SIGCONT)
        await store.close()
