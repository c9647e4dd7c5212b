"""``make loadtest``: locust against the demo, started and stopped here.

Two runs, each a headless locust over ``benchmarks/locustfile.py``:

* ``detection``: people, recruiters and three kinds of scraper against the guarded demo
  (``benchmarks/loadtest.toml``: the demo's policy, X-Forwarded-For trusted from loopback);
  what each class got, records included.
* ``overhead``: :class:`Baseline` on the bare demo and :class:`Guarded` on the guarded one
  (``benchmarks/bench.toml``: every check, nothing refused), paced equally; guarded minus
  baseline latency, against ``--budget-ms``.

``--store`` picks where the guarded demo keeps its state: ``memory`` (its default), a fresh
``redis`` server, or a ``cluster`` of 3 masters on free ports; with a Redis store the summary
also holds what each node did (keys, script calls, CPU), read from ``INFO``.

Each writes ``benchmarks/results/loadtest_<run>[_<store>].json`` (the locustfile's summary)
and, with ``--keep DIR``, locust's CSV and HTML reports there. Exit 1 when a run fails its
budget.

    .venv/bin/python benchmarks/loadtest.py [--runs detection,overhead] [--seconds 60]
        [--users 30] [--processes 1] [--budget-ms 25] [--shape] [--store memory|redis|cluster]
        [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from overhead import demo_server, free_port
from scale import snapshot

from guard.testing.redis import RedisClusterProcess, RedisServer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
RESUMES = 10_000
DETECTION = ["Person", "Recruiter", "SequentialScraper", "RotatingScraper", "ApiEnumerator"]


def demo(stack: ExitStack, config: Path | None, log: Path, store: str | None = None) -> str:
    """A `guard demo` on a free port for the rest of the run (bare when ``config`` is None;
    its state in Redis at ``store`` when given)."""
    port = free_port()
    command = [
        str(ROOT / ".venv" / "bin" / "guard"),
        "demo",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--resumes",
        str(RESUMES),
    ]
    command += ["--mode", "off"] if config is None else ["--config", str(config)]
    if store is not None:
        command += ["--redis-url", store]
    return stack.enter_context(demo_server(command, port, log))


def locust_command(classes: Sequence[str], users: int, seconds: int, *extra: str) -> list[str]:
    """A headless locust over ``locustfile.py``: ``users`` users of ``classes`` spawned over
    about three seconds, for ``seconds``, printing only its summary."""
    return [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(max(users // 3, 1)),
        "-t",
        f"{seconds}s",
        "--only-summary",
        "--stop-timeout",
        "5",
        *extra,
        *classes,
    ]


def locust(
    classes: list[str], env: dict[str, str], args: argparse.Namespace, out: Path, run: str
) -> int:
    """One headless locust run, its CSV and HTML reports in ``out``; its exit code."""
    reports = ["--csv", str(out / run), "--html", str(out / f"{run}.html")]
    if args.processes > 1:
        reports += ["--processes", str(args.processes)]
    command = locust_command(classes, args.users, args.seconds, *reports)
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode  # noqa: S603


def redis_store(stack: ExitStack, kind: str) -> tuple[str | None, list[RedisServer]]:
    """The guarded demo's store for the rest of the run: its URL (None: memory) and its nodes."""
    if kind == "memory":
        return None, []
    if kind == "redis":
        server = stack.enter_context(RedisServer())
        return server.url, [server]
    cluster = stack.enter_context(RedisClusterProcess(3))
    return cluster.url, cluster.nodes


def node_report(
    before: list[dict[str, float]], nodes: list[RedisServer], requests: int
) -> list[dict[str, float]]:
    """What each Redis node did in a run: keys at the end, script calls and CPU a request."""
    after = [snapshot(node) for node in nodes]
    return [
        {
            "keys": int(a["keys"]),
            "script_calls": int(a["scripts"] - b["scripts"]),
            "cpu_us_per_request": round((a["cpu_s"] - b["cpu_s"]) * 1e6 / max(requests, 1), 1),
        }
        for b, a in zip(before, after, strict=True)
    ]


