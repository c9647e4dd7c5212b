"""A full Redis: writes refused (``noeviction``) or keys evicted. The guard serves without a
5xx, counts OOM failures by kind, and reports evictions and memory use in its metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.crc import key_slot

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.errors import StorageError
from guard.store import MemoryStore
from guard.store.base import RateHit, RateState, ValuePut, actor_key
from guard.store.redis import RedisStore
from guard.testing import call_asgi, chrome_headers
from guard.testing.redis import RedisClusterProcess, RedisReplyError, RedisServer
from tests.conftest import SECRET
from tests.store.commandstats import evalsha_calls

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0
FILLER = b"x" * 8 * 1024  # small: a big value's own buffer would count towards the limit


def fill(server: RedisServer) -> None:
    """Write filler values until the server refuses a write for want of memory."""
    for n in range(4096):
        try:
            server.call("SET", f"filler:{n}", FILLER)
        except RedisReplyError as exc:
            if not str(exc).startswith("OOM"):
                raise
            return
    raise AssertionError("the server never filled")


async def test_a_full_redis_refusing_writes_is_an_oom_failure() -> None:
    """With noeviction and maxmemory reached, a store call fails as StorageError kind oom."""
    extra = ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]
    with RedisServer(extra_args=extra) as server:
        fill(server)
        store = RedisStore.from_url(f"{server.url}?timeout=1")
        try:
            with pytest.raises(StorageError) as caught:
                await store.execute([RateHit(actor_key("t", "ip", "1", "r"), 30, 60.0)], T0)
        finally:
            await store.close()
    assert caught.value.kind == "oom"


async def test_the_guard_serves_through_a_full_redis_and_counts_it() -> None:
    """Requests through a guard on a full Redis get no 5xx (it judges from its stand-in);
    guard_store_failures counts them as oom, and the store's memory use shows."""
    extra = ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]
    with RedisServer(extra_args=extra) as server:
        fill(server)
        config = demo_config({"secret": SECRET, "store": f"{server.url}?timeout=1"})
        app = GuardMiddleware(create_demo_app(100), config)
        try:
            statuses = [
                (await call_asgi(app, f"/resume/{100000 + n}", headers=chrome_headers())).status
                for n in range(5)
            ]
            await app.guard.store_watch.read(T0)
            metrics = app.guard.metrics.render().decode()
        finally:
            await app.guard.aclose()
    assert all(status < 500 for status in statuses), statuses
    assert 'guard_store_failures_total{kind="oom"}' in metrics
    ratio = next(line for line in metrics.splitlines() if line.startswith("guard_store_memory"))
    assert float(ratio.split()[-1]) > 0.9


async def test_evictions_show_in_the_stats_of_every_store() -> None:
    """A Redis evicting for room and a memory store past its budget both report evicted
    keys, memory in use and their limit."""
    extra = ["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"]
    with RedisServer(extra_args=extra) as server:
        for n in range(1024):
            server.call("SET", f"filler:{n}", FILLER)
        store = RedisStore.from_url(f"{server.url}?timeout=1")
        try:
            stats = await store.stats()
        finally:
            await store.close()
    assert stats["evicted_keys"] > 0
    assert stats["maxmemory"] == 2 * 2**20
    assert 0 < stats["used_memory"] <= stats["maxmemory"] * 1.1
    memory = MemoryStore(max_weight=16)
    await memory.execute([ValuePut(f"k{n}", _Blob(), 60.0) for n in range(40)], T0)
    mine = await memory.stats()
    assert mine["evicted_keys"] == 24
    assert mine["used_memory"] <= mine["maxmemory"]


async def test_cluster_stats_add_up_the_masters(redis_cluster: RedisClusterProcess) -> None:
    """On a cluster the statistics are the masters' together."""
    store = RedisStore.from_url(f"{redis_cluster.url}?timeout=1")
    try:
        stats = await store.stats()
    finally:
        await store.close()
    used = sum(int(node.info("memory")["used_memory"]) for node in redis_cluster.nodes)
    assert stats["used_memory"] == pytest.approx(used, rel=0.2)
    assert stats["evicted_keys"] == 0


async def test_a_dead_redis_has_no_stats() -> None:
    """Statistics of a store that cannot be reached fail as a StorageError, not otherwise."""
    store = RedisStore.from_url("redis://127.0.0.1:9?timeout=0.05&connect_timeout=0.05")
    try:
        with pytest.raises(StorageError):
            await asyncio.wait_for(store.stats(), 10)
    finally:
        await store.close()


class _Blob:
    """A value of one unit."""

    def pack(self) -> bytes:
        return b"1"

    @classmethod
    def unpack(cls, data: bytes) -> _Blob:
        return cls()


