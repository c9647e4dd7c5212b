"""Attack matrix: how many of 10,000 records harvesting campaigns of many shapes get.

Each cell serves a fresh demo (10,000 resumes) behind the guard with the demo's default
config on a real uvicorn on loopback and the real clock, and runs one campaign of
``guard.testing.campaigns`` from 200 rotating addresses (each in its own /24):

- no-JavaScript campaigns: rotation 1, 3, 10, 30 reads per address x order sequential,
  random, listing x cookies kept or dropped x assets loaded or not (Chrome's full headers);
- solving campaigns: the same scraper solving every proof of work natively (rotation 10 and
  1, order random and listing), with the solver's CPU seconds;
- a slow campaign whose pace keeps every address under the per-client rates;
- an account campaign signed in with the demo's 50 bought logins.

People beside it, on their own apps: ``benchmarks/people.py``.

Run: ``make bench-attacks`` or ``.venv/bin/python benchmarks/attack_matrix.py [--tries N]
[--quick] [--only NAME[,NAME]] [--redis-url URL] [--output FILE]``. Writes
``benchmarks/results/attack_matrix.json`` and ``.md`` (or ``--output`` and the ``.md`` beside
it) and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import live_server
from guard.testing.campaigns import CampaignResult, CampaignSpec, Order, run_campaign

FIRST_ID, RECORDS = 100000, 10_000
SECRET = "benchmark-secret-0123456789"  # noqa: S105 - the benchmarks' fixed secret
RESULTS = Path(__file__).parent / "results"
SLOW_PACE = 2.5
"""Seconds between an address's pages: 24 a minute, under the 30 records a minute an
address may read (the strictest per-client rate in the library's record limits)."""


@dataclass(frozen=True)
class Cell:
    """One campaign of the matrix: its name, group and spec, and its wall-time bound."""

    name: str
    group: str
    spec: CampaignSpec
    deadline: float = 300.0


def cells(tries: int, quick: bool) -> list[Cell]:
    """The matrix: the whole of it, or with ``quick`` a reduced subset."""
    rotations = (1, 10) if quick else (1, 3, 10, 30)
    orders: tuple[Order, ...] = (
        ("random", "listing") if quick else ("sequential", "random", "listing")
    )
    jars = (True,) if quick else (True, False)
    asset_modes = (False,) if quick else (False, True)
    matrix: list[Cell] = []
    for rotation, order, cookies, assets in itertools.product(rotations, orders, jars, asset_modes):
        name = (
            f"nojs-r{rotation}-{order}-{'cookies' if cookies else 'nocookies'}"
            f"-{'assets' if assets else 'noassets'}"
        )
        spec = CampaignSpec(
            per_address=rotation, order=order, cookies=cookies, assets=assets, tries=tries
        )
        matrix.append(Cell(name, "no-js", spec))
    followed: tuple[Order, ...] = ("random", "listing")
    for rotation, order in itertools.product((10,) if quick else (10, 1), followed):
        spec = CampaignSpec(per_address=rotation, order=order, solve=True, tries=tries)
        matrix.append(Cell(f"solve-r{rotation}-{order}", "solving", spec, deadline=600.0))
    # As many tries as the others (once its addresses are turned back it moves on quickly);
    # the deadline bounds a run whose pace is not cut short.
    slow_tries = min(tries, 300) if quick else tries
    slow = CampaignSpec(per_address=10, assets=True, pace=SLOW_PACE, tries=slow_tries)
    matrix.append(Cell("slow-r10-random-assets", "slow", slow, deadline=90.0 if quick else 600.0))
    accounts = CampaignSpec(per_address=10, login=True, tries=tries)
    matrix.append(Cell("accounts-r10-random", "accounts", accounts))
    return matrix


class Site:
    """Fresh guarded demo apps, one per cell, on memory or (with a URL) a shared Redis
    under a key prefix of their own."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url
        self.serial = itertools.count()

    def app(self) -> GuardMiddleware:
        """A new demo with the demo's default config (and its own store or key prefix)."""
        settings: dict[str, Any] = {"secret": SECRET}
        if self.redis_url:
            settings |= {
                "store": self.redis_url,
                "key_prefix": f"attacks-{os.getpid()}-{next(self.serial)}",
            }
        return GuardMiddleware(create_demo_app(RECORDS), demo_config(settings))


def run_cell(cell: Cell, site: Site) -> dict[str, Any]:
    """Serve a fresh app and run the cell's campaign against it."""
    app = site.app()
    with live_server(app) as base:
        result = run_campaign(base, cell.spec, FIRST_ID, RECORDS, deadline=cell.deadline)
    stats = app.guard.challenges.stats
    return {
        "name": cell.name,
        "group": cell.group,
        "spec": dataclasses.asdict(cell.spec),
        **summary(result),
        "guard_challenges": {
            "issued": stats.issued,
            "passed": stats.passed,
            "failed": stats.failed,
        },
    }


def summary(result: CampaignResult) -> dict[str, Any]:
    """A campaign's result as JSON-ready numbers."""
    harvested = len(result.harvested)
    cpu = result.pow_cpu_seconds
    return {
        "tried": result.tried,
        "harvested": harvested,
        "share": round(harvested / result.tried, 4) if result.tried else 0.0,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "challenges": result.challenges,
        "solves": result.solves,
        "pow_cpu_seconds": round(cpu, 3),
        "pow_cpu_per_record": round(cpu / harvested, 4) if harvested and result.solves else None,
        "pow_cpu_per_10k_tries": (
            round(cpu * 10_000 / result.tried, 1) if result.tried and result.solves else None
        ),
        "requests": result.requests,
        "errors": result.errors,
        "seconds": round(result.seconds, 1),
    }


def git_commit() -> str:
    """The commit benchmarked, with ``-dirty`` when the work tree has changes."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(  # noqa: S603 - our own argv
                ["git", *args],  # noqa: S607 - git from PATH
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).parent,
            )
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def _cell_row(row: dict[str, Any]) -> str:
    def num(value: object) -> str:
        return "-" if value is None else str(value)

    statuses = " ".join(f"{k}:{v}" for k, v in row["statuses"].items())
    if row["errors"]:
        statuses += f" errors:{row['errors']}"
    return (
        f"| {row['name']} | {row['tried']} | {row['harvested']} | {100 * row['share']:.1f}% "
        f"| {row['challenges']} | {row['solves']} | {row['pow_cpu_seconds']} "
        f"| {num(row['pow_cpu_per_record'])} | {num(row['pow_cpu_per_10k_tries'])} "
        f"| {row['requests']} | {statuses} | {row['seconds']} |"
    )


def markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown table."""
    run = report["run"]
    lines = [
        "# Attack matrix",
        "",
        f"{report['date']}, commit `{report['commit']}`, {report['records']:,} records, "
        f"store {run['store']}, {'quick subset' if run['quick'] else 'full matrix'}, "
        f"{run['tries']} tries a campaign (the slow one: as many as its deadline allows), "
        "200 addresses, demo default config.",
        "",
        "| cell | tried | harvested | share | challenges | solves | PoW CPU s "
        "| CPU s / record | CPU s / 10k tries | requests | statuses | s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        *(_cell_row(row) for row in report["cells"]),
    ]
    lines += ["", "People beside it: `benchmarks/people.py` (people.md)."]
    return "\n".join(lines) + "\n"


def selected(all_cells: list[Cell], only: str | None) -> Iterator[Cell]:
    """The cells whose names contain one of the comma-separated ``only`` names."""
    names = [n.strip() for n in (only or "").split(",") if n.strip()]
    return (c for c in all_cells if not names or any(n in c.name for n in names))


def main() -> int:
    """Run the matrix, print its table and write the JSON and Markdown results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=2_000, help="record reads per campaign")
    parser.add_argument("--quick", action="store_true", help="a reduced subset of the matrix")
    parser.add_argument("--only", help="cells whose names contain this (comma-separated)")
    parser.add_argument("--redis-url", help="use this Redis as the store (else memory://)")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS / "attack_matrix.json",
        help="the JSON results file; the Markdown table goes beside it (.md)",
    )
    args = parser.parse_args()
    site = Site(args.redis_url)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": git_commit(),
        "python": platform.python_version(),
        "records": RECORDS,
        "run": {
            "tries": args.tries,
            "quick": args.quick,
            "only": args.only,
            "store": "redis" if args.redis_url else "memory",
        },
        "cells": [],
    }
    json_out, md_out = args.output, args.output.with_suffix(".md")
    json_out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        json_out.write_text(json.dumps(report, indent=2) + "\n")
        md_out.write_text(markdown(report))

    for cell in selected(cells(args.tries, args.quick), args.only):
        row = run_cell(cell, site)
        report["cells"].append(row)
        print(
            f"{cell.name}: {row['harvested']} of {row['tried']} in {row['seconds']} s",
            file=sys.stderr,
            flush=True,
        )
        save()  # a long run that stops early still leaves what it measured
    save()
    print(markdown(report), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
