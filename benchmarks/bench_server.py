"""Serve one of ``overhead.py``'s modes on uvicorn as a deployment would: any HTTP parser and
event loop, one worker or several.

The modes are those of ``overhead.py``: ``off`` (the bare demo), ``facts`` (the demo behind
the facts-only diagnostic of ``facts_only.py``), ``memory`` and ``redis`` (the demo behind
the guard, configured from ``bench.toml`` as ``guard demo --config`` configures it) and the
peers ``slowapi`` and ``limits`` of ``peer_server.py``. Each worker builds its app from the
``BENCH_SERVER`` environment variable (uvicorn starts workers from an import string, not an
object), freezes the start-up heap as ``guard demo`` does, and serves.

    .venv/bin/python benchmarks/bench_server.py --mode memory --port 8000 \\
        [--http h11|httptools] [--loop asyncio|uvloop] [--workers N] [--redis-url URL]

``--http httptools --loop uvloop`` is what ``pip install 'uvicorn[standard]'`` gives and
uvicorn then picks by itself; h11 and asyncio are what a bare ``pip install uvicorn`` runs.
With several workers the memory store is one per worker (each keeps its own state); the
Redis store is shared, as in production. Not a product feature: never deploy it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "bench.toml"
MODES = ("off", "facts", "memory", "redis", "slowapi", "limits")
SPEC = "BENCH_SERVER"
"""The environment variable that carries the mode to each worker, as JSON."""


def build(spec: dict[str, Any]) -> Any:
    """The ASGI app one worker serves, from the spec ``main`` wrote."""
    from guard.demo.app import create_demo_app  # noqa: PLC0415 - imported in each worker

    mode, resumes, redis_url = spec["mode"], int(spec["resumes"]), str(spec.get("redis_url"))
    if mode == "off":
        return create_demo_app(resumes)
    if mode == "facts":
        from facts_only import build as facts_only  # noqa: PLC0415

        return facts_only(resumes)
    if mode in {"slowapi", "limits"}:
        from peer_server import OUT_OF_REACH, LimitsMiddleware, slowapi_app  # noqa: PLC0415

        if mode == "slowapi":
            return slowapi_app(redis_url, OUT_OF_REACH, resumes)
        return LimitsMiddleware(create_demo_app(resumes), redis_url, OUT_OF_REACH)
    from guard.demo.config import demo_config  # noqa: PLC0415
    from guard.middleware import GuardMiddleware  # noqa: PLC0415

    settings = {"mode": "enforce", "store": redis_url if mode == "redis" else "memory://"}
    if spec.get("log"):
        settings["decision_log"] = spec["log"]
    return GuardMiddleware(create_demo_app(resumes), demo_config(settings, path=CONFIG))


def factory() -> Any:
    """uvicorn's app factory: the app of the spec in the environment, its heap frozen."""
    app = build(json.loads(os.environ[SPEC]))
    gc.collect()
    gc.freeze()  # as guard demo does, in every mode
    return app


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--resumes", type=int, default=10_000)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--log", default=None, help="the guard's decision log (diagnosis)")
    parser.add_argument("--http", choices=("h11", "httptools"), default="h11")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.mode in {"redis", "slowapi", "limits"} and not args.redis_url:
        parser.error(f"--mode {args.mode} needs --redis-url")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted."""
    import uvicorn  # noqa: PLC0415 - only the server needs it

    args = parse_args(argv)
    spec = {k: getattr(args, k) for k in ("mode", "resumes", "redis_url", "log")}
    os.environ[SPEC] = json.dumps(spec)
    print(
        f"bench server: http://{args.host}:{args.port}/ mode={args.mode} http={args.http} "
        f"loop={args.loop} workers={args.workers}",
        file=sys.stderr,
    )
    uvicorn.run(
        "bench_server:factory",
        factory=True,
        app_dir=str(HERE),
        host=args.host,
        port=args.port,
        http=args.http,
        loop=args.loop,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
