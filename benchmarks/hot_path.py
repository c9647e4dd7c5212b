"""What the guard itself costs a request, in process: no HTTP server, no wrk, less noise.

Drives ``GuardMiddleware`` (configured as in ``bench.toml``: every check runs, nothing is
refused) in front of an app that answers at once, with the requests ``wrk_resumes.lua``
sends: Chrome reading random resumes as one of 10,000 clients behind a trusted proxy.
Prints the best of several passes, in microseconds a request, with the compiled parts
(``native``) and with their pure-Python twins (``python``, ``GUARD_NATIVE=0``), measured in
turn in one run:

- ``facts_us``: reading the request's facts alone (``FactExtractor.extract``), the first
  step of every decision, as ``benchmarks/facts_only.py`` serves it: a floor for the guard;
- ``memory``: the embedded store, one request at a time;
- ``redis``: a throwaway ``redis-server`` on a free port, 16 requests in flight (as wrk
  keeps 16 connections busy), Python's CPU time per request; Redis's own CPU per script
  call, from ``INFO commandstats``, is reported beside it.

Run: ``make bench-hot-path`` or ``.venv/bin/python benchmarks/hot_path.py [--requests N]``.
Results go to ``benchmarks/results/hot_path.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from guard.demo.config import demo_config
from guard.facts import FactExtractor
from guard.middleware import GuardMiddleware
from guard.signing import Signer
from guard.testing.redis import RedisServer
from guard.types import Message, Receive, Scope, Send

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "bench.toml"
PASSES = 3
ROUNDS = 2
SCRIPT_STAT = re.compile(r"cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)")
COMMAND_CALLS = re.compile(r"cmdstat_(?!evalsha)\w+:calls=(\d+)")
"""The commands scripts ran (and the benchmark's own few INFO and CONFIG calls)."""
IN_FLIGHT = 16
CHROME = (
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/131.0.0.0 Safari/537.36"
)


def address(client: int) -> str:
    """The n-th simulated client, as wrk_resumes.lua numbers them (198.18.0.0/15)."""
    second = 18 + (client // (256 * 254)) % 2
    return f"198.{second}.{client % 256}.{(client // 256) % 254 + 1}"


def request(client: int, resume: int) -> Scope:
    """A Chrome navigation to one resume, with the headers wrk_resumes.lua sends."""
    path = f"/resume/{resume}"
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"sec-ch-ua", b'"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"'),
        (b"sec-ch-ua-mobile", b"?0"),
        (b"sec-ch-ua-platform", b'"Windows"'),
        (b"upgrade-insecure-requests", b"1"),
        (b"user-agent", CHROME),
        (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        (b"sec-fetch-site", b"same-origin"),
        (b"sec-fetch-mode", b"navigate"),
        (b"sec-fetch-user", b"?1"),
        (b"sec-fetch-dest", b"document"),
        (b"referer", b"http://127.0.0.1:8000/resumes"),
        (b"accept-encoding", b"gzip, deflate, br, zstd"),
        (b"accept-language", b"en-US,en;q=0.9"),
        (b"priority", b"u=0, i"),
        (b"x-forwarded-for", address(client).encode()),
        (b"x-forwarded-proto", b"https"),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def workload(count: int) -> list[Scope]:
    """``count`` requests, the same each run: random clients of 10,000 reading random
    resumes of 10,000."""
    rng = random.Random(1)
    return [request(rng.randrange(10_000), 100_000 + rng.randrange(10_000)) for _ in range(count)]


async def instant_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An app with no work of its own: a small page at once."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def discard(message: Message) -> None:
    return None


async def drive(app: GuardMiddleware, scopes: Sequence[Scope], in_flight: int) -> float:
    """Run every request through ``app``, ``in_flight`` at a time; Python CPU seconds."""

    async def lane(start: int) -> None:
        for scope in scopes[start::in_flight]:
            await app(dict(scope, headers=list(scope["headers"])), receive, discard)

    began = time.process_time()
    await asyncio.gather(*(lane(n) for n in range(in_flight)))
    return time.process_time() - began


async def cost(store: str, scopes: Sequence[Scope], in_flight: int) -> float:
    """Best microseconds a request over PASSES passes, after one pass to warm up."""
    app = GuardMiddleware(instant_app, demo_config({"store": store}, path=CONFIG))
    try:
        await drive(app, scopes[: len(scopes) // 4], in_flight)
        best = min([await drive(app, scopes, in_flight) for _ in range(PASSES)])
    finally:
        await app.guard.aclose()
    return best / len(scopes) * 1e6


def facts_cost(scopes: Sequence[Scope]) -> float:
    """Best microseconds a request to extract the facts alone, over PASSES passes."""
    config = demo_config(path=CONFIG)
    facts = FactExtractor(config, Signer(b"hot-path-benchmark"))
    clock = time.time
    best = float("inf")
    for _ in range(PASSES + 1):  # the first pass fills the caches, as in ``cost``
        began = time.process_time()
        for scope in scopes:
            facts.extract(dict(scope, headers=list(scope["headers"])), clock())
        best = min(best, time.process_time() - began)
    return best / len(scopes) * 1e6


def measure_all(scopes: Sequence[Scope], redis_url: str) -> dict[str, float]:
    """Facts, memory and Redis costs with the compiled parts as ``GUARD_NATIVE`` says."""
    return {
        "facts_us": round(facts_cost(scopes), 1),
        "memory_us": round(asyncio.run(cost("memory://", scopes, 1)), 1),
        "redis_python_us": round(asyncio.run(cost(redis_url, scopes, IN_FLIGHT)), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both stores, with the C parts and with their Python twins, interleaved
    (``ROUNDS`` times, the best of each kept), and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args(argv)
    scopes = workload(args.requests)
    runs: dict[str, list[dict[str, float]]] = {"native": [], "pure_python": []}
    with RedisServer() as server:
        url = f"{server.url}?timeout=1"
        for _ in range(ROUNDS):
            for flavour in ("pure_python", "native"):
                os.environ["GUARD_NATIVE"] = "1" if flavour == "native" else "0"
                server.command("CONFIG", "RESETSTAT")
                run = measure_all(scopes, url)
                stats = server.command("INFO", "commandstats")
                found = SCRIPT_STAT.search(stats)
                calls = float(found.group(1)) if found else 0.0
                run["redis_script_calls"] = calls
                run["redis_script_us_per_call"] = float(found.group(2)) if found else 0.0
                commands = sum(int(n) for n in COMMAND_CALLS.findall(stats))
                run["redis_commands_per_call"] = round(commands / calls, 1) if calls else 0.0
                runs[flavour].append(run)
    os.environ.pop("GUARD_NATIVE", None)
    result: dict[str, object] = {
        "requests": args.requests,
        "rounds": ROUNDS,
        **{
            flavour: {name: min(run[name] for run in done) for name in done[0]}
            for flavour, done in runs.items()
        },
        "redis_in_flight": IN_FLIGHT,
        "python_version": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    out = HERE / "results" / "hot_path.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