def guarded_requests(summary: dict[str, Any]) -> int:
    """Requests the guarded demo answered in a run (every class but the baseline's)."""
    return sum(
        int(row["requests"])
        for name, row in summary.get("classes", {}).items()
        if not name.startswith(("answer ", "record ")) and "Baseline" not in name
    )


def markdown() -> str:
    """Every summary in ``benchmarks/results`` as one Markdown page (``loadtest.md``)."""
    lines = ["# Load tests (`make loadtest`)", ""]
    for store in ("memory", "redis", "cluster"):
        suffix = "" if store == "memory" else f"_{store}"
        over = RESULTS / f"loadtest_overhead{suffix}.json"
        detect = RESULTS / f"loadtest_detection{suffix}.json"
        if not over.exists() and not detect.exists():
            continue
        lines += [f"## Store: {store}", ""]
        if over.exists():
            rows = json.loads(over.read_text())["classes"]
            lines += [
                "| overhead | req/s | p50 ms | p95 ms | p99 ms |",
                "|---|---:|---:|---:|---:|",
            ]
            for name, r in rows.items():
                times = " | ".join(str(r[f"{p}_ms"]) for p in ("p50", "p95", "p99"))
                lines.append(f"| {name.split()[1]} | {r['rps']} | {times} |")
            lines.append("")
        if detect.exists():
            found = json.loads(detect.read_text())
            lines += ["| class | answers | records |", "|---|---|---:|"]
            for user, answers in sorted(found["answers"].items()):
                told = ", ".join(f"{k} {v}" for k, v in sorted(answers.items()))
                lines.append(f"| {user} | {told} | {found['records'].get(user, 0)} |")
            lines.append("")
        for path in (over, detect):
            nodes = (
                json.loads(path.read_text()).get("store", {}).get("nodes")
                if path.exists()
                else None
            )
            if nodes:
                keys = ", ".join(f"{n['keys']:,}" for n in nodes)
                cpu = ", ".join(f"{n['cpu_us_per_request']}" for n in nodes)
                lines += [
                    f"{path.stem}: keys per node {keys}; Redis CPU a request per node {cpu} µs.",
                    "",
                ]
    return "\n".join(lines)


def main() -> int:
    """Run the load tests asked for; print and write their summaries."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="detection,overhead")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--budget-ms", type=float, default=25.0)
    parser.add_argument("--shape", action="store_true", help="overhead: warm up, hold, step up")
    parser.add_argument("--keep", type=Path, help="keep locust's CSV and HTML reports here")
    parser.add_argument("--store", choices=("memory", "redis", "cluster"), default="memory")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        for run in args.runs.split(","):
            suffix = "" if args.store == "memory" else f"_{args.store}"
            summary = RESULTS / f"loadtest_{run}{suffix}.json"
            env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
            env |= {
                "LOADTEST_SUMMARY": str(summary),
                "LOADTEST_RESUMES": str(RESUMES),
                "LOADTEST_BUDGET_MS": str(args.budget_ms),
            }
            with ExitStack() as stack:
                url, nodes = redis_store(stack, args.store)
                if run == "detection":
                    env["GUARDED_HOST"] = demo(
                        stack, HERE / "loadtest.toml", out / "guarded.log", url
                    )
                    classes = DETECTION
                elif run == "overhead":
                    env["BASELINE_HOST"] = demo(stack, None, out / "bare.log")
                    env["GUARDED_HOST"] = demo(stack, HERE / "bench.toml", out / "guarded.log", url)
                    if args.shape:
                        env["LOADTEST_SHAPE"] = "steps"
                    classes = ["Baseline", "Guarded"]
                else:
                    parser.error(f"unknown run {run!r}: detection or overhead")
                before = [snapshot(node) for node in nodes]
                code = locust(classes, env, args, out, run)
                if nodes and summary.exists():
                    report = json.loads(summary.read_text())
                    report["store"] = {
                        "kind": args.store,
                        "nodes": node_report(before, nodes, guarded_requests(report)),
                    }
                    summary.write_text(json.dumps(report, indent=2))
            failed |= code != 0
            print(
                f"== {run}: locust exit {code}\n{summary.read_text() if summary.exists() else ''}"
            )
    (RESULTS / "loadtest.md").write_text(markdown())
    print(json.dumps({"ok": not failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
