"""Soak: ten minutes of steady mixed load on two workers sharing one Redis.

Starts a fresh ``redis-server`` and two guarded demos (``guard demo --redis-url``, the
load-test policy of ``loadtest.toml``: two workers of one site), then one headless locust
per worker running people, recruiters and the three scrapers of ``locustfile.py`` for
``--minutes``. Clients draw their addresses from a fixed population (``--addresses``), so
the state the guard keeps should stop growing once every address has been seen.

Hourly budgets count in four 15-minute buckets (``guard.store.base.DISTINCT_BUCKETS``), and
when a bucket turns each active actor gains a key per budget, by design. So that the key
count measures the steady state, the run starts at the beginning of a quarter hour (it
waits for one when the run would not fit in the current one) and ends inside it; runs
longer than 14 minutes see the steps.

Every 30 s it samples each worker's RSS (``/proc/PID/status``) and Redis's key count and
memory. At the end: requests, failures and 5xx from locust's summaries, each worker's RSS
growth from the end of the first quarter to the end (against ``--rss-growth-mb``), and
Redis's key count over the second half (flat when it grows by under ``--key-growth``).
Exit 1 when any of these fails.

Run: ``make soak`` or ``.venv/bin/python benchmarks/soak.py [--minutes 10]``. Results:
``benchmarks/results/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loadtest import DETECTION, RESUMES, demo, locust_command

from guard.testing.redis import RedisServer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE_SECONDS = 30.0
QUARTER = 900.0
STARTUP = 45.0
"""Seconds to start Redis and the workers and to spawn locust's users, at most."""


def rss_mb(pid: int) -> float:
    """A process's resident memory in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pid_on(port: int) -> int:
    """The pid of the `guard demo` serving ``port`` (it runs uvicorn in its own process)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            b"demo" in argv
            and b"--port" in argv
            and argv[argv.index(b"--port") + 1] == str(port).encode()
        ):
            return int(entry.name)
    raise RuntimeError(f"no guard demo on port {port}")


def main() -> int:
    """Run the soak; print and write what it saw."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=12, help="locust users per worker")
    parser.add_argument("--addresses", type=int, default=300)
    parser.add_argument("--rss-growth-mb", type=float, default=40.0)
    parser.add_argument("--key-growth", type=float, default=0.05)
    args = parser.parse_args()
    seconds = int(args.minutes * 60)
    into_quarter = time.time() % QUARTER
    if seconds < QUARTER - STARTUP and into_quarter + seconds + STARTUP > QUARTER:
        wait = QUARTER - into_quarter + 2
        print(f"waiting {wait:.0f} s for the next quarter hour", flush=True)
        time.sleep(wait)
    samples: list[dict[str, Any]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        server = stack.enter_context(RedisServer())
        hosts = [
            demo(stack, HERE / "loadtest.toml", out / f"worker{n}.log", server.url) for n in (1, 2)
        ]
        pids = [pid_on(int(host.rsplit(":", 1)[1])) for host in hosts]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
        env |= {"LOADTEST_RESUMES": str(RESUMES), "LOADTEST_ADDRESSES": str(args.addresses)}
        runs = []
        for n, host in enumerate(hosts, 1):
            command = locust_command(DETECTION, args.users, seconds)
            summary = out / f"locust{n}.json"
            runs.append(
                (
                    subprocess.Popen(  # noqa: S603
                        command,
                        env=env | {"GUARDED_HOST": host, "LOADTEST_SUMMARY": str(summary)},
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                    summary,
                )
            )
        began = time.monotonic()
        done = threading.Event()
        while not done.is_set():
            samples.append(
                {
                    "minute": round((time.monotonic() - began) / 60, 2),
                    "rss_mb": [round(rss_mb(pid), 1) for pid in pids],
                    "redis_keys": int(server.command("DBSIZE")),
                    "redis_mb": round(int(server.info("memory")["used_memory"]) / 2**20, 1),
                }
            )
            print(json.dumps(samples[-1]), flush=True)
            if all(process.poll() is not None for process, _ in runs):
                break
            done.wait(SAMPLE_SECONDS)
        summaries = []
        for process, path in runs:
            process.wait(timeout=120)
            summaries.append(json.loads(path.read_text()) if path.exists() else {})
    result = judge(args, samples, summaries)
    (HERE / "results" / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    return 0 if result["ok"] else 1


def judge(
    args: argparse.Namespace, samples: list[dict[str, Any]], summaries: list[dict[str, Any]]
) -> dict[str, Any]:
    """The soak's figures and whether they pass."""
    requests = sum(int(row["requests"]) for s in summaries for row in s.get("classes", {}).values())
    failures = sum(int(s.get("failures", 1)) for s in summaries)
    errors = sum(
        int(s.get("answers", {}).get(user, {}).get("error", 0))
        for s in summaries
        for user in s.get("answers", {})
    )
    quarter = [row for row in samples if row["minute"] >= args.minutes / 4]
    half = [row for row in samples if row["minute"] >= args.minutes / 2]
    growth = [
        round(quarter[-1]["rss_mb"][n] - quarter[0]["rss_mb"][n], 1) if quarter else None
        for n in range(2)
    ]
    keys_from, keys_to = (half[0]["redis_keys"], half[-1]["redis_keys"]) if half else (0, 0)
    key_growth = (keys_to - keys_from) / keys_from if keys_from else None
    ok = (
        failures == 0
        and errors == 0
        and requests > 0
        and all(g is not None and g <= args.rss_growth_mb for g in growth)
        and key_growth is not None
        and key_growth <= args.key_growth
    )
    return {
        "date": time.strftime("%Y-%m-%d"),
        "minutes": args.minutes,
        "users_per_worker": args.users,
        "addresses": args.addresses,
        "requests": requests,
        "failures": failures,
        "responses_5xx": errors,
        "records": [s.get("records", {}) for s in summaries],
        "rss_growth_mb_after_first_quarter": growth,
        "rss_growth_bound_mb": args.rss_growth_mb,
        "redis_keys_second_half": [keys_from, keys_to],
        "redis_key_growth_second_half": None if key_growth is None else round(key_growth, 4),
        "ok": ok,
        "samples": samples,
    }


if __name__ == "__main__":
    sys.exit(main())