async def test_a_connection_redis_py_loses_mid_call_is_a_storage_error(
    redis_cluster: RedisClusterProcess,
) -> None:
    """redis-py's cluster client can report a connection closed under a call as an
    AttributeError of the transport's (redis/redis-py#4287): the store reports a lost
    connection, so the failure policy decides, and the next call goes through."""
    store = RedisStore.from_url(f"{redis_cluster.url}?timeout=1")
    key = "guard:{ip:192.0.2.1}:r:sensitive"
    try:
        await store.execute([RateHit(key, 10, 60.0)], T0)
        client: Any = store.client
        execute = client.execute_command
        failures = [AttributeError("'NoneType' object has no attribute 'writelines'")]

        async def closing(*args: Any, **options: Any) -> Any:
            if failures and args[0] == "EVALSHA":
                raise failures.pop()
            return await execute(*args, **options)

        client.execute_command = closing
        with pytest.raises(StorageError) as lost:
            await store.execute([RateHit(key, 10, 60.0)], T0)
        assert lost.value.kind == "connection"
        [state] = await store.execute([RateHit(key, 10, 60.0)], T0)
        assert isinstance(state, RateState)
        assert state.remaining == 8
    finally:
        await store.close()


async def test_a_batch_on_a_cluster_is_one_script_call_per_node(
    redis_cluster: RedisClusterProcess,
) -> None:
    """A script reaches every slot its node holds: a batch over 30 actors, whose slots are
    spread over all three masters, makes one script call on each, and every op's result
    comes back in its place."""
    store = RedisStore.from_url(f"{redis_cluster.url}?timeout=1")
    keys = [f"guard:{{ip:198.51.100.{n}}}:r:sensitive" for n in range(30)]
    try:
        await store.execute([RateHit(keys[0], 10, 60.0)], T0)  # the slots learnt
        before = [evalsha_calls(node) for node in redis_cluster.nodes]
        results = await store.execute([RateHit(key, 10, 60.0) for key in keys], T0)
        after = [evalsha_calls(node) for node in redis_cluster.nodes]
    finally:
        await store.close()
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]
    remaining = [result.remaining for result in results if isinstance(result, RateState)]
    assert remaining == [8] + [9] * 29


async def test_a_script_that_finds_a_slot_moved_makes_the_store_learn_the_slots_again(
    redis_cluster: RedisClusterProcess,
) -> None:
    """After a resharding the client's map of slots is stale. redis-py follows the
    redirection of a call's declared key only; a script that reaches for another key the
    node no longer holds fails the call, and the next call learns the slots again."""
    store = RedisStore.from_url(f"{redis_cluster.url}?timeout=1")
    keys = [f"guard:{{ip:203.0.113.{n}}}:r:sensitive" for n in range(30)]
    try:
        await store.execute([RateHit(keys[0], 10, 60.0)], T0)  # the slots learnt
        client: Any = store.client
        slots = client.nodes_manager.slots_cache
        moved = keys[1]
        holder = slots[key_slot(moved.encode())][0]
        # A key of another node goes first (so the call is routed there), then the "moved" key.
        first = next(k for k in keys[2:] if slots[key_slot(k.encode())][0].name != holder.name)
        slots[key_slot(moved.encode())] = list(slots[key_slot(first.encode())])  # stale
        batch = [RateHit(first, 10, 60.0), RateHit(moved, 10, 60.0)]
        with pytest.raises(StorageError, match="non local key"):
            await store.execute(batch, T0)
        _, state = await store.execute(batch, T0)
        assert isinstance(state, RateState)
        assert state.remaining == 9  # its first hit: the failed call did not reach it
        [relearnt] = client.nodes_manager.slots_cache[key_slot(moved.encode())][:1]
        assert relearnt.name == holder.name
    finally:
        await store.close()


async def test_a_connection_redis_py_loses_under_an_admin_call_is_a_storage_error(
    redis_cluster: RedisClusterProcess,
) -> None:
    """An erasure or a metrics read that meets redis-py's leaked AttributeError reports a
    lost connection (the admin endpoints answer it), as a script call does."""
    store = RedisStore.from_url(f"{redis_cluster.url}?timeout=1")
    try:
        await store.execute([RateHit("guard:{ip:192.0.2.77}:r:sensitive", 10, 60.0)], T0)
        client: Any = store.client
        execute = client.execute_command

        async def closing(*args: Any, **options: Any) -> Any:
            if args[0] in ("CLUSTER GETKEYSINSLOT", "INFO"):
                raise AttributeError("'NoneType' object has no attribute 'writelines'")
            return await execute(*args, **options)

        client.execute_command = closing
        with pytest.raises(StorageError) as erasing:
            await store.forget("guard:{ip:192.0.2.77}:")
        with pytest.raises(StorageError) as reading:
            await store.stats()
        assert erasing.value.kind == reading.value.kind == "connection"
    finally:
        await store.close()
