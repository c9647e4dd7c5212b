"""What the guard costs its Redis: CPU, bytes and commands a request, memory a tracked
client, and so how many guarded requests one shard serves and what a site would need.

For each count of distinct clients (10,000, 100,000 and 1,000,000 by default, four to a
/24: ``--per-network``) a fresh
``redis-server`` on a free port takes one guarded request from each client, as
``hot_path.py`` sends them (Chrome reading a random resume behind a trusted proxy; the
``bench.toml`` config: every check runs, nothing is refused), 16 in flight. Read from Redis
itself: ``INFO commandstats`` (script calls, each a round trip, the time in them, and the
commands they run), ``INFO cpu`` (the whole server's CPU, networking included: what a
shard's capacity is computed from), ``INFO stats`` (bytes in and out) and ``INFO memory``
(``used_memory``) before and after.

Then the same with 100,000 clients on a Redis Cluster of 3 masters: each node's keys, CPU
and script calls, to show the hash tags spread the load.

Run: ``make bench-scale`` or ``.venv/bin/python benchmarks/scale.py [--clients 10000,100000]
[--cluster-clients N]``.
Results go to ``benchmarks/results/scale.json`` and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import random
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hot_path import CONFIG, drive, instant_app, request

from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing.redis import RedisClusterProcess, RedisServer

HERE = Path(__file__).resolve().parent
IN_FLIGHT = 16
HEADROOM = 0.6
"""The share of a shard's CPU a site should plan to use (spikes, failover, other work)."""
SITES = (10_000, 100_000, 1_000_000)


PER_NETWORK = 4
"""Clients to a /24 by default. Real visitors are spread thin over networks (a million a day
come from hundreds of thousands of them); 256 to a /24, as runs before 2026-12-03 had it,
kept sitewide counts of networks small and cheap."""


def client_address(n: int, per_network: int = PER_NETWORK) -> str:
    """The n-th client: distinct addresses, ``per_network`` (1 to 256) to a /24, in 11/8 and
    the /8s after it."""
    network, host = divmod(n, per_network)
    return f"{11 + (network >> 16)}.{(network >> 8) & 255}.{network & 255}.{host}"


def info(server: RedisServer, section: str) -> dict[str, str]:
    """One ``INFO`` section as a dict."""
    fields = {}
    for line in server.command("INFO", section).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def command_totals(server: RedisServer) -> tuple[int, int, int]:
    """Script calls (EVAL, EVALSHA: a round trip each), the microseconds spent in them, and
    the commands run inside the scripts or on their own."""
    scripts = script_usec = others = 0
    for name, value in info(server, "commandstats").items():
        found = re.match(r"calls=(\d+),usec=(\d+)", value)
        if found is None:
            continue
        if name in {"cmdstat_evalsha", "cmdstat_eval"}:
            scripts += int(found.group(1))
            script_usec += int(found.group(2))
        elif name not in {"cmdstat_info", "cmdstat_dbsize", "cmdstat_ping"}:
            others += int(found.group(1))
    return scripts, script_usec, others


def snapshot(server: RedisServer) -> dict[str, float]:
    """The server's counters now."""
    scripts, script_usec, others = command_totals(server)
    cpu, stats, memory = info(server, "cpu"), info(server, "stats"), info(server, "memory")
    return {
        "scripts": scripts,
        "script_us": script_usec,
        "commands": others,
        "cpu_s": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
        "bytes_in": float(stats["total_net_input_bytes"]),
        "bytes_out": float(stats["total_net_output_bytes"]),
        "memory": float(memory["used_memory"]),
        "keys": float(server.command("DBSIZE") or 0),
    }


