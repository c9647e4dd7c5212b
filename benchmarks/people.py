"""People benchmark: what people met from the guard, by hour of the site's day and by config.

People come from ``guard.testing.people``, a generator written apart from the simulator the
model was trained on (its own personas, headers and published browsing statistics), and
from Debian's Chromium driven by Playwright. Each run serves a fresh demo (10,000 resumes)
behind the guard on a real uvicorn on loopback; the guard's clock starts at the run's
site-local hour and runs ``--speed`` times faster than the wall, and people read at that
speed, so an hour of reading fits in minutes.

With ``--campaign`` a no-JavaScript campaign (``BESIDE``: one record per address from 200
rotating addresses, random ids over the whole id space) runs against the same server for
the first ``CAMPAIGN_SECONDS`` of each run, so the people arrive while the guard holds a
campaign: what it costs them.

Run: ``make bench-people`` or ``.venv/bin/python benchmarks/people.py [--sessions N]
[--speed X] [--hours H,H] [--paces P,P] [--configs default,model] [--chromium N] [--campaign]
[--output FILE]``. Writes ``benchmarks/results/people.json`` and ``.md`` (or ``--output``
and the ``.md`` beside it) and prints the table.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.observe.decision_log import DecisionLog
from guard.testing import live_server
from guard.testing.campaigns import CampaignSpec, run_campaign
from guard.testing.people import (
    AcceleratedClock,
    ChromiumUnavailable,
    run_chromium_people,
    run_people,
    site_time,
)

RECORDS = 10_000
FIRST_ID = 100000
BESIDE = CampaignSpec(addresses=200, per_address=1, order="random", tries=100_000)
CAMPAIGN_SECONDS = 75.0
"""Wall seconds the campaign beside the people runs (a run of people takes 80 to 95)."""
SECRET = "benchmark-secret-0123456789"  # noqa: S105 - the benchmarks' fixed secret
RESULTS = Path(__file__).parent / "results"
CONFIGS: dict[str, dict[str, object]] = {"default": {}, "model": {"model": "shipped"}}
"""The demo's default config (the model off), and the same with the shipped model on."""


def app_at(
    hour: float, speed: float, settings: dict[str, object]
) -> tuple[GuardMiddleware, io.StringIO]:
    """A fresh guarded demo whose clock starts at ``hour`` site-local and runs at ``speed``,
    and its decision log (refusals and flagged requests)."""
    config = demo_config({"secret": SECRET, **settings})
    clock = AcceleratedClock(site_time(hour, utc_offset_hours=config.utc_offset_hours), speed)
    log = io.StringIO()
    app = GuardMiddleware(
        create_demo_app(RECORDS), config, clock=clock, decision_log=DecisionLog(log, 0.0)
    )
    return app, log


def people_run(
    hour: float, config: str, args: argparse.Namespace, pace: float = 1.0
) -> dict[str, Any]:
    """One run of the generator's people at ``hour`` under ``config``, reading at ``pace``
    times the published dwell times."""
    app, log = app_at(hour, args.speed, CONFIGS[config])
    start = time.perf_counter()
    with live_server(app) as base, campaign_beside(base, args.campaign) as campaign:
        rows = run_people(
            base,
            sessions=args.sessions,
            seed=args.seed,
            speed=args.speed,
            pace=pace,
            deadline=args.deadline,
        )
    total: Counter[str] = Counter()
    for counts in rows.values():
        total.update(counts)
    return {
        "population": "generator",
        "hour": hour,
        "config": config,
        "pace": pace,
        "rows": rows,
        "total": dict(total),
        "reasons": reasons_met(log),
        "campaign": campaign,
        "seconds": round(time.perf_counter() - start, 1),
    }


def chromium_run(hour: float, config: str, args: argparse.Namespace) -> dict[str, Any]:
    """Real Chromium sessions at ``hour`` under ``config``."""
    app, log = app_at(hour, args.speed, CONFIGS[config])
    start = time.perf_counter()
    with live_server(app) as base, campaign_beside(base, args.campaign) as campaign:
        counts = run_chromium_people(
            base, sessions=args.chromium, seed=args.seed, speed=args.speed, deadline=300.0
        )
    return {
        "population": "chromium",
        "hour": hour,
        "config": config,
        "total": counts,
        "reasons": reasons_met(log),
        "campaign": campaign,
        "seconds": round(time.perf_counter() - start, 1),
    }


