"""What the guard costs: the demo with and without it, under wrk, on loopback.

Runs one server at a time on a free loopback port (``benchmarks/bench_server.py``: the demo
on uvicorn, built as ``guard demo`` builds it), in each mode asked for:

- ``off``: the bare demo app, no middleware (the baseline);
- ``memory``: the guard enforcing with the embedded store and ``benchmarks/bench.toml``;
- ``redis``: the same with ``--redis-url`` to a throwaway ``redis-server`` this script starts
  (skipped, with the reason, when guard has no ``redis://`` store or no server can be had);
- ``facts``: a diagnostic floor, not the guard: the demo behind a middleware that only reads
  each request's facts as the guard does (``benchmarks/facts_only.py``). Every guard mode
  pays at least this much.

Each run: start the server, warm up for a second, run
``wrk -t1 -c16 -d{seconds}s --latency -s benchmarks/wrk_resumes.lua``, stop the server. The
modes are interleaved over several rounds (the order rotating each round) and the median of
each is reported, because a shared 2-core machine is noisy. bench.toml raises every limit out
of reach, so all requests are allowed while every signal still runs: a run with any non-2xx
response measured refusals, not checks, and makes this script exit 1.

    .venv/bin/python benchmarks/overhead.py [--seconds 8] [--rounds 3]
        [--modes off,facts,memory,redis] [--connections 16]
        [--http h11|httptools] [--loop asyncio|uvloop] [--workers 1]

Every mode runs on the same uvicorn: h11 and asyncio by default (a bare ``pip install
uvicorn``), ``--http httptools --loop uvloop`` as ``uvicorn[standard]`` serves in
production, and ``--workers 2`` with two processes (the memory store then one per worker).

Results go to stdout as a table and to ``benchmarks/results/overhead.json``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guard.testing.redis import RedisServer, redis_server_binary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = HERE / "bench.toml"
SCRIPT = HERE / "wrk_resumes.lua"
RESULTS = HERE / "results" / "overhead.json"

MODES = ("off", "facts", "memory", "redis", "slowapi", "limits")
PEERS = ("slowapi", "limits")
"""Peers: other rate limiters on the same page, with Redis storage (benchmarks/peer_server.py)."""
REDIS_MODES = ("redis", *PEERS)
BENCH_SERVER = HERE / "bench_server.py"
PEER_SERVER = HERE / "peer_server.py"
RESUMES = 10_000
CLIENTS = 10_000
WARMUP_SECONDS = 1
PERCENTILES = ("50", "75", "90", "99")
START_TIMEOUT = 30.0
LOOPBACK = "127.0.0.1"


class BenchError(Exception):
    """A problem that stops the benchmark; the message says what to do."""


# ---------------------------------------------------------------------------- wrk output


@dataclass
class WrkRun:
    """One measured wrk run, as parsed from its output."""

    mode: str
    round: int
    requests_per_sec: float
    latency_ms: dict[str, float]
    requests: int
    responses: int
    non2xx: int
    non2xx_statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    server_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Why this run does not measure allowed requests (empty when it does)."""
        found = []
        if self.non2xx:
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.non2xx_statuses.items()))
            found.append(f"{self.non2xx} non-2xx responses ({statuses})")
        errors = {k: v for k, v in self.socket_errors.items() if v}
        if errors:
            found.append("socket errors " + ", ".join(f"{k} {v}" for k, v in errors.items()))
        if self.responses == 0:
            found.append("no responses")
        return found + self.server_problems


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_LATENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+(\d+(?:\.\d+)?)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_BENCH = re.compile(r"^bench: responses=(\d+) non2xx=(\d+) (.*)$", re.MULTILINE)
_BENCH_STATUS = re.compile(r"^bench: non2xx_status (\d+) (\d+)$", re.MULTILINE)


def parse_wrk(output: str, mode: str, round_: int) -> WrkRun:
    """Read requests/sec, the latency percentiles and the script's response counts."""
    rps, requests, bench = _RPS.search(output), _REQUESTS.search(output), _BENCH.search(output)
    if rps is None or requests is None or bench is None:
        raise BenchError(f"could not read wrk's output:\n{output}")
    latency = {
        f"p{float(p):g}": float(value) * _UNIT_MS[unit]
        for p, value, unit in _LATENCY.findall(output)
    }
    missing = [p for p in PERCENTILES if f"p{p}" not in latency]
    if missing:
        raise BenchError(f"wrk printed no {', '.join(missing)}% latency (--latency?):\n{output}")
    errors = {name: int(count) for name, count in re.findall(r"(\w+)=(\d+)", bench.group(3))}
    return WrkRun(
        mode=mode,
        round=round_,
        requests_per_sec=float(rps.group(1)),
        latency_ms=latency,
        requests=int(requests.group(1)),
        responses=int(bench.group(1)),
        non2xx=int(bench.group(2)),
        non2xx_statuses={s: int(n) for s, n in _BENCH_STATUS.findall(output)},
        socket_errors=errors,
    )