class Troubles(logging.Handler):
    """Counts what the guard logs at WARNING and above while it runs: a store failing, a
    request served unguarded. A run with any measured fail-open traffic, not the guard."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()[:200]


async def guard_clients(
    url: str, clients: int, per_network: int = PER_NETWORK, troubles: Troubles | None = None
) -> float:
    """One guarded request from each of ``clients``; wall seconds."""
    rng = random.Random(clients)
    # Roomy timeouts: this measures Redis's CPU, and a connection the pool opens slowly on a
    # busy machine (the default allows 0.25 s) would fail the run open.
    store = f"{url}?timeout=2&connect_timeout=2"
    app = GuardMiddleware(instant_app, demo_config({"store": store}, path=CONFIG))
    scopes = []
    for n in range(clients):
        scope = request(0, 100_000 + rng.randrange(10_000))
        scope["headers"] = [
            (k, client_address(n, per_network).encode()) if k == b"x-forwarded-for" else (k, v)
            for k, v in scope["headers"]
        ]
        scopes.append(scope)
    watch = troubles or Troubles()
    logging.getLogger("guard").addHandler(watch)
    # A million prepared requests are gigabytes of dicts: frozen, full collections skip them
    # (walking them stalled the event loop past the store's timeout, and the guard failed
    # open: a pause of the benchmark's own making, not Redis's).
    gc.collect()
    gc.freeze()
    began = time.perf_counter()
    try:
        await drive(app, scopes, IN_FLIGHT)
    finally:
        await app.guard.aclose()  # sends held writes
        logging.getLogger("guard").removeHandler(watch)
        gc.unfreeze()
    return time.perf_counter() - began


def measure(clients: int, per_network: int = PER_NETWORK) -> dict[str, Any]:
    """A fresh Redis, ``clients`` guarded requests, and what they cost it."""
    troubles = Troubles()
    with RedisServer() as server:
        before = snapshot(server)
        seconds = asyncio.run(guard_clients(server.url, clients, per_network, troubles))
        after = snapshot(server)
    delta = {key: after[key] - before[key] for key in before}
    per = 1 / clients
    cpu_us = delta["cpu_s"] * 1e6 * per
    return {
        "clients": clients,
        "clients_per_network": per_network,
        "guard_warnings": troubles.count,
        "first_warning": troubles.first,
        "seconds": round(seconds, 1),
        "redis_cpu_us_per_request": round(cpu_us, 1),
        "script_calls_per_request": round(delta["scripts"] * per, 2),
        "script_us_per_request": round(delta["script_us"] * per, 1),
        "commands_per_request": round(delta["commands"] * per, 1),
        "bytes_in_per_request": round(delta["bytes_in"] * per),
        "bytes_out_per_request": round(delta["bytes_out"] * per),
        "memory_bytes_per_client": round(delta["memory"] * per),
        "memory_mb": round(after["memory"] / 2**20, 1),
        "keys": int(after["keys"]),
        "shard_requests_per_second": round(1e6 / cpu_us) if cpu_us else None,
    }


def measure_cluster(clients: int) -> dict[str, Any]:
    """A 3-master Redis Cluster, ``clients`` guarded requests: throughput, and each node's
    keys and CPU (the hash tags must spread clients over the nodes)."""
    troubles = Troubles()
    with RedisClusterProcess(3) as cluster:
        nodes = cluster.nodes
        before = [snapshot(node) for node in nodes]
        seconds = asyncio.run(guard_clients(cluster.url, clients, troubles=troubles))
        after = [snapshot(node) for node in nodes]
    return {
        "clients": clients,
        "guard_warnings": troubles.count,
        "first_warning": troubles.first,
        "seconds": round(seconds, 1),
        "requests_per_second": round(clients / seconds),
        "nodes": [
            {
                "keys": int(a["keys"]),
                "cpu_us_per_request": round((a["cpu_s"] - b["cpu_s"]) * 1e6 / clients, 1),
                "script_calls_per_request": round((a["scripts"] - b["scripts"]) / clients, 2),
            }
            for b, a in zip(before, after, strict=True)
        ],
    }


def sizing(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What sites of 10k, 100k and 1M guarded requests a second would need, from the
    largest run: shards at :data:`HEADROOM` of their CPU, and memory if each request a
    second brings ``CLIENTS_PER_RPS`` distinct clients tracked a day."""
    largest = max(rows, key=lambda row: row["clients"])
    capacity = largest["shard_requests_per_second"]
    per_client = largest["memory_bytes_per_client"]
    return [
        {
            "requests_per_second": rate,
            "shards": math.ceil(rate / (capacity * HEADROOM)),
            "clients_a_day": rate * CLIENTS_PER_RPS,
            "memory_gb": round(rate * CLIENTS_PER_RPS * per_client / 2**30, 1),
        }
        for rate in SITES
    ]


CLIENTS_PER_RPS = 20
"""An assumption, not a measurement: a site serving R guarded requests a second sees about
20 R distinct clients a day (a client making a few dozen requests a day on average). Scale
the memory column by your own ratio."""


