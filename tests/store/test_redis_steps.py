"""Rate-limit steps a worker takes ahead on Redis (guard/store/redis.py, lua/batch.lua 'R'
with a negative cost, and 'S').

A limit this worker hits in quick succession takes several GCRA steps at once while at
least MARGIN would be left after them, and the worker answers its next hits of that limit
itself, as one step a hit would have. What must hold: the answers are the ones one step a
hit gives, no more hits pass a limit between workers than it allows, and no step is kept:
unused ones go back after their time, on close and on an erasure.
"""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from guard.store import redis as redis_store
from guard.store.base import RateHit, RateState
from guard.store.memory import MemoryStore
from guard.store.redis import STEP_BLOCK, RedisStore
from guard.testing.redis import RedisServer
from tests.store.commandstats import evalsha_calls

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0
KEY = "guard:{network:198.51.100.0/24}:r:sensitive"
MARGIN = 32
"""How many steps lua/batch.lua leaves after a block at least."""


async def hit(store: RedisStore | MemoryStore, op: RateHit, now: float) -> RateState:
    [state] = await store.execute([op], now)
    assert isinstance(state, RateState)
    return state


def remaining_in_redis(server: RedisServer, limit: int, period: float, now: float) -> int:
    """What one more step would leave of the limit, read from Redis's own time."""
    stored = server.command("GET", KEY)
    interval = period / limit
    tat = max(float(stored), now) if stored else now
    return math.floor((period - (tat + interval - now)) / interval + 1e-9)


async def test_hits_are_answered_as_one_step_a_hit_would(private_redis: RedisServer) -> None:
    """A brisk run of hits, far from the limit and then up to it and past it: the same
    answers as the memory store's one step a hit, with far fewer script calls."""
    redis = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    memory = MemoryStore()
    op = RateHit(KEY, 120, 60.0)
    try:
        await hit(redis, RateHit("guard:{ip:192.0.2.1}:r:warm", 10, 60.0), T0)  # loads the script
        private_redis.command("CONFIG", "RESETSTAT")
        now = T0
        for n in range(160):
            now += 0.01 if n % 7 else 0.6  # now and then a pause that refills a step
            ours, expected = await hit(redis, op, now), await hit(memory, op, now)
            assert ours.allowed == expected.allowed, n
            assert ours.remaining == expected.remaining, n
            assert ours.reset_after == pytest.approx(expected.reset_after, abs=1e-6), n
            assert ours.retry_after == pytest.approx(expected.retry_after, abs=1e-6), n
        assert not expected.allowed  # the run went past the limit
        assert evalsha_calls(private_redis) < 80  # 69: blocks far from the limit, one a hit near it
    finally:
        await redis.close()
        await memory.close()


async def test_a_limit_hit_now_and_then_takes_one_step_a_hit(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hits further apart than a block's steps could be used in ask Redis every time."""
    moment = [1000.0]
    monkeypatch.setattr(redis_store, "monotonic", lambda: moment[0])
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        await hit(store, RateHit("guard:{ip:192.0.2.1}:r:warm", 10, 60.0), T0)  # loads the script
        private_redis.command("CONFIG", "RESETSTAT")
        for n in range(6):
            state = await hit(store, RateHit(KEY, 1000, 3600.0), T0)
            assert state.remaining == 999 - n
            assert remaining_in_redis(private_redis, 1000, 3600.0, T0) == 998 - n
            moment[0] += 1.5
        assert evalsha_calls(private_redis) == 6
    finally:
        await store.close()


async def test_unused_steps_go_back_after_their_time(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block's unused steps are given back once their time is up, with no further hit:
    Redis then holds the limit as if every hit had taken its own step."""
    monkeypatch.setattr(redis_store, "AHEAD_SECONDS", 0.3)
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        for _ in range(5):  # the third takes a block; two of its steps are used
            await hit(store, RateHit(KEY, 1000, 3600.0), T0)
        assert remaining_in_redis(private_redis, 1000, 3600.0, T0) == 1000 - 2 - STEP_BLOCK - 1
        deadline = asyncio.get_running_loop().time() + 5
        while remaining_in_redis(private_redis, 1000, 3600.0, T0) != 1000 - 5 - 1:
            assert asyncio.get_running_loop().time() < deadline, "unused steps never went back"
            await asyncio.sleep(0.02)
    finally:
        await store.close()


async def test_close_and_erasure_give_steps_back(private_redis: RedisServer) -> None:
    """Closing a store gives back the steps it held; forgetting the actor does too, and
    its next hit starts from a full limit."""
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    for _ in range(4):
        await hit(store, RateHit(KEY, 1000, 3600.0), T0)
    await store.close()
    assert remaining_in_redis(private_redis, 1000, 3600.0, T0) == 1000 - 4 - 1

    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        for _ in range(4):
            await hit(store, RateHit(KEY, 1000, 3600.0), T0)
        assert await store.forget("guard:{network:198.51.100.0/24}:") >= 1
        assert (await hit(store, RateHit(KEY, 1000, 3600.0), T0)).remaining == 999
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["redis", "cluster"])
async def test_workers_together_pass_no_more_hits_than_the_limit(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Three workers, eight hits in flight each, on one limit until it refuses: no more
    hits allowed than it holds, hardly fewer (a worker may still hold a few unused steps
    when the others reach the limit), and once they close, Redis holds it as spent by the
    allowed hits alone."""
    url = request.getfixturevalue("private_redis" if backend == "redis" else "redis_cluster").url
    key = f"guard:{{network:198.51.{random.randrange(256)}.0/24}}:r:{random.getrandbits(32)}"
    limit, period = 150, 36_000.0
    workers = [RedisStore.from_url(f"{url}?timeout=1") for _ in range(3)]
    allowed: list[bool] = []
    rng = random.Random(7)

    async def hitter(store: RedisStore) -> None:
        for _ in range(30):
            [state] = await store.execute([RateHit(key, limit, period)], T0)
            assert isinstance(state, RateState)
            allowed.append(state.allowed)
            await asyncio.sleep(rng.random() * 0.002)

    try:
        await asyncio.gather(*(hitter(store) for store in workers for _ in range(8)))
    finally:
        for store in workers:
            await store.close()
    passed = sum(allowed)
    assert limit - 3 * (STEP_BLOCK - 1) <= passed <= limit
    probe = RedisStore.from_url(f"{url}?timeout=1")
    try:
        [state] = await probe.execute([RateHit(key, limit, period)], T0)
        assert isinstance(state, RateState)
        assert state.allowed == (passed < limit)
        assert state.remaining == max(limit - passed - 1, 0)
    finally:
        await probe.close()