# ---------------------------------------------------------------------------- processes


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, indented, for error messages."""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "    (no log)"
    return "\n".join(f"    {line}" for line in text) or "    (empty log)"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process this script started, killing it if it will not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class Server:
    """How uvicorn serves every mode: its HTTP parser, event loop and workers."""

    http: str = "h11"
    loop: str = "asyncio"
    workers: int = 1

    @property
    def name(self) -> str:
        """``h11``, ``httptools+uvloop``, with ``x2`` for two workers."""
        parts = self.http if self.loop == "asyncio" else f"{self.http}+{self.loop}"
        return parts if self.workers == 1 else f"{parts} x{self.workers}"


def server_command(
    mode: str, port: int | str, redis_url: str | None, log: str | None, server: Server = Server()
) -> list[str]:
    """The server command line of one mode (``bench_server.py``, on ``server``'s uvicorn)."""
    if mode in REDIS_MODES and redis_url is None:
        raise BenchError(f"{mode} mode needs a redis URL")
    command = [sys.executable, str(BENCH_SERVER), "--mode", mode, "--host", LOOPBACK]
    command += ["--port", str(port), "--resumes", str(RESUMES)]
    command += ["--http", server.http, "--loop", server.loop, "--workers", str(server.workers)]
    if redis_url is not None and mode in REDIS_MODES:
        command += ["--redis-url", redis_url]
    if log and mode in {"memory", "redis"}:
        command += ["--log", log]
    return command


def server_ready(port: int) -> bool:
    """Whether the demo answers HTTP at all (any status will do)."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
    try:
        connection.request("GET", "/robots.txt")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


@contextlib.contextmanager
def demo_server(
    command: Sequence[str],
    port: int,
    log: Path,
    started: list[subprocess.Popen[bytes]] | None = None,
) -> Iterator[str]:
    """Run `guard demo` until the block ends; yields its base URL (the process goes into
    ``started``, when given, for a caller that watches it)."""
    # GUARD_* variables would change the config under test: the run uses bench.toml only.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own argv
            list(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if started is not None:
        started.append(process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server_ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"guard demo did not start: {shlex.join(command)}\n{tail(log)}")
            time.sleep(0.1)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        stop(process)


# ---------------------------------------------------------------------------- the benchmark


@dataclass
class Settings:
    """What one invocation measures."""

    seconds: int
    rounds: int
    modes: list[str]
    connections: int
    threads: int
    wrk: str
    redis_url: str | None = None
    decision_log: str | None = None
    server: Server = field(default_factory=Server)
    skipped: dict[str, str] = field(default_factory=dict)

    def wrk_command(self, url: str, seconds: int) -> list[str]:
        """The wrk command line for one run against ``url``."""
        return [
            self.wrk,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(SCRIPT),
            url,
            "--",
            str(RESUMES),
            str(CLIENTS),
        ]


def run_wrk(settings: Settings, url: str, seconds: int) -> str:
    """Run wrk once and return what it printed."""
    command = settings.wrk_command(url, seconds)
    done = subprocess.run(  # noqa: S603 - our own argv
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {shlex.join(command)}\n{done.stderr}")
    return done.stdout


def measure(settings: Settings, mode: str, round_: int, redis: RedisServer | None) -> WrkRun:
    """Start the mode's server, warm it up, measure it, stop it."""
    port = free_port()
    redis_url = settings.redis_url or (redis.url if redis else None)
    command = server_command(mode, port, redis_url, settings.decision_log, settings.server)
    if redis is not None and mode in REDIS_MODES:
        redis.command("FLUSHALL")
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp:
        log = Path(tmp) / "server.log"
        with demo_server(command, port, log) as url:
            run_wrk(settings, url, WARMUP_SECONDS)
            output = run_wrk(settings, url, settings.seconds)
        result = parse_wrk(output, mode, round_)
        result.server_problems = server_problems(log)
    if redis is not None and mode in REDIS_MODES and redis.command("DBSIZE") in {"0", ""}:
        result.server_problems.append(f"Redis holds no keys: {mode} never wrote its state")
    return result


_GUARD_TROUBLE = re.compile(
    r"guard: (could not judge|store unavailable|could not record|store failing|held writes lost)"
    r"[^\n]*"
)


def server_problems(log: Path) -> list[str]:
    """What the server logged that makes a run meaningless: requests served unjudged.

    The guard fails open: when it cannot judge a request (an exception, a store that does not
    answer) it serves it anyway, so such a run is fast, all 2xx, and measures nothing.
    """
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return []
    found = collections.Counter(m.group(0)[:160] for m in _GUARD_TROUBLE.finditer(text))
    return [f"server logged {n}x: {line}" for line, n in found.most_common(3)]


def check_peer_live(peer: str, redis_url: str) -> None:
    """A peer with a tiny limit must refuse (429) within six requests: otherwise it would be
    measured doing nothing."""
    port = free_port()
    command = [
        sys.executable,
        str(PEER_SERVER),
        "--peer",
        peer,
        "--redis-url",
        redis_url,
        "--limit",
        "3/minute",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
    ]
    with (
        tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp,
        demo_server(command, port, Path(tmp) / "peer.log") as url,
    ):
        for _ in range(6):
            try:
                urllib.request.urlopen(f"{url}/jobs", timeout=5).close()  # noqa: S310
            except urllib.error.HTTPError as exc:
                if exc.code == 429:
                    return
                raise BenchError(f"{peer} answered {exc.code} in its liveness check") from exc
    raise BenchError(f"{peer} with a limit of 3/minute served 6 requests: it is not live")


def rounds_order(modes: Sequence[str], round_: int) -> list[str]:
    """The modes rotated by the round, so no mode always runs first or last."""
    shift = round_ % len(modes)
    return [*modes[shift:], *modes[:shift]]


def summarize(runs: Sequence[WrkRun], modes: Sequence[str]) -> list[dict[str, Any]]:
    """Per mode: the medians over rounds, and the differences from ``off``."""
    rows: list[dict[str, Any]] = []
    for mode in modes:
        mine = [r for r in runs if r.mode == mode]
        if not mine:
            continue
        rows.append(
            {
                "mode": mode,
                "runs": len(mine),
                "requests_per_sec": statistics.median(r.requests_per_sec for r in mine),
                **{
                    f"p{p}_ms": statistics.median(r.latency_ms[f"p{p}"] for r in mine)
                    for p in PERCENTILES
                },
                "non2xx": sum(r.non2xx for r in mine),
                "valid": not any(r.problems for r in mine),
            }
        )
    base = next((row for row in rows if row["mode"] == "off"), None)
    for row in rows:
        if base is None:
            row |= {
                "ratio_vs_off": None,
                "added_us_per_request": None,
                "added_p50_ms": None,
                "added_p99_ms": None,
            }
            continue
        row["ratio_vs_off"] = row["requests_per_sec"] / base["requests_per_sec"]
        # Server time per request (both cores' worth) over the baseline's: the guard's cost.
        row["added_us_per_request"] = 1e6 / row["requests_per_sec"] - 1e6 / base["requests_per_sec"]
        row["added_p50_ms"] = row["p50_ms"] - base["p50_ms"]
        row["added_p99_ms"] = row["p99_ms"] - base["p99_ms"]
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The summary as a fixed-width text table."""

    def num(value: float | None, spec: str, signed: bool = False) -> str:
        if value is None:
            return "-"
        return format(value, ("+" if signed else "") + spec)

    header = (
        "mode",
        "req/s",
        "vs off",
        "+us/req",
        "p50 ms",
        "p99 ms",
        "+p50 ms",
        "+p99 ms",
        "non-2xx",
    )
    lines = [header]
    for row in rows:
        is_base = row["mode"] == "off"
        lines.append(
            (
                row["mode"],
                num(row["requests_per_sec"], ".0f"),
                num(row["ratio_vs_off"], ".3f"),
                "-" if is_base else num(row["added_us_per_request"], ".0f", signed=True),
                num(row["p50_ms"], ".2f"),
                num(row["p99_ms"], ".2f"),
                "-" if is_base else num(row["added_p50_ms"], ".2f", signed=True),
                "-" if is_base else num(row["added_p99_ms"], ".2f", signed=True),
                str(row["non2xx"]),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


# ---------------------------------------------------------------------------- environment


def redis_unavailable(settings: Settings) -> str | None:
    """Why the redis mode cannot run here, or None when it can."""
    store = importlib.import_module("guard.store")
    if importlib.util.find_spec("guard.store.redis") is not None:
        try:
            importlib.import_module("guard.store.redis")
        except ImportError as exc:
            return f"guard.store.redis does not import ({exc}); pip install 'guard[redis]'"
    schemes = getattr(store, "_SCHEMES", None)
    if isinstance(schemes, dict) and "redis" not in schemes:
        known = ", ".join(sorted(schemes))
        return f"guard.store has no 'redis' scheme registered yet (known: {known})"
    if settings.redis_url is None and shutil.which("redis-server") is None:
        return "no redis-server on PATH (apt-get install redis-server) and no --redis-url"
    return None


def first_line(command: Sequence[str]) -> str:
    """The first line a command prints (stdout or stderr), '' if it cannot run."""
    try:
        done = subprocess.run(  # noqa: S603 - our own fixed argv
            list(command), capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout.strip() or done.stderr.strip()).partition("\n")[0]


def version_of(distribution: str) -> str | None:
    """An installed distribution's version, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info(settings: Settings, redis: RedisServer | None) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.partition(":")[2].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "uvicorn": version_of("uvicorn"),
        "starlette": version_of("starlette"),
        "guard": version_of("guard"),
        "redis_py": version_of("redis"),
        "wrk": first_line([settings.wrk, "-v"]),
        "redis_server": first_line([redis_server_binary(), "--version"]) if redis else None,
        "loadavg_at_start": list(os.getloadavg()),
    }


