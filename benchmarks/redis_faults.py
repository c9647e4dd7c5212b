"""The guard under traffic while its Redis is slow, full, flushed or loses a master.

For each fault, a guard (the demo's policy, the store's timeout 50 ms, failing open) takes
8 requests in flight of people reading records (Chrome, addresses from a pool, behind the
trusted proxy) for three phases: before, during the fault, after it is healed. Then a probe
address reads records until refused: enforcement is back when it is refused by its rate
limit with the store healthy and its keys in Redis.

Faults:

* ``slow-20ms``, ``slow-200ms``: every reply from Redis delayed by a TCP proxy (under and
  over the store's timeout);
* ``debug-sleep``: ``DEBUG SLEEP 2``, Redis blocked outright;
* ``full``: ``maxmemory`` set below what is used, ``noeviction``: every write refused
  (OOM); healed by lifting the limit;
* ``script-flush``: ``SCRIPT FLUSH`` every 0.5 s (the guard reloads its script);
* ``cluster-master-killed``: one of a 3-master cluster's masters killed (without replicas
  the cluster refuses every call); healed by restarting it.

Measured per phase: requests, 5xx (there must be none), p50 and p99 latency, and the share
judged without Redis. Exit 1 on any 5xx, a p99 over ``--p99-limit-ms`` during a fault, or
enforcement not back.

Run: ``make bench-redis-faults`` or ``.venv/bin/python benchmarks/redis_faults.py
[--seconds 5] [--faults a,b]``. Results: ``benchmarks/results/redis_faults.json`` and a
Markdown table beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import call_asgi, chrome_headers
from guard.testing.redis import RedisClusterProcess, RedisServer

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "bench.toml"
IN_FLIGHT = 8
TIMEOUT = 0.05
FIRST_ID, RECORDS = 100_000, 1_000
PROBE = "192.0.2.77"
POOL = [f"198.18.{n // 200}.{n % 200 + 1}" for n in range(2_000)]
FAULTS = (
    "slow-20ms",
    "slow-200ms",
    "debug-sleep",
    "full",
    "script-flush",
    "cluster-master-killed",
)


class DelayProxy:
    """A TCP proxy to Redis that holds every chunk of Redis's replies ``delay`` seconds."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.delay = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, upstream_writer}
        for pipe in (
            self._pipe(reader, upstream_writer, delayed=False),
            self._pipe(upstream_reader, writer, delayed=True),
        ):
            task = asyncio.ensure_future(pipe)
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, delayed: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await source.read(65536):
                if delayed and self.delay:
                    await asyncio.sleep(self.delay)
                sink.write(data)
                await sink.drain()
        sink.close()

    async def close(self) -> None:
        """Stop listening, end every connection and wait for them."""
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()


def guard_on(url: str) -> GuardMiddleware:
    """The demo behind a guard on ``url`` with the store's timeout, failing open: every
    check on, nothing refused (``bench.toml``) but each address's rate, 30 records a
    minute, which the probe meets."""
    settings = {
        "store": f"{url}?timeout={TIMEOUT}",
        "routes": {"sensitive": {"rates": {"ip": "30/minute"}}},
    }
    return GuardMiddleware(create_demo_app(RECORDS), demo_config(settings, path=CONFIG))


async def traffic(app: GuardMiddleware, seconds: float) -> list[tuple[float, int, bool]]:
    """People reading records for ``seconds``, IN_FLIGHT at once: (latency, status, judged
    without Redis) a request."""
    rows: list[tuple[float, int, bool]] = []
    rng = random.Random(7)
    deadline = time.perf_counter() + seconds

    async def lane() -> None:
        while time.perf_counter() < deadline:
            ip = rng.choice(POOL)
            headers = chrome_headers(referer="http://127.0.0.1/resumes") | {"x-forwarded-for": ip}
            began = time.perf_counter()
            path = f"/resume/{FIRST_ID + rng.randrange(RECORDS)}"
            reply = await call_asgi(app, path, headers=headers, client=("127.0.0.1", 1))
            rows.append((time.perf_counter() - began, reply.status, app.guard.store.degraded))
            await asyncio.sleep(0.002)

    await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))
    return rows


def summary(rows: list[tuple[float, int, bool]]) -> dict[str, Any]:
    """One phase's figures."""
    latencies = sorted(latency for latency, _, _ in rows)
    cut = max(int(len(latencies) * 0.99) - 1, 0)
    return {
        "requests": len(rows),
        "responses_5xx": sum(1 for _, status, _ in rows if status >= 500),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[cut] * 1000, 1) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "without_redis": round(sum(degraded for *_, degraded in rows) / max(len(rows), 1), 3),
    }


async def probe(app: GuardMiddleware, keys: Callable[[], list[str]]) -> dict[str, Any]:
    """Read records as PROBE until refused: enforcement is back when its rate limit refuses
    it with the store healthy and PROBE's keys in Redis."""
    headers = chrome_headers(referer="http://127.0.0.1/resumes") | {"x-forwarded-for": PROBE}
    refused_at, status, limit = None, 200, None
    for n in range(60):
        reply = await call_asgi(
            app, f"/resume/{FIRST_ID + n}", headers=headers, client=("127.0.0.1", 1)
        )
        if reply.status in {403, 429}:
            refused_at, status, limit = n + 1, reply.status, reply.header("ratelimit-policy")
            break
    in_redis = any(f"{{ip:{PROBE}}}" in key for key in keys())
    healthy = not app.guard.store.degraded
    return {
        "refused_at_record": refused_at,
        "status": status,
        "ratelimit_policy": limit,
        "keys_in_redis": in_redis,
        "store_healthy": healthy,
        "enforcement_back": refused_at is not None and in_redis and healthy,
    }


