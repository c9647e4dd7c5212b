"""What a full Redis does to budgets: ``maxmemory`` with each eviction policy, under a spray.

For each policy a fresh ``redis-server`` on a free port with ``--maxmemory`` (8 MB by
default) takes a spray through ``GuardMiddleware`` (``bench.toml``: every check runs,
nothing refused): every request from a new address in a /24 of its own, reading a record,
enough to fill the memory several times over. Beside it a harvester, one address, reads two
records and then one every ``--harvest-every`` requests.

For each policy: the harvester's hourly budget as Redis counts it against the records it
read (what eviction made the guard forget), keys evicted and OOM errors (``INFO stats``,
``INFO errorstats``), the share of requests the guard judged from its per-process stand-in
because Redis refused a write, and 5xx answers (there must be none).

Run: ``make bench-eviction`` or ``.venv/bin/python benchmarks/eviction.py [--addresses N]
[--maxmemory 8mb] [--policies a,b]``. Results go to ``benchmarks/results/eviction.json``
and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hot_path import CONFIG, instant_app, receive
from memory_bound import FIRST_ID, HARVESTER, RECORDS, address, from_address

from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.store.base import DistinctCount, actor_key
from guard.testing.redis import RedisServer
from guard.types import Message, Scope

HERE = Path(__file__).resolve().parent
POLICIES = (
    "noeviction",
    "volatile-ttl",
    "volatile-lru",
    "allkeys-lru",
    "volatile-lfu",
    "allkeys-lfu",
    "volatile-random",
    "allkeys-random",
)


async def run_policy(policy: str, args: argparse.Namespace) -> dict[str, Any]:
    """One policy's run on its own server."""
    extra = ["--maxmemory", args.maxmemory, "--maxmemory-policy", policy]
    with RedisServer(extra_args=extra) as server:
        config = demo_config({"store": f"{server.url}?timeout=1"}, path=CONFIG)
        app = GuardMiddleware(instant_app, config)
        statuses: dict[int, int] = {}
        degraded = read = 0

        async def send(scope: Scope) -> None:
            nonlocal degraded

            async def answer(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    statuses[status] = statuses.get(status, 0) + 1

            await app(scope, receive, answer)
            degraded += app.guard.store.degraded

        for n in range(args.addresses):
            if n % args.harvest_every == 0:
                for _ in range(2 if read == 0 else 1):
                    read += 1
                    await send(from_address(HARVESTER, FIRST_ID + read))
            await send(from_address(address(n, 1), FIRST_ID + n % RECORDS))
        key = actor_key(config.key_prefix, "ip", HARVESTER, "b3600")
        try:
            (counted,) = await app.guard.store.execute(
                [DistinctCount(key, 3600.0)], app.guard.clock()
            )
        finally:
            await app.guard.aclose()
        stats, errors = server.info("stats"), server.info("errorstats")
        memory = server.info("memory")
    return {
        "policy": policy,
        "harvester_reads": read,
        "harvester_budget_counted": counted,
        "evicted_keys": int(stats.get("evicted_keys", 0)),
        "oom_errors": int(errors.get("errorstat_OOM", "count=0").split("=")[1].split(",")[0]),
        "degraded_share": round(degraded / (args.addresses + read), 4),
        "responses_5xx": sum(count for status, count in statuses.items() if status >= 500),
        "used_memory_mb": round(int(memory["used_memory"]) / 2**20, 1),
    }


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown page."""
    lines = [
        "# Redis eviction policies and budgets (`make bench-eviction`)",
        "",
        f"{result['date']}, `maxmemory {result['maxmemory']}`, {result['addresses']:,} sprayed "
        f"addresses (one record each, a /24 each); a harvester reading 2 records, then one "
        f"every {result['harvest_every']:,} requests. Redis {result['redis']}.",
        "",
        "| policy | harvester's budget kept | keys evicted | OOM errors | judged without Redis "
        "| 5xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result["policies"]:
        lines.append(
            f"| `{row['policy']}` | {row['harvester_budget_counted']} of "
            f"{row['harvester_reads']} | {row['evicted_keys']:,} | {row['oom_errors']:,} | "
            f"{row['degraded_share']:.1%} | {row['responses_5xx']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run every policy asked for; write the results; exit 1 on any 5xx."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=60_000)
    parser.add_argument("--maxmemory", default="8mb")
    parser.add_argument("--harvest-every", type=int, default=10_000)
    parser.add_argument("--policies", default=",".join(POLICIES))
    args = parser.parse_args(argv)
    rows = []
    for policy in args.policies.split(","):
        row = asyncio.run(run_policy(policy, args))
        print(json.dumps(row), flush=True)
        rows.append(row)
    with RedisServer() as server:
        version = server.info("server").get("redis_version", "?")
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "maxmemory": args.maxmemory,
        "addresses": args.addresses,
        "harvest_every": args.harvest_every,
        "redis": version,
        "policies": rows,
    }
    (HERE / "results" / "eviction.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / "results" / "eviction.md").write_text(markdown(result))
    print(markdown(result))
    return 1 if any(row["responses_5xx"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
