"""Where a guarded request's time goes: each step of the decision and each signal, in process.

``hot_path.py`` gives the guard's whole cost a request; this splits it. A worker process
drives ``GuardMiddleware`` as ``hot_path.py`` does (``bench.toml``: every check runs,
nothing is refused; the requests ``wrk_resumes.lua`` sends; 16 in flight, as wrk keeps 16
connections busy) and measures its CPU time a request. Then it runs the same passes again
under py-spy, which samples its stacks from outside (so the samples change nothing they
measure, as timers around each step would), and each sample goes to the innermost step it
is in:

- ``facts``, ``good bots``, ``access lists``: reading the request;
- ``plan``, ``judge``, ``settle``: the signals' three phases (``--by-signal`` splits them);
- ``store call``: the call a decision waits for; ``store write-behind``: handing over the
  writes made after the response (on Redis they ride along with a later call);
  ``store, run by the loop``: the store's work the event loop calls outside any request
  (replies read off the socket, coalesced commands written, held writes sent, places
  swept);
- ``policy``, ``act``, ``tracking cookie``, ``body scanner``, ``metrics``: the rest of the
  decision and its record;
- ``middleware and engine``: the guard's own lines between those steps;
- ``event loop``: the rest (the loop's turns, its system calls); ``benchmark harness``:
  the instant app and the driving loop.

With ``--served`` it does the same to the demo as ``overhead.py`` serves it (uvicorn with
h11, one worker, ``wrk -c16``), bare, on the memory store and on Redis: the server
process's CPU a request from one wrk run, split by a second, sampled one, with rows for
uvicorn, the app (Starlette and the demo) and the event loop beside the guard's steps.

A step's share of the samples times the CPU a request gives its microseconds. The figures
are for the memory store and a throwaway ``redis-server``, with the compiled parts
(``native``) and without (``pure_python``, ``GUARD_NATIVE=0``). py-spy comes with the dev
dependencies; it needs to be allowed to read another process (root, or ptrace permitted).

Run: ``make bench-breakdown`` or ``.venv/bin/python benchmarks/breakdown.py [--served]``.
Results go to ``benchmarks/results/breakdown.json`` (``breakdown_served.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import overhead
from hot_path import CONFIG, IN_FLIGHT, drive, instant_app, workload

from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing.redis import RedisServer

HERE = Path(__file__).resolve().parent
PASSES = 3
SAMPLE_RATE = 250
"""py-spy's samples a second (it stops the process for each: a higher rate slows it)."""
GUARD = "middleware and engine"
OUTSIDE = "event loop"
PARTS = (
    (("/uvicorn/", "/h11/", "/httptools/"), "server (uvicorn)"),
    (("/starlette/", "/guard/demo/"), "app (Starlette, the demo)"),
    (("/benchmarks/",), "benchmark harness"),
    (("/guard/store/",), "store, run by the loop"),
    (("/guard/",), GUARD),
)
"""Where a sample that is in no step belongs: its innermost frame in one of these folders."""
LOOP_FRAMES = ("Handle._run", "BaseEventLoop._run_once", "BaseEventLoop.run_forever")
"""The event loop's own frames: what lies outside them (the runner, the script) is no part."""
FRAME = re.compile(r"^(?P<name>.*) \((?P<file>.*?)(?::\d+)?\)$")
STEPS = {
    "FactExtractor.extract": "facts",
    "GoodBotVerifier.claimed": "good bots",
    "GoodBotVerifier.verify": "good bots",
    "AccessLists.check": "access lists",
    "Policy.decide": "policy",
    "Guard.act": "act",
    "Guard.tracking_cookie": "tracking cookie",
    "Guard.body_scanner": "body scanner",
    "Metrics.decided": "metrics",
}
"""The engine's steps by their functions' qualified names (as py-spy names them)."""
STORE_STEPS = {"execute": "store call", "write_later": "store write-behind"}
PHASES = ("plan", "judge", "settle")


def step_of(name: str, file: str, by_signal: bool) -> str | None:
    """The step a function is, or None when it is not one."""
    if name in STEPS:
        return STEPS[name]
    owner, _, method = name.rpartition(".")
    if "guard/signals/" in file and method in PHASES:
        return f"{method}:{owner.removesuffix('Signal')}" if by_signal else method
    if "guard/store/" in file and method in STORE_STEPS and owner.endswith("Store"):
        return STORE_STEPS[method]
    if "prometheus_client/" in file:
        return "metrics"
    return None


