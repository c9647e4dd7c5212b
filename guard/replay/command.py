"""``guard replay``: judge access logs with the guard, and see what a config change does."""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from guard.config import GuardConfig
from guard.config_file import load_config
from guard.errors import ConfigError
from guard.observe.decision_log import DecisionLog

MAX_ERRORS_SHOWN = 5
_GZIP_MAGIC = b"\x1f\x8b"


def add_parser(commands: Any) -> None:
    """Register ``replay`` on the ``guard`` subcommand parser."""
    replay = commands.add_parser(
        "replay",
        help="judge access logs (combined, common or JSON lines) with the guard",
        description="Judge access logs with the guard's engine on the logs' own clock, and "
        "say what it would have done to each client (address and user agent).",
    )
    replay.add_argument(
        "logs", nargs="+", metavar="LOG", help="log files, oldest first (.gz allowed; - is stdin)"
    )
    replay.add_argument("--config", help="the guard's TOML config (default: the library's)")
    replay.add_argument("--compare", metavar="FILE", help="a second config to judge the log under")
    replay.add_argument("--json", metavar="OUT", help="write one JSON line per actor here")
    replay.add_argument(
        "--decisions",
        metavar="OUT",
        help="write every request's decision here, as the decision log does (for guard report)",
    )


def run_replay(args: argparse.Namespace) -> int:
    """Replay the logs; print the summary; write the per-actor JSON lines when asked."""
    from guard.learn.accesslog import ReadStats, read_combined  # noqa: PLC0415
    from guard.replay.jsonlog import logs_headers, looks_like_json, read_json_log  # noqa: PLC0415
    from guard.replay.run import replay_events  # noqa: PLC0415
    from guard.replay.summary import summary  # noqa: PLC0415

    try:
        config = _config(args.config)
        compare = _config(args.compare) if args.compare else None
    except ConfigError as exc:
        print(f"guard replay: {exc}", file=sys.stderr)
        return 2
    stats = ReadStats()
    errors: list[str] = []

    def on_error(number: int, line: str, reason: str) -> None:
        if len(errors) < MAX_ERRORS_SHOWN:
            errors.append(f"line {number}: {reason}: {line[:120]!r}")

    with ExitStack() as stack:
        try:
            files = [stack.enter_context(open_log(path)) for path in args.logs]
        except OSError as exc:
            print(f"guard replay: {exc}", file=sys.stderr)
            return 2
        lines = itertools.chain.from_iterable(files)
        first = next(lines, "")
        lines = itertools.chain([first], lines)
        is_json = looks_like_json(first)
        reader = read_json_log if is_json else read_combined
        events = reader(lines, on_error=on_error, stats=stats)
        headers_logged = is_json and logs_headers(first)
        decisions = stack.enter_context(_decision_log(args.decisions))
        try:
            with _Progress() as progress:
                result = replay_events(
                    events,
                    config,
                    compare,
                    progress=progress,
                    decisions=decisions,
                    headers_logged=headers_logged,
                )
        except (OSError, EOFError) as exc:  # a truncated or corrupt gzip file, a read error
            print(f"guard replay: could not read the log: {exc}", file=sys.stderr)
            return 2
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            for tally in result.outcome.actors.values():
                out.write(json.dumps(tally.as_dict(), ensure_ascii=False) + "\n")
    print(summary(result, stats, errors))
    return 0


def open_log(path: str) -> IO[str]:
    """A log file as text, one character per byte whatever its encoding; gzip is read
    through, and ``-`` is standard input."""
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="latin-1", newline="")
    with Path(path).open("rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="latin-1", newline="")
    return Path(path).open(encoding="latin-1", newline="")


@contextmanager
def _decision_log(path: str | None) -> Iterator[DecisionLog | None]:
    """A decision log writing every decision to ``path``, or None."""
    if path is None:
        yield None
        return
    log = DecisionLog(path, allow_sample=1.0)
    try:
        yield log
    finally:
        log.close()


def _config(path: str | None) -> GuardConfig:
    return load_config(path) if path else GuardConfig()


class _Progress:
    """A count of requests judged on standard error, when it is a terminal."""

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()
        self.began = time.perf_counter()
        self.last = 0.0

    def __call__(self, count: int) -> None:
        now = time.perf_counter()
        if self.shown and now - self.last >= 0.5:
            self.last = now
            rate = count / max(now - self.began, 1e-9)
            print(
                f"\rguard replay: {count:,} requests, {rate:,.0f} a second", end="", file=sys.stderr
            )

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown and self.last:
            print(file=sys.stderr)