def scan(server: RedisServer) -> list[str]:
    """Every key on ``server``."""
    return str(server.command("--scan")).split()


@contextlib.asynccontextmanager
async def one_server(fault: str) -> AsyncIterator[tuple[str, Any]]:
    """The store for a single-server fault: its URL (through the delay proxy) and handles."""
    with RedisServer(extra_args=["--enable-debug-command", "local"]) as server:
        proxy = DelayProxy(server.port)
        await proxy.start()
        try:
            yield f"redis://127.0.0.1:{proxy.port}/0", (server, proxy)
        finally:
            await proxy.close()


async def run_fault(fault: str, seconds: float) -> dict[str, Any]:
    """Before, during and after one fault; then the probe."""
    if fault == "cluster-master-killed":
        return await run_cluster_fault(seconds)
    async with one_server(fault) as (url, (server, proxy)):
        app = guard_on(url)
        try:
            before = await traffic(app, seconds)
            stop = asyncio.Event()
            injector = asyncio.ensure_future(inject(fault, server, proxy, stop))
            during = await traffic(app, seconds)
            stop.set()
            await injector
            await asyncio.sleep(2.5)  # the breaker's cooldown (2 s) passes
            after = await traffic(app, seconds)
            enforcement = await probe(app, lambda: scan(server))
        finally:
            await app.guard.aclose()
    return phases(fault, before, during, after, enforcement)


async def inject(fault: str, server: RedisServer, proxy: DelayProxy, stop: asyncio.Event) -> None:
    """Make the fault until ``stop`` is set, then heal it."""
    loop = asyncio.get_running_loop()
    if fault.startswith("slow-"):
        proxy.delay = float(fault.removeprefix("slow-").removesuffix("ms")) / 1000
        await stop.wait()
        proxy.delay = 0.0
    elif fault == "debug-sleep":
        await loop.run_in_executor(None, lambda: server.call("DEBUG", "SLEEP", "2", timeout=10))
        await stop.wait()
    elif fault == "full":
        used = int(server.info("memory")["used_memory"])
        server.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        server.call("CONFIG", "SET", "maxmemory", str(used // 2))  # over the limit at once
        await stop.wait()
        server.call("CONFIG", "SET", "maxmemory", "0")
    elif fault == "script-flush":
        while not stop.is_set():
            server.call("SCRIPT", "FLUSH")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


async def run_cluster_fault(seconds: float) -> dict[str, Any]:
    """A 3-master cluster loses a master mid-run; it comes back empty."""
    with RedisClusterProcess(3) as cluster:
        app = guard_on(cluster.url)
        victim = cluster.nodes[1]
        try:
            before = await traffic(app, seconds)
            victim.kill()
            during = await traffic(app, seconds)
            victim.start()
            cluster.wait_ok(time.monotonic() + 30)
            await asyncio.sleep(2.5)
            after = await traffic(app, seconds)
            enforcement = await probe(
                app, lambda: [k for node in cluster.nodes for k in scan(node)]
            )
        finally:
            await app.guard.aclose()
    return phases("cluster-master-killed", before, during, after, enforcement)


def phases(fault: str, before: Any, during: Any, after: Any, enforcement: Any) -> dict[str, Any]:
    """One fault's row."""
    return {
        "fault": fault,
        "before": summary(before),
        "during": summary(during),
        "after": summary(after),
        "enforcement": enforcement,
    }


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown page."""
    lines = [
        "# The guard while Redis is slow, full, flushed or loses a master "
        "(`make bench-redis-faults`)",
        "",
        f"{result['date']}, {IN_FLIGHT} requests in flight for {result['seconds']} s a phase, "
        f"the store's timeout {TIMEOUT * 1000:.0f} ms, failing open.",
        "",
        "| fault | 5xx | p50 / p99 before | p50 / p99 (max) during | judged without Redis "
        "during | p50 / p99 after | without Redis after | enforcement back |",
        "|---|---:|---|---|---:|---|---:|---|",
    ]
    for row in result["faults"]:
        errors = sum(row[p]["responses_5xx"] for p in ("before", "during", "after"))
        cells = [
            f"{row[p]['p50_ms']} / {row[p]['p99_ms']} ms" for p in ("before", "during", "after")
        ]
        cells[1] = cells[1].replace(" ms", f" ({row['during']['max_ms']}) ms")
        back = row["enforcement"]
        told = (
            f"yes (refused at record {back['refused_at_record']})"
            if back["enforcement_back"]
            else "**no**"
        )
        lines.append(
            f"| {row['fault']} | {errors} | {cells[0]} | {cells[1]} | "
            f"{row['during']['without_redis']:.0%} | {cells[2]} | "
            f"{row['after']['without_redis']:.0%} | {told} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run every fault asked for; write the results; exit 1 on a failed one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--p99-limit-ms", type=float, default=250.0)
    args = parser.parse_args(argv)
    rows = []
    for fault in args.faults.split(","):
        row = asyncio.run(run_fault(fault, args.seconds))
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {"date": time.strftime("%Y-%m-%d"), "seconds": args.seconds, "faults": rows}
    (HERE / "results" / "redis_faults.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / "results" / "redis_faults.md").write_text(markdown(result))
    print(markdown(result))
    bad = [
        row["fault"]
        for row in rows
        if any(row[p]["responses_5xx"] for p in ("before", "during", "after"))
        or (row["during"]["p99_ms"] or 0) > args.p99_limit_ms
        or not row["enforcement"]["enforcement_back"]
    ]
    if bad:
        print(f"failed: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    sys.exit(main())