def label_of(stack: Sequence[str], by_signal: bool) -> str:
    """The innermost step a sampled stack (outermost frame first) is in; in none, the part
    of the process its innermost known frame belongs to (the server, the app, the guard's
    own lines, ...), else the event loop."""
    frames = [found for found in map(FRAME.match, reversed(stack)) if found is not None]
    for found in frames:
        step = step_of(found["name"], found["file"], by_signal)
        if step is not None:
            return step
    for found in frames:
        if found["name"] in LOOP_FRAMES:
            break
        path = "/" + found["file"]  # py-spy names files from their sys.path entry on
        for folders, part in PARTS:
            if any(folder in path for folder in folders):
                return part
    return OUTSIDE


def shares(raw: Iterable[str], by_signal: bool) -> dict[str, float]:
    """Each step's share of the samples in py-spy's raw output (``stack count`` lines)."""
    counts: Counter[str] = Counter()
    for line in raw:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            counts[label_of(stack.split(";"), by_signal)] += int(count)
    total = sum(counts.values())
    return {label: n / total for label, n in counts.most_common()} if total else {}


async def work(store: str, requests: int) -> None:
    """The worker: warm up, measure PASSES passes (printing the median CPU a request),
    wait for the word to go on, and run the passes again for py-spy to sample."""
    scopes = workload(requests)
    app = GuardMiddleware(instant_app, demo_config({"store": store}, path=CONFIG))
    try:
        await drive(app, scopes[: len(scopes) // 4], IN_FLIGHT)  # caches, the store's entries
        spent = [await drive(app, scopes, IN_FLIGHT) / len(scopes) * 1e6 for _ in range(PASSES)]
        print(json.dumps({"us": statistics.median(spent)}), flush=True)
        sys.stdin.readline()  # py-spy is attached
        for _ in range(PASSES):
            await drive(app, scopes, IN_FLIGHT)
    finally:
        await app.guard.aclose()


def sampled(store: str, requests: int, py_spy: str, by_signal: bool) -> dict[str, float]:
    """Microseconds a request in each step of one store's run (as the environment's
    ``GUARD_NATIVE`` says), and its ``total``."""
    command = [sys.executable, __file__, "--worker", store, "--requests", str(requests)]
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "stacks.txt"
        worker = subprocess.Popen(  # noqa: S603 - our own argv
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        stdin, stdout = worker.stdin, worker.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            total = json.loads(stdout.readline())["us"]
            spy = spy_on(py_spy, worker.pid, raw)  # it samples until the worker exits
            stdin.write("go\n")
            stdin.flush()
            if worker.wait(timeout=600) != 0:
                raise RuntimeError(f"the worker failed: {' '.join(command)}")
            split = spied(spy, raw, by_signal)
        finally:
            worker.kill()
    return spread(total, split)


def spy_on(py_spy: str, pid: int, raw: Path, seconds: int | None = None) -> subprocess.Popen[str]:
    """py-spy recording ``pid``'s stacks into ``raw`` (until it exits, or for ``seconds``),
    once it has had a second to attach."""
    options = f"record --rate {SAMPLE_RATE} --format raw --pid {pid}".split()
    if seconds is not None:
        options += ["--duration", str(seconds)]
    spy = subprocess.Popen(  # noqa: S603 - our own argv
        [py_spy, *options, "--output", str(raw)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    return spy


def spied(spy: subprocess.Popen[str], raw: Path, by_signal: bool) -> dict[str, float]:
    """Each step's share of what ``spy`` recorded, once it is done."""
    _, errors = spy.communicate(timeout=120)
    if not raw.exists():
        raise RuntimeError(f"py-spy recorded nothing (may it trace others?)\n{errors}")
    return shares(raw.read_text().splitlines(), by_signal)


def spread(total: float, split: dict[str, float]) -> dict[str, float]:
    """``total`` microseconds, and each step's share of it."""
    return {"total": round(total, 1), **{k: round(v * total, 1) for k, v in split.items()}}


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, user and system (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(
    mode: str, redis: RedisServer, seconds: int, py_spy: str, by_signal: bool
) -> dict[str, float]:
    """The demo's ``/resume/{id}`` as ``overhead.py`` serves it (uvicorn, h11, one worker,
    ``wrk -c16``) in ``mode`` (off, memory, redis): the server's CPU a request from a wrk
    run of its own, split by step and part of the process from a second, sampled run."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    settings = overhead.Settings(
        seconds=seconds, rounds=1, modes=[mode], connections=IN_FLIGHT, threads=1, wrk=wrk
    )
    port = overhead.free_port()
    redis_url = redis.url if mode in overhead.REDIS_MODES else None
    command = overhead.server_command(mode, port, redis_url, None)
    started: list[subprocess.Popen[bytes]] = []
    redis.command("FLUSHALL")
    with tempfile.TemporaryDirectory() as folder:
        raw, log = Path(folder) / "stacks.txt", Path(folder) / "server.log"
        with overhead.demo_server(command, port, log, started) as url:
            pid = started[0].pid
            overhead.run_wrk(settings, url, overhead.WARMUP_SECONDS)
            before = cpu_seconds(pid)
            run = overhead.parse_wrk(overhead.run_wrk(settings, url, seconds), mode, 1)
            spent = cpu_seconds(pid) - before
            spy = spy_on(py_spy, pid, raw, seconds)
            overhead.run_wrk(settings, url, seconds)
            split = spied(spy, raw, by_signal)
        problems = run.problems + overhead.server_problems(log)
    if problems:
        raise RuntimeError(f"{mode}: the run does not measure allowed requests: {problems}")
    return spread(spent / run.responses * 1e6, split)


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown: a row per step, a column per store and implementation."""
    columns = [(flavour, store) for flavour in results for store in results[flavour]]
    labels = list(dict.fromkeys(k for f, s in columns for k in results[f][s]))
    head = "| step | " + " | ".join(f"{store}, {flavour}" for flavour, store in columns) + " |"
    lines = [head, "|---" * (len(columns) + 1) + "|"]
    for label in labels:
        cells = " | ".join(f"{results[f][s].get(label, 0.0):.1f}" for f, s in columns)
        lines.append(f"| {label} | {cells} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Split both stores' cost, with the C parts and with their Python twins (or, with
    ``--served``, the served demo's, bare and guarded); write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--by-signal", action="store_true", help="each signal on a row")
    parser.add_argument(
        "--served", action="store_true", help="the demo under uvicorn and wrk instead"
    )
    parser.add_argument("--seconds", type=int, default=8, help="each wrk run (--served)")
    parser.add_argument("--output", type=Path, help="the results' JSON file")
    parser.add_argument("--worker", metavar="STORE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(work(args.worker, args.requests))
        return 0
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if py_spy is None:
        print("py-spy is not installed: scripts/bootstrap dev installs it", file=sys.stderr)
        return 2
    results: dict[str, dict[str, dict[str, float]]] = {}
    with RedisServer() as server:
        if args.served:
            results["served"] = {
                mode: served(mode, server, args.seconds, py_spy, args.by_signal)
                for mode in ("off", "memory", "redis")
            }
        for flavour in () if args.served else ("native", "pure_python"):
            os.environ["GUARD_NATIVE"] = "1" if flavour == "native" else "0"
            results[flavour] = {
                store: sampled(url, args.requests, py_spy, args.by_signal)
                for store, url in (("memory", "memory://"), ("redis", f"{server.url}?timeout=1"))
            }
    os.environ.pop("GUARD_NATIVE", None)
    print(table(results))
    name = "breakdown_served.json" if args.served else "breakdown.json"
    output = args.output or HERE / "results" / name
    document = {
        "requests": args.requests,
        "passes": PASSES,
        "in_flight": IN_FLIGHT,
        "sample_rate": SAMPLE_RATE,
        "unit": "microseconds of the worker's CPU a request (median of the passes), split "
        "by the share of py-spy's samples in each step",
        "python_version": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        **results,
    }
    if args.served:
        document["unit"] = (
            "microseconds of the server process's CPU a request (one wrk run), split by the "
            "share of py-spy's samples in each step (a second run)"
        )
        document["seconds"] = args.seconds
    output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
