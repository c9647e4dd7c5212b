"""Detection benchmark: how many of 10,000 records a scraper rotating 200 addresses gets.

Serves the demo (10,000 resumes) behind the guard with the shipped model on, on a real
uvicorn on loopback and the real clock, and runs ``guard.testing.scrapers.rotating_scraper``
until it has made its requests. Run: ``make bench-detection`` or
``.venv/bin/python benchmarks/detection.py [--attempts N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import live_server
from guard.testing.scrapers import rotating_scraper

FIRST_ID, RECORDS = 100000, 10_000
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/{major}.0.0.0 Safari/537.36"
    for major in (129, 130, 131)
] + [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
]


def main() -> int:
    """Run the scraper against the guarded demo and print what it got."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=10_000)
    args = parser.parse_args()
    config = demo_config({"secret": "benchmark-secret-0123456789", "model": "shipped"})
    app = GuardMiddleware(create_demo_app(RECORDS), config)
    start = time.perf_counter()
    with live_server(app) as base:
        harvest = rotating_scraper(
            base, range(FIRST_ID, FIRST_ID + RECORDS), AGENTS, attempts=args.attempts
        )
    result = {
        "records": RECORDS,
        "attempts": harvest.requests,
        "harvested": len(harvest.records),
        "statuses": dict(harvest.statuses),
        "challenges_issued": app.guard.challenges.stats.issued,
        "seconds": round(time.perf_counter() - start, 1),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "detection.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
