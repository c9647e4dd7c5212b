"""``guard report``: an HTML report with plots from decision logs."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from guard.config import GuardConfig
from guard.config_file import load_config
from guard.errors import ConfigError


def add_parser(commands: Any) -> None:
    """Register ``report`` on the ``guard`` subcommand parser."""
    report = commands.add_parser(
        "report",
        help="an HTML report with plots from decision logs (needs guard[report])",
        description="Draw one self-contained HTML file from JSON-lines decision logs: the "
        "guard's own (decision_log) or guard replay --decisions.",
    )
    report.add_argument("logs", nargs="+", metavar="LOG", help="decision logs (.gz allowed)")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--config", help="the config whose thresholds to draw")
    report.add_argument("--labels", help="labels.csv (ip, user_agent, label) to judge against")
    report.add_argument("--title", default="guard report")


def run_report(args: argparse.Namespace) -> int:
    """Read the logs, draw the report, write it."""
    try:
        from guard.report.page import ReportInput, render  # noqa: PLC0415 - needs matplotlib
    except ImportError as exc:
        print(f"guard report: {exc}; install guard[report] (matplotlib)", file=sys.stderr)
        return 2
    from guard.learn.accesslog import Labels  # noqa: PLC0415
    from guard.replay.command import open_log  # noqa: PLC0415
    from guard.report.data import read_decisions  # noqa: PLC0415

    try:
        config = load_config(args.config) if args.config else GuardConfig()
        labels = Labels.read(args.labels) if args.labels else None
        with ExitStack() as stack:
            streams = [stack.enter_context(open_log(path)) for path in args.logs]
            decisions = read_decisions(streams)
    except (ConfigError, OSError, EOFError) as exc:
        print(f"guard report: {exc}", file=sys.stderr)
        return 2
    thresholds = config.thresholds
    page = render(ReportInput(decisions, thresholds.gray, thresholds.block, labels, args.title))
    Path(args.out).write_text(page, encoding="utf-8")
    print(
        f"guard report: {len(decisions.lines):,} decisions ({decisions.malformed:,} lines not "
        f"understood) -> {args.out}",
        file=sys.stderr,
    )
    return 0