def markdown(result: dict[str, Any]) -> str:
    """The runs and the sizing as Markdown tables."""
    lines = [
        "# Scale: what the guard costs its Redis",
        "",
        f"{result['date']}, one guarded request from each client, {IN_FLIGHT} in flight, "
        f"{result['runs'][0]['clients_per_network']} clients to a /24, "
        "`benchmarks/bench.toml` (every check, nothing refused), Redis "
        f"{result['redis_version']}.",
        "",
        "| clients | Redis CPU a request | script calls (round trips) a request | time in "
        "scripts | commands inside | bytes in / out a request | memory a client | keys "
        "| one shard serves |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["runs"]:
        lines.append(
            f"| {row['clients']:,} | {row['redis_cpu_us_per_request']} µs "
            f"| {row['script_calls_per_request']} | {row['script_us_per_request']} µs "
            f"| {row['commands_per_request']} "
            f"| {row['bytes_in_per_request']:,} / {row['bytes_out_per_request']:,} "
            f"| {row['memory_bytes_per_client']:,} B | {row['keys']:,} "
            f"| {row['shard_requests_per_second']:,} req/s |"
        )
    lines += [
        "",
        f"A site's needs, from the largest run: shards at {HEADROOM:.0%} of one Redis "
        f"core, and memory if each guarded request a second brings {CLIENTS_PER_RPS} "
        "distinct clients a day (an assumption: use your own ratio).",
        "",
        "| guarded requests a second | shards | clients tracked a day | memory |",
        "|---:|---:|---:|---:|",
        *(
            f"| {s['requests_per_second']:,} | {s['shards']} | {s['clients_a_day']:,} "
            f"| {s['memory_gb']} GB |"
            for s in result["sizing"]
        ),
    ]
    cluster = result.get("cluster")
    if cluster:
        nodes = cluster["nodes"]
        lines += [
            "",
            f"A Redis Cluster of 3 masters, {cluster['clients']:,} clients: "
            f"{cluster['requests_per_second']:,} guarded requests a second through the guard "
            "in one Python process (the guard, not the cluster, is the limit here).",
            "",
            "| node | keys | Redis CPU a request | script calls a request |",
            "|---:|---:|---:|---:|",
            *(
                f"| {i} | {n['keys']:,} | {n['cpu_us_per_request']} µs "
                f"| {n['script_calls_per_request']} |"
                for i, n in enumerate(nodes, 1)
            ),
        ]
        lines += cluster_cost(cluster, result["runs"])
    return "\n".join(lines) + "\n"


def cluster_cost(cluster: dict[str, Any], runs: Sequence[dict[str, Any]]) -> list[str]:
    """What the cluster's nodes spend together on a request, beside one Redis at the same
    number of clients (when that was run): a cluster's shards go by this, not the sizing
    above, which is for one Redis a shard."""
    total = sum(node["cpu_us_per_request"] for node in cluster["nodes"])
    line = f"Together the nodes spend {total:.1f} µs of Redis CPU a request"
    single = [run for run in runs if run["clients"] == cluster["clients"]]
    if single:
        ratio = total / single[0]["redis_cpu_us_per_request"]
        line += (
            f", {ratio:.1f} times one Redis's at {cluster['clients']:,} clients: a cluster "
            f"needs about {ratio:.1f} times the shards above"
        )
    return ["", line + "."]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each client count; write the results and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="10000,100000,1000000")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "scale.json")
    parser.add_argument(
        "--cluster-clients", type=int, default=100_000, help="a 3-master cluster run (0: none)"
    )
    parser.add_argument(
        "--per-network",
        type=int,
        default=PER_NETWORK,
        help=f"clients to a /24 ({PER_NETWORK}; 256 as runs before 2026-12-03)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.per_network <= 256:
        parser.error("--per-network must be 1 to 256")
    runs = []
    for clients in (int(c) for c in args.clients.split(",")):
        runs.append(measure(clients, args.per_network))
        print(json.dumps(runs[-1]), flush=True)
    cluster = measure_cluster(args.cluster_clients) if args.cluster_clients else None
    if cluster is not None:
        print(json.dumps(cluster), flush=True)
    with RedisServer() as server:
        version = info(server, "server")["redis_version"]
    troubled = [row for row in [*runs, *([cluster] if cluster else [])] if row["guard_warnings"]]
    result: dict[str, Any] = {
        "valid": not troubled,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "redis_version": version,
        "runs": runs,
        "sizing": sizing(runs),
        "cluster": cluster,
    }
    table = markdown(result)
    if troubled:
        table += (
            "\n**INVALID**: the guard logged warnings (it failed open) in "
            + "; ".join(
                f"the {row['clients']:,}-client run "
                f"({row['guard_warnings']}x: {row['first_warning']})"
                for row in troubled
            )
            + ". These figures measure fail-open traffic, not the guard.\n"
        )
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(table)
    print(table)
    return 1 if troubled else 0


if __name__ == "__main__":
    sys.exit(main())
