"""Where a guarded request's Redis CPU goes: the batch script's commands, and its Lua.

Records the script calls that ``hot_path.py``'s workload makes (Chrome reading random
resumes as one of 10,000 clients, 16 requests in flight, ``bench.toml``: every check runs,
nothing is refused), then replays them one after another on a throwaway ``redis-server``,
each variant from an empty database after the same warm-up, ``ROUNDS`` (5) times interleaved
(the best of each kept):

- ``shipped``: the script as it ships. Redis CPU a call (``INFO commandstats``), and the
  commands it runs, by kind;
- ``lua_only``: the same script with every ``redis.call`` answered in Lua, without Redis:
  what decoding the argument, the per-operation logic and encoding the reply cost alone;
- ``floor``: a script that returns at once, on the same calls: what any script call costs
  Redis (the command, its keys and its argument handed to Lua);
- ``decode``: a script that only decodes the argument (MessagePack) and returns;
- ``without_<family>``: the shipped script on the same calls with one family of operations
  taken out (harvest budgets, rate limits, per-client values, the sitewide campaign reads):
  what that family costs.

A replay is one client sending one call at a time, so its figures are a little lower than
the live run's (``hot_path.py`` reports those); the shares are what this is for.

Run: ``make bench-redis-cost`` or ``.venv/bin/python benchmarks/redis_cost.py
[--requests N]``. Results go to ``benchmarks/results/redis_cost.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgpack
from hot_path import CONFIG, IN_FLIGHT, drive, instant_app, workload
from redis import Redis

from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.store.redis import SCRIPT, RedisStore
from guard.testing.redis import RedisServer
from guard.types import Scope

HERE = Path(__file__).resolve().parent
ROUNDS = 5
FAMILIES = ("budgets", "rates", "values", "campaign")
WARM_SHARE = 4
"""The first quarter of the calls fills the database before each measured replay."""
Call = tuple[list[bytes], bytes]
"""One recorded script call: its KEYS and its one MessagePack argument."""
_FIELDS = {b"R": 6, b"S": 6, b"C": 7, b"A": 7, b"F": 4, b"G": 3, b"P": 5}
"""How many array items each operation takes in the argument, its code included."""
FLOOR = "return 0"
DECODE = "local ops = cmsgpack.unpack(ARGV[1]) return 0"
_STUB = """local function stub(command, key, by)
  if command == 'GET' then return false end
  if command == 'HMGET' then return {false, false, false} end
  if command == 'EXISTS' or command == 'PFCOUNT' then return 0 end
  if command == 'DECRBY' or command == 'HINCRBY' then return 0 end
  if command == 'INCR' or command == 'PFADD' then return 1 end
  if command == 'INCRBY' then return by end
  return 'OK'
end
"""


def lua_only(script: str) -> str:
    """``script`` with each ``redis.call`` answered by a stub in Lua."""
    return _STUB + script.replace("redis.call(", "stub(")


def family(code: bytes, key_start: bytes) -> str:
    """Which family an operation belongs to, by its code and key."""
    if b"{global:" in key_start:
        return "campaign"
    if code in (b"R", b"S"):
        return "rates"
    if code in (b"C", b"A", b"F"):
        return "budgets"
    return "values"


def without(calls: Sequence[Call], name: str) -> list[Call]:
    """``calls`` with every operation of family ``name`` taken out."""
    kept: list[Call] = []
    for keys, packed in calls:
        items = msgpack.unpackb(packed, raw=True)
        out, i = [items[0]], 1
        while i < len(items):
            size = _FIELDS[items[i]]
            op = items[i : i + size]
            if family(op[0], keys[op[1] - 1]) != name:
                out += op
            i += size
        kept.append((keys, msgpack.packb(out, use_bin_type=False)))
    return kept


def record(url: str, scopes: Sequence[Scope]) -> list[Call]:
    """The script calls a guard on ``url`` makes for ``scopes``, IN_FLIGHT at a time."""
    calls: list[Call] = []

    async def run() -> None:
        app = GuardMiddleware(instant_app, demo_config({"store": url}, path=CONFIG))
        store = redis_store(app.guard.store)
        command_of = store._command_of

        def noting(items: Any, now: float) -> bytes:
            keys, packed = store._encode(items, now)
            calls.append(([key.encode() for key in keys], packed))
            framed: bytes = command_of(items, now)
            return framed

        store._command_of = noting
        try:
            await drive(app, scopes, IN_FLIGHT)
        finally:
            await app.guard.aclose()

    asyncio.run(run())
    return calls


def redis_store(store: Any) -> RedisStore:
    """The Redis store under the guard's wrappers (the resilient store's primary)."""
    while not isinstance(store, RedisStore):
        store = store.primary
    return store


def replay(client: Redis, script: str, calls: Sequence[Call]) -> dict[str, Any]:
    """Redis CPU a call for ``calls`` run by ``script``, with the commands inside by kind."""
    client.flushall()
    sha = client.script_load(script)
    warm = len(calls) // WARM_SHARE
    for keys, packed in calls[:warm]:
        client.evalsha(sha, len(keys), *keys, packed)
    client.config_resetstat()
    for keys, packed in calls[warm:]:
        client.evalsha(sha, len(keys), *keys, packed)
    measured = len(calls) - warm
    stats: dict[str, Any] = client.info("commandstats")
    evalsha_stat = stats.pop("cmdstat_evalsha")
    stats.pop("cmdstat_config|resetstat", None)
    inside = {
        name.removeprefix("cmdstat_"): stat["usec"] / measured for name, stat in stats.items()
    }
    return {
        "us_per_call": round(evalsha_stat["usec"] / measured, 1),
        "commands_us": round(sum(inside.values()), 1),
        "commands_per_call": round(sum(stat["calls"] for stat in stats.values()) / measured, 1),
        "inside_us": {
            name: round(us, 2) for name, us in sorted(inside.items(), key=lambda x: -x[1])
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Record, replay every variant ROUNDS times interleaved, and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12_000)
    args = parser.parse_args(argv)
    scopes = workload(args.requests)
    with RedisServer() as server:
        calls = record(f"{server.url}?timeout=1", scopes)
        prepared: dict[str, tuple[str, Sequence[Call]]] = {
            "shipped": (SCRIPT, calls),
            "lua_only": (lua_only(SCRIPT), calls),
            "floor": (FLOOR, calls),
            "decode": (DECODE, calls),
            **{f"without_{name}": (SCRIPT, without(calls, name)) for name in FAMILIES},
        }
        client = Redis(host="127.0.0.1", port=server.port)
        best: dict[str, dict[str, Any]] = {}
        for _ in range(ROUNDS):
            for name, (script, replayed) in prepared.items():
                run = replay(client, script, replayed)
                if name not in best or run["us_per_call"] < best[name]["us_per_call"]:
                    best[name] = run
        client.close()
    per_request = len(calls) / len(scopes)
    shipped = best["shipped"]["us_per_call"]
    result: dict[str, Any] = {
        "requests": len(scopes),
        "script_calls_per_request": round(per_request, 2),
        "rounds": ROUNDS,
        "variants": best,
        "share_of_shipped": {
            "lua_alone": round(best["lua_only"]["us_per_call"] / shipped, 2),
            "call_floor": round(best["floor"]["us_per_call"] / shipped, 2),
            "decode": round(
                (best["decode"]["us_per_call"] - best["floor"]["us_per_call"]) / shipped, 2
            ),
            **{
                name: round(1 - best[f"without_{name}"]["us_per_call"] / shipped, 2)
                for name in FAMILIES
            },
        },
        "python_version": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    (HERE / "results" / "redis_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
