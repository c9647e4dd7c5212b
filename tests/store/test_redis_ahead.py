"""Budget places a worker takes ahead on Redis (guard/store/redis.py, lua/batch.lua 'C', 'F').

Far below its limit, a check of a budget this worker checks in quick succession takes
several places at once, and the worker answers its next checks of that budget from them;
other checks, and every check near the limit, take one place each. What
must hold: no more members get past a limit than with one place a check, whatever the
workers' interleaving, and no place is kept: unused ones go back after their time, on
close, and on an erasure.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from guard.store import redis as redis_store
from guard.store.base import DistinctAdd, DistinctCount
from guard.store.redis import RedisStore
from guard.testing.redis import RedisServer
from tests.store.commandstats import evalsha_calls

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0
KEY, WINDOW = "guard:{ip:198.51.100.9}:b3600", 3600.0
BLOCK, MARGIN = 8, 32
"""What lua/batch.lua takes at once, and how far below the limit it must be to."""


def check(limit: int | None = 120, key: str = KEY) -> DistinctCount:
    return DistinctCount(key, WINDOW, reserve=True, limit=limit)


def places(server: RedisServer, key: str = KEY) -> int:
    """The in-flight places Redis holds on ``key``'s budget."""
    return int(server.command("GET", f"{key}:f") or 0)


async def answer(store: RedisStore, op: DistinctCount) -> int:
    [count] = await store.execute([op], T0)
    assert isinstance(count, int)
    return count


async def test_far_below_the_limit_next_checks_are_answered_without_asking(
    private_redis: RedisServer,
) -> None:
    """A budget checked here in quick succession takes BLOCK places at its third check; the
    worker's next BLOCK - 1 checks of it are answered from them with the counts one place a
    check would have given, and no script call."""
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        assert [await answer(store, check()) for _ in range(2)] == [0, 1]  # one place each
        assert places(private_redis) == 2
        assert await answer(store, check()) == 2  # a brisk run: a block
        assert places(private_redis) == 2 + BLOCK
        private_redis.command("CONFIG", "RESETSTAT")
        assert [await answer(store, check()) for _ in range(BLOCK - 1)] == list(range(3, 10))
        assert evalsha_calls(private_redis) == 0
        assert await answer(store, check()) == 2 + BLOCK  # used up: Redis again
        assert evalsha_calls(private_redis) == 1
    finally:
        await store.close()


