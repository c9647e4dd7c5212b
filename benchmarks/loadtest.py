"""``make loadtest``: locust against the demo, started and stopped here.

Two runs, each a headless locust over ``benchmarks/locustfile.py``:

* ``detection``: people, recruiters and three kinds of scraper against the guarded demo
  (``benchmarks/loadtest.toml``: the demo's policy, X-Forwarded-For trusted from loopback);
  what each class got, records included.
* ``overhead``: :class:`Baseline` on the bare demo and :class:`Guarded` on the guarded one
  (``benchmarks/bench.toml``: every check, nothing refused), paced equally; guarded minus
  baseline latency, against ``--budget-ms``.

Each writes ``benchmarks/results/loadtest_<run>.json`` (the locustfile's summary) and, with
``--keep DIR``, locust's CSV and HTML reports there. Exit 1 when a run fails its budget.

    .venv/bin/python benchmarks/loadtest.py [--runs detection,overhead] [--seconds 60]
        [--users 30] [--processes 1] [--budget-ms 25] [--shape] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from overhead import demo_server, free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
RESUMES = 10_000
DETECTION = ["Person", "Recruiter", "SequentialScraper", "RotatingScraper", "ApiEnumerator"]


def demo(stack: ExitStack, config: Path | None, log: Path) -> str:
    """A `guard demo` on a free port for the rest of the run (bare when ``config`` is None)."""
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
    return stack.enter_context(demo_server(command, port, log))


def locust(
    classes: list[str], env: dict[str, str], args: argparse.Namespace, out: Path, run: str
) -> int:
    """One headless locust run; its exit code."""
    command = [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(max(args.users // 3, 1)),
        "-t",
        f"{args.seconds}s",
        "--csv",
        str(out / run),
        "--html",
        str(out / f"{run}.html"),
        "--only-summary",
        "--stop-timeout",
        "5",
        *classes,
    ]
    if args.processes > 1:
        command[3:3] = ["--processes", str(args.processes)]
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode  # noqa: S603


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
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        for run in args.runs.split(","):
            summary = RESULTS / f"loadtest_{run}.json"
            env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
            env |= {
                "LOADTEST_SUMMARY": str(summary),
                "LOADTEST_RESUMES": str(RESUMES),
                "LOADTEST_BUDGET_MS": str(args.budget_ms),
            }
            with ExitStack() as stack:
                if run == "detection":
                    env["GUARDED_HOST"] = demo(stack, HERE / "loadtest.toml", out / "guarded.log")
                    code = locust(DETECTION, env, args, out, run)
                elif run == "overhead":
                    env["BASELINE_HOST"] = demo(stack, None, out / "bare.log")
                    env["GUARDED_HOST"] = demo(stack, HERE / "bench.toml", out / "guarded.log")
                    if args.shape:
                        env["LOADTEST_SHAPE"] = "steps"
                    code = locust(["Baseline", "Guarded"], env, args, out, run)
                else:
                    parser.error(f"unknown run {run!r}: detection or overhead")
            failed |= code != 0
            print(
                f"== {run}: locust exit {code}\n{summary.read_text() if summary.exists() else ''}"
            )
    print(json.dumps({"ok": not failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