def decision_reasons(path: str) -> collections.Counter[str]:
    """Reasons of the refusals in a decision log, counted."""
    reasons: collections.Counter[str] = collections.Counter()
    with contextlib.suppress(OSError), open(path, encoding="utf-8") as handle:
        for line in handle:
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("status", 200) >= 300:
                    reasons.update(entry.get("reasons", []))
    return reasons


# ---------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the guard's overhead on allowed requests: guarded vs bare demo."
    )
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per run (8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument(
        "--modes",
        default=",".join(MODES[:4]),
        help="comma-separated, of off,facts,memory,redis (the default) and peers slowapi,limits",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="use this Redis instead of starting a throwaway redis-server (its keys are not "
        "flushed between runs, so state carries over: use a throwaway one, never a shared one)",
    )
    parser.add_argument(
        "--decision-log",
        default=None,
        metavar="FILE",
        help="guarded servers append decisions here, to see why traffic was refused "
        "(writing it adds cost: diagnosis only)",
    )
    parser.add_argument(
        "--http",
        choices=("h11", "httptools"),
        default="h11",
        help="uvicorn's HTTP parser (h11; httptools is what uvicorn[standard] picks)",
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="uvicorn's event loop (asyncio; uvloop is what uvicorn[standard] picks)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes for every mode (1)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        parser.error(f"--modes: expected some of {','.join(MODES)}, got {args.modes!r}")
    if min(args.seconds, args.rounds, args.connections, args.threads, args.workers) < 1:
        parser.error(
            "--seconds, --rounds, --connections, --threads and --workers must be at least 1"
        )
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    args.modes = list(dict.fromkeys(modes))
    return args


def preflight(args: argparse.Namespace) -> Settings:
    """Check the tools, and decide which modes run."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    if importlib.util.find_spec("guard") is None:
        raise BenchError(
            f"{sys.executable} cannot import guard: run this with the project's venv "
            "(.venv/bin/python benchmarks/overhead.py)"
        )
    if importlib.util.find_spec("uvicorn") is None:
        raise BenchError("uvicorn is not installed: pip install -e '.[demo]'")
    for module in {args.http, args.loop} - {"h11", "asyncio"}:
        if importlib.util.find_spec(module) is None:
            raise BenchError(f"{module} is not installed: pip install 'uvicorn[standard]'")
    settings = Settings(
        seconds=args.seconds,
        rounds=args.rounds,
        modes=list(args.modes),
        connections=args.connections,
        threads=args.threads,
        wrk=wrk,
        redis_url=args.redis_url,
        decision_log=args.decision_log,
        server=Server(args.http, args.loop, args.workers),
    )
    if "redis" in settings.modes:
        reason = redis_unavailable(settings)
        if reason is not None:
            print(f"skipping redis mode: {reason}", file=sys.stderr)
            settings.skipped["redis"] = reason
            settings.modes.remove("redis")
    for peer in [mode for mode in settings.modes if mode in PEERS]:
        if importlib.util.find_spec(peer) is None:
            print(f"skipping {peer} mode: pip install {peer}", file=sys.stderr)
            settings.skipped[peer] = f"{peer} is not installed"
            settings.modes.remove(peer)
    if not settings.modes:
        raise BenchError("no mode left to run")
    return settings


def benchmark(settings: Settings, redis: RedisServer | None) -> list[WrkRun]:
    """Every round, every mode; progress on stderr."""
    runs: list[WrkRun] = []
    for round_ in range(1, settings.rounds + 1):
        for mode in rounds_order(settings.modes, round_ - 1):
            run = measure(settings, mode, round_, redis)
            status = "; ".join(run.problems) or "ok"
            print(
                f"round {round_}/{settings.rounds} {mode:<6} {run.requests_per_sec:9.1f} req/s  "
                f"p50 {run.latency_ms['p50']:.2f} ms  p99 {run.latency_ms['p99']:.2f} ms  "
                f"{status}",
                file=sys.stderr,
                flush=True,
            )
            runs.append(run)
    return runs


def write_results(
    path: Path,
    settings: Settings,
    *,
    machine: dict[str, Any],
    runs: Sequence[WrkRun],
    rows: Sequence[dict[str, Any]],
    redis: RedisServer | None,
) -> None:
    """The whole run as JSON, for comparing machines and commits."""
    placeholder = f"http://{LOOPBACK}:PORT"
    redis_url = settings.redis_url or (redis.url if redis else None)
    result = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "settings": {
            "seconds": settings.seconds,
            "rounds": settings.rounds,
            "modes": settings.modes,
            "connections": settings.connections,
            "threads": settings.threads,
            "warmup_seconds": WARMUP_SECONDS,
            "resumes": RESUMES,
            "clients": CLIENTS,
            "config": str(CONFIG),
            "decision_log": settings.decision_log,
            "server": asdict(settings.server) | {"name": settings.server.name},
        },
        "wrk_command": shlex.join(settings.wrk_command(placeholder, settings.seconds)),
        "server_commands": {
            mode: shlex.join(
                server_command(mode, "PORT", redis_url, settings.decision_log, settings.server)
            )
            for mode in settings.modes
        },
        "skipped": settings.skipped,
        "machine": machine,
        "valid": all(row["valid"] for row in rows),
        "summary": list(rows),
        "runs": [asdict(run) | {"problems": run.problems} for run in runs],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    settings = preflight(args)
    with contextlib.ExitStack() as stack:
        redis: RedisServer | None = None
        if set(REDIS_MODES) & set(settings.modes) and settings.redis_url is None:
            redis = stack.enter_context(RedisServer())
        for peer in [mode for mode in settings.modes if mode in PEERS]:
            check_peer_live(peer, settings.redis_url or (redis.url if redis else ""))
        machine = machine_info(settings, redis)
        runs = benchmark(settings, redis)
        rows = summarize(runs, settings.modes)
        write_results(args.output, settings, machine=machine, runs=runs, rows=rows, redis=redis)
    print(
        f"\nmedians of {settings.rounds} round(s), {settings.seconds} s each, "
        f"wrk -t{settings.threads} -c{settings.connections}, uvicorn {settings.server.name}, "
        f"{nproc_note()}"
    )
    print(table(rows))
    for mode, reason in settings.skipped.items():
        print(f"({mode} skipped: {reason})")
    print(f"\nresults: {args.output}")
    invalid = [run for run in runs if run.problems]
    if not invalid:
        return 0
    print(
        "\nINVALID: the guard refused benchmark traffic, so these numbers measure refusals, "
        "not checks:",
        file=sys.stderr,
    )
    for bad in invalid:
        print(f"  round {bad.round} {bad.mode}: {'; '.join(bad.problems)}", file=sys.stderr)
    if settings.decision_log:
        reasons = decision_reasons(settings.decision_log).most_common(10)
        print(f"  decision log reasons: {reasons}", file=sys.stderr)
    else:
        print("  rerun with --decision-log /tmp/bench-decisions.jsonl to see why", file=sys.stderr)
    return 1


def nproc_note() -> str:
    cores = len(os.sched_getaffinity(0))
    return f"{cores} core(s) shared by wrk and the server"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"overhead: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("overhead: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