async def test_a_slow_reader_takes_one_place_a_check(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks further apart than a block's places could be used in take one place each:
    places taken ahead would only go back unused."""
    monkeypatch.setattr(redis_store, "AHEAD_SECONDS", 0.2)
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        for n in range(5):
            assert await answer(store, check()) == n
            assert places(private_redis) == n + 1
            await asyncio.sleep(0.15)  # within the run, at a pace that would not use them
    finally:
        await store.close()


async def test_a_steady_reader_keeps_taking_places_ahead(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five checks a second for a minute (on the store's clock): every check counts toward
    the pace, those answered from places held too, so blocks keep coming: a script call for
    about every BLOCK checks, not one a check."""
    moment = [1000.0]
    monkeypatch.setattr(redis_store, "monotonic", lambda: moment[0])
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        private_redis.command("CONFIG", "RESETSTAT")
        for n in range(300):
            assert await answer(store, check(10**6)) == n
            moment[0] += 0.2
        assert evalsha_calls(private_redis) <= 300 / BLOCK + 5  # the first two, and close
    finally:
        await store.close()


async def test_without_a_limit_or_near_it_each_check_takes_one_place(
    private_redis: RedisServer,
) -> None:
    """A check that names no limit, or whose count is within MARGIN of it, takes one place
    and asks Redis every time."""
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        assert [await answer(store, check(None)) for _ in range(3)] == [0, 1, 2]
        assert places(private_redis) == 3
        other, limit = "guard:{ip:198.51.100.10}:b3600", MARGIN + 3
        assert [await answer(store, check(limit, other)) for _ in range(10)] == list(range(10))
        private_redis.command("CONFIG", "RESETSTAT")
        assert [await answer(store, check(limit, other)) for _ in range(3)] == [10, 11, 12]
        assert evalsha_calls(private_redis) == 3  # within MARGIN of the limit: one at a time
        assert places(private_redis, other) == 2 + BLOCK + 3
    finally:
        await store.close()


async def test_places_left_go_back_after_their_time(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unused places are given back once their time is up, with no further request; the
    places of checks still being served stay until their own writes give them back."""
    monkeypatch.setattr(redis_store, "AHEAD_SECONDS", 0.5)
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        for _ in range(3):
            await answer(store, check())  # three requests in flight, seven places unused
        assert places(private_redis) == 2 + BLOCK
        deadline = asyncio.get_running_loop().time() + 5
        while places(private_redis) != 3:
            assert asyncio.get_running_loop().time() < deadline, "unused places never went back"
            await asyncio.sleep(0.02)
        served = [DistinctAdd(KEY, str(n), WINDOW, release=True) for n in (1, 2, 3)]
        await store.execute(served, T0)
        assert private_redis.command("EXISTS", f"{KEY}:f") == "0"
        private_redis.command("CONFIG", "RESETSTAT")
        assert await answer(store, check()) == 3  # past their time: Redis answers again
        assert evalsha_calls(private_redis) == 1
    finally:
        await store.close()


async def test_close_and_erasure_give_places_back(private_redis: RedisServer) -> None:
    """Closing a store gives back what it held ahead; so does forgetting the actor, after
    which its next check starts from nothing, its run of checks too."""
    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    for _ in range(3):
        await answer(store, check())
    await store.execute([DistinctAdd(KEY, str(n), WINDOW, release=True) for n in (1, 2, 3)], T0)
    assert places(private_redis) == BLOCK - 1
    await store.close()
    assert private_redis.command("EXISTS", f"{KEY}:f") == "0"

    store = RedisStore.from_url(f"{private_redis.url}?timeout=1")
    try:
        for _ in range(3):
            await answer(store, check())
        assert await store.forget("guard:{ip:198.51.100.9}:") >= 2
        private_redis.command("CONFIG", "RESETSTAT")
        assert await answer(store, check()) == 0  # asked Redis: nothing is left of the actor
        assert evalsha_calls(private_redis) == 1
        assert places(private_redis) == 1  # and its run of checks starts again
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["redis", "cluster"])
async def test_workers_together_serve_no_more_than_the_limit(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Three workers, each with eight requests in flight, read new records of one budget
    until it refuses: no more than the limit between them (beyond what the sketch itself
    misses), and once they have closed, giving back what they held, a newcomer's check
    finds no place held. (Fewer than the limit may be served: places a worker still held
    when its readers stopped turned others away.)"""
    url = request.getfixturevalue("private_redis" if backend == "redis" else "redis_cluster").url
    key = f"guard:{{ip:198.51.100.{random.randrange(256)}}}:b{random.getrandbits(32)}"
    limit = 150
    workers = [RedisStore.from_url(f"{url}?timeout=1") for _ in range(3)]
    served: list[str] = []
    rng = random.Random(5)

    async def reader(store: RedisStore, name: str) -> None:
        for n in range(60):
            [taken] = await store.execute([check(limit, key)], T0)
            assert isinstance(taken, int)
            member = f"{name}-{n}" if taken < limit else None
            if member is not None:
                served.append(member)
            await asyncio.sleep(rng.random() * 0.002)  # the app serving it, or not
            await store.write_later([DistinctAdd(key, member, WINDOW, release=True)], T0)

    try:
        await asyncio.gather(
            *(reader(store, f"w{w}r{r}") for w, store in enumerate(workers) for r in range(8))
        )
    finally:
        for store in workers:
            await store.close()
    newcomer = RedisStore.from_url(f"{url}?timeout=1")
    try:
        [count] = await newcomer.execute([DistinctCount(key, WINDOW)], T0)
        assert isinstance(count, int)
        missed = max(len(served) - count, 0)  # members the sketch's estimate lost
        assert limit / 2 < len(served) <= limit + missed
        assert await answer(newcomer, check(limit, key)) == count  # nothing left held
    finally:
        await newcomer.close()
