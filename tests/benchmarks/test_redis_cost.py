"""benchmarks/redis_cost.py on a few hundred requests: it records real script calls, takes
out exactly one family of operations, and its Lua-only, floor and decode scripts run no
command. It checks the benchmark works, not any timing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgpack
import pytest
from redis import Redis

from guard.store.redis import SCRIPT
from guard.testing.redis import RedisServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
redis_cost: Any = pytest.importorskip("redis_cost")
hot_path: Any = pytest.importorskip("hot_path")


def families(call: tuple[list[bytes], bytes]) -> set[str]:
    """The families of the operations in one recorded call."""
    keys, packed = call
    items = msgpack.unpackb(packed, raw=True)
    found, i = set(), 1
    while i < len(items):
        found.add(redis_cost.family(items[i], keys[items[i + 1] - 1]))
        i += redis_cost._FIELDS[items[i]]
    return found


def test_recorded_calls_replay_and_split_by_family() -> None:
    """300 requests give a call each (held writes ride along, or go alone while the machine
    is slow), with every family in them; taking a family out leaves the others; the shipped
    script runs commands and the Lua-only one none."""
    with RedisServer() as server:
        calls = redis_cost.record(f"{server.url}?timeout=1", hot_path.workload(300))
        assert 300 <= len(calls) <= 2 * 300 + 1  # each request's, and some of held writes
        seen = set().union(*(families(call) for call in calls))
        assert seen == set(redis_cost.FAMILIES)
        for name in redis_cost.FAMILIES:
            rest = set().union(*(families(call) for call in redis_cost.without(calls, name)))
            assert rest == seen - {name}
        client = Redis(host="127.0.0.1", port=server.port)
        shipped = redis_cost.replay(client, SCRIPT, calls)
        alone = redis_cost.replay(client, redis_cost.lua_only(SCRIPT), calls)
        floor = redis_cost.replay(client, redis_cost.FLOOR, calls)
        decode = redis_cost.replay(client, redis_cost.DECODE, calls)
        client.close()
    assert shipped["commands_per_call"] > 20
    assert shipped["us_per_call"] > 0
    assert alone["commands_per_call"] == 0
    assert floor["commands_per_call"] == decode["commands_per_call"] == 0
