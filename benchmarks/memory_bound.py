"""The memory store's bound under a spray: a million distinct addresses, one record each.

Drives ``GuardMiddleware`` in process (``bench.toml``: every check runs, nothing refused)
with the memory store bounded by ``--max-mb``. Each request comes from a new address behind
the trusted proxy, each in a /24 of its own as a campaign on residential proxies would be
(``--per-network 256`` packs them into whole /24s instead), and reads a record with
Chrome's headers. Beside the spray
a harvester, one address, reads two records and then one every ``--harvest-every``
requests: slower than the spray cycles the whole store, so least-recently-used alone would
forget its budget between reads.

Measured: the process's RSS (``/proc/self/statm``) before the first request and every
50,000 requests after, its peak growth against the bound plus the guard's fixed-size caches
outside the store (address, route and agent caches: measured first, by the same spray in a
process of its own whose store holds 16 units),
the store's weight (never above its budget), how many requests one cycle of the store
takes, and the harvester's hourly budget as the store counts it against the records it read.
``--lru`` runs the same with the heavy-entry rule off (plain least-recently-used), for
comparison.

Run: ``make bench-memory`` or ``.venv/bin/python benchmarks/memory_bound.py [--addresses N]
[--max-mb MB] [--lru]``. Results go to ``benchmarks/results/memory_bound[_lru].json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hot_path import CONFIG, discard, instant_app, receive, request

import guard.store.memory as memory_store
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.store.base import DistinctCount, actor_key
from guard.store.memory import MemoryStore
from guard.types import Scope

HERE = Path(__file__).resolve().parent
WARM_UP = 1_000
SAMPLE_EVERY = 50_000
HARVESTER = "203.0.113.8"
FIRST_ID, RECORDS = 100_000, 10_000


def address(n: int, per_network: int) -> str:
    """The n-th sprayed address: ``per_network`` of them to a /24, from 100.0.0.0 up."""
    net, host = divmod(n, per_network)
    return f"{100 + (net >> 16)}.{(net >> 8) & 255}.{net & 255}.{host % 254 + 1}"


def rss() -> int:
    """The process's resident memory in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def from_address(ip: str, record: int) -> Scope:
    """Chrome reading ``record`` as ``ip`` (named in X-Forwarded-For)."""
    scope = request(0, record)
    headers = [(k, ip.encode() if k == b"x-forwarded-for" else v) for k, v in scope["headers"]]
    return dict(scope, headers=headers)


async def spray(args: argparse.Namespace) -> dict[str, Any]:
    """The run: warm up, spray, sample; what was measured."""
    config = demo_config({"store": f"memory://?max_mb={args.max_mb}"}, path=CONFIG)
    app = GuardMiddleware(instant_app, config)
    store = app.guard.store
    assert isinstance(store, MemoryStore)
    budget_key = actor_key(config.key_prefix, "ip", HARVESTER, "b3600")
    read = 0

    async def send(scope: Scope) -> None:
        await app(scope, receive, discard)

    gc.collect()
    base, peak, peak_weight, samples = rss(), 0, 0, []
    for n in range(WARM_UP):
        await send(from_address(address(n, args.per_network), FIRST_ID + n % RECORDS))
    began = time.perf_counter()
    for n in range(WARM_UP, WARM_UP + args.addresses):
        if n % args.harvest_every == 0:
            for _ in range(2 if read == 0 else 1):
                read += 1
                await send(from_address(HARVESTER, FIRST_ID + read))
        await send(from_address(address(n, args.per_network), FIRST_ID + n % RECORDS))
        peak_weight = max(peak_weight, store.weight)
        if (n - WARM_UP + 1) % SAMPLE_EVERY == 0:
            grown = rss() - base
            peak = max(peak, grown)
            samples.append(round(grown / 2**20, 1))
    seconds = time.perf_counter() - began
    (counted,) = await store.execute([DistinctCount(budget_key, 3600.0)], app.guard.clock())
    weight_per_request = store.weight / max(len(store), 1)
    await app.guard.aclose()
    return {
        "addresses": args.addresses,
        "max_mb": args.max_mb,
        "max_weight": store.max_weight,
        "heavy_rule": not args.lru,
        "addresses_per_network": args.per_network,
        "rss_base_mb": round(base / 2**20, 1),
        "rss_growth_mb_samples": samples,
        "rss_peak_growth_mb": round(peak / 2**20, 1),
        "within_bound": peak <= (args.max_mb + args.caches_mb) * 2**20,
        "caches_mb": args.caches_mb,
        "store_peak_weight": peak_weight,
        "store_entries_end": len(store),
        "units_per_entry": round(weight_per_request, 2),
        "us_per_request": round(seconds / args.addresses * 1e6, 1),
        "harvester_reads": read,
        "harvester_budget_counted": counted,
        "date": time.strftime("%Y-%m-%d"),
    }


def caches_mb(args: argparse.Namespace) -> float:
    """The guard's growth outside the store under this spray: the same spray (up to
    300,000 addresses, enough to fill every fixed-size cache) with a 16-unit store, in a
    process of its own."""
    command = [
        sys.executable,
        __file__,
        "--max-mb",
        "0.008",
        "--caches-mb",
        "0",
        "--addresses",
        str(min(args.addresses, 300_000)),
        "--per-network",
        str(args.per_network),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return float(json.loads(done.stdout)["rss_peak_growth_mb"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print and write the results; exit 1 when the bound or the budget was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--max-mb", type=float, default=64.0)
    parser.add_argument("--harvest-every", type=int, default=200_000)
    parser.add_argument("--per-network", type=int, default=1, help="addresses to a /24")
    parser.add_argument("--lru", action="store_true", help="the heavy-entry rule off")
    parser.add_argument("--caches-mb", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lru:
        memory_store.HEAVY = sys.maxsize
    if args.caches_mb is None:
        args.caches_mb = caches_mb(args)
    result = asyncio.run(spray(args))
    print(json.dumps(result, indent=2))
    if args.max_mb < 1:
        return 0  # the caches' own run
    name = "memory_bound_lru.json" if args.lru else "memory_bound.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=2) + "\n")
    kept = result["harvester_budget_counted"] == result["harvester_reads"]
    return 0 if result["within_bound"] and (kept or args.lru) else 1


if __name__ == "__main__":
    sys.exit(main())
