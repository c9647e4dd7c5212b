"""A diagnostic server for the overhead benchmark: the demo behind the guard's first step only.

The middleware here reads each request's facts exactly as the guard does
(``FactExtractor.extract``: headers decoded, the client's address resolved through the
trusted proxy, its network, user agent, header fingerprint, cookies) and then serves the
demo. No signal, store, policy or cookie runs. Whatever this costs, a guard that looks at
the request at all pays at least as much, so its throughput against the bare demo is a
ceiling for the whole guard's (``overhead.py --modes off,facts,memory``).

Served as ``guard demo`` serves (uvicorn's defaults, the start-up heap frozen), with
``benchmarks/bench.toml``. Not a product feature: never deploy it.

    .venv/bin/python benchmarks/facts_only.py --port 8000 [--host 127.0.0.1] [--resumes N]
        [--time-extract]

With ``--time-extract`` it also times each extraction (CPU time, which adds a little cost of
its own) and prints the mean when it stops: what reading the facts takes inside a busy
server, rather than in ``hot_path.py``'s quiet loop.
"""

from __future__ import annotations

import argparse
import gc
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.facts import FactExtractor
from guard.signing import Signer
from guard.types import ASGIApp, Receive, Scope, Send

CONFIG = Path(__file__).resolve().parent / "bench.toml"


class FactsOnly:
    """Extract the guard's facts of every HTTP request, then call ``app`` unchanged."""

    def __init__(self, app: ASGIApp, facts: FactExtractor, timed: bool = False) -> None:
        self.app = app
        self.facts = facts
        self.timed = timed
        self.extracted = 0
        self.seconds = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            began = time.thread_time() if self.timed else 0.0
            self.facts.extract(scope, time.time())
            if self.timed:
                self.seconds += time.thread_time() - began
            self.extracted += 1
        await self.app(scope, receive, send)

    def timing(self) -> str:
        """The mean CPU time an extraction took, as a line to print."""
        mean = self.seconds / self.extracted * 1e6 if self.extracted else 0.0
        return f"facts-only: {self.extracted} requests, extract {mean:.1f} us of CPU each"


def build(resumes: int, timed: bool = False) -> FactsOnly:
    """The demo app behind :class:`FactsOnly`, configured from ``bench.toml``."""
    config = demo_config(path=CONFIG)
    return FactsOnly(
        create_demo_app(resumes),
        FactExtractor(config, Signer(config.secret or secrets.token_bytes(32))),
        timed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn  # noqa: PLC0415 - only the server needs it

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--resumes", type=int, default=10_000)
    parser.add_argument("--time-extract", action="store_true", help="time each extraction")
    args = parser.parse_args(argv)
    app = build(args.resumes, args.time_extract)
    gc.collect()
    gc.freeze()  # as guard demo does, in every mode
    print(f"facts-only demo: http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    if args.time_extract:
        print(app.timing(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