@contextmanager
def campaign_beside(base: str, wanted: bool) -> Iterator[dict[str, int]]:
    """With ``wanted``, run ``BESIDE`` against ``base`` in a thread for
    ``CAMPAIGN_SECONDS`` while the body runs; the dict it yields gets what the campaign
    tried and harvested once it is over (empty without a campaign)."""
    got: dict[str, int] = {}
    if not wanted:
        yield got
        return

    def campaign() -> None:
        result = run_campaign(base, BESIDE, FIRST_ID, RECORDS, deadline=CAMPAIGN_SECONDS, workers=1)
        got.update(tried=result.tried, harvested=len(result.harvested))

    thread = threading.Thread(target=campaign, name="campaign-beside", daemon=True)
    thread.start()
    try:
        yield got
    finally:
        thread.join()


def reasons_met(log: io.StringIO) -> dict[str, int]:
    """The leading reason of each challenge or refusal in the decision log, counted."""
    found: Counter[str] = Counter()
    for line in log.getvalue().splitlines():
        decision = json.loads(line)
        if decision["action"] != "allow" and decision["reasons"]:
            found[f"{decision['action']}:{decision['reasons'][0]}"] += 1
    return dict(found.most_common(8))


def markdown(report: dict[str, Any]) -> str:
    """The runs as a Markdown table: sessions and what they met, by population, hour, config."""
    lines = [
        "# People benchmark",
        "",
        f"{report['date']}, {report['sessions']} generator sessions a run at speed "
        f"{report['speed']}, seed {report['seed']}, demo config (`model` off) and with the "
        "shipped model."
        + (
            " A no-JavaScript campaign (200 rotating addresses, one random record each) runs "
            f"beside the people for the first {CAMPAIGN_SECONDS:g} s of each run."
            if report.get("campaign")
            else ""
        ),
        "",
        "Pace scales the generator's dwell times (0.1: ten times quicker readers, never under "
        "a second a page); Chromium sessions keep their own paces (brisk, steady, slow).",
        "",
        "| population | site hour | pace | config | sessions | served | challenged | blocked "
        "| throttled | records | s |" + (" campaign harvested |" if report.get("campaign") else ""),
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: |" if report.get("campaign") else ""),
    ]
    for run in report["runs"]:
        t, beside = run["total"], run.get("campaign") or {}
        blocked = t.get("blocked", t.get("refused", 0))
        lines.append(
            f"| {run['population']} | {run['hour']:g} | {run.get('pace', 1.0):g} "
            f"| {run['config']} | {t.get('sessions', 0)} "
            f"| {t.get('served', 0)} | {t.get('challenged', 0)} | {blocked} "
            f"| {t.get('throttled', 0)} | {t.get('records', 0)} | {run['seconds']} |"
            + (
                f" {beside.get('harvested', 0)} of {beside.get('tried', 0)} |"
                if report.get("campaign")
                else ""
            )
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run the people at each hour under each config and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100, help="generator sessions a run")
    parser.add_argument("--speed", type=float, default=20.0, help="guard seconds a wall second")
    parser.add_argument("--hours", default="3.5,14,21", help="site-local hours, comma-separated")
    parser.add_argument(
        "--paces", default="1", help="generator dwell-time factors, comma-separated (0.1: quick)"
    )
    parser.add_argument("--configs", default="default,model", help="of: default, model")
    parser.add_argument("--chromium", type=int, default=3, help="Chromium sessions a run (0: none)")
    parser.add_argument("--seed", type=int, default=58)
    parser.add_argument("--deadline", type=float, default=240.0, help="wall seconds a run")
    parser.add_argument("--output", type=Path, default=RESULTS / "people.json")
    parser.add_argument(
        "--campaign", action="store_true", help="a harvesting campaign beside the people"
    )
    args = parser.parse_args()
    hours = [float(h) for h in args.hours.split(",")]
    paces = [float(p) for p in args.paces.split(",")]
    configs = args.configs.split(",")
    runs = []
    for config in configs:
        for hour in hours:
            for pace in paces:
                runs.append(people_run(hour, config, args, pace))
                shown = {k: runs[-1][k] for k in ("hour", "pace", "config", "total")}
                print(json.dumps(shown), flush=True)
            if args.chromium:
                try:
                    runs.append(chromium_run(hour, config, args))
                except ChromiumUnavailable as exc:
                    print(f"no chromium runs: {exc}", file=sys.stderr)
                    args.chromium = 0
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "sessions": args.sessions,
        "speed": args.speed,
        "seed": args.seed,
        "campaign": args.campaign,
        "runs": runs,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    args.output.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
