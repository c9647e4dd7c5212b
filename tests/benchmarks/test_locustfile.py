"""A few seconds of benchmarks/locustfile.py against real servers: it runs, refusals are not
failures, records are counted per class, and the summary and exit code follow the budget.
This checks that the locustfile works, not any timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import live_server

pytestmark = pytest.mark.e2e
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_locust(classes: list[str], env: dict[str, str], seconds: int = 4) -> int:
    """A headless locust run of ``classes``; its exit code."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BENCHMARKS / "locustfile.py"),
        "--headless",
        "-u",
        str(2 * len(classes)),
        "-r",
        "20",
        "-t",
        f"{seconds}s",
        "--only-summary",
        "--stop-timeout",
        "3",
        *classes,
    ]
    return subprocess.run(command, env=env, check=False, timeout=60, capture_output=True).returncode


def test_detection_classes_run_and_count_records(tmp_path: Path) -> None:
    """People, a recruiter and three scrapers against the guarded demo: no failures (a
    refusal is an expected answer), people get records, the python-requests loop gets none."""
    config = demo_config(
        {
            "secret": "s" * 24,
            "trusted_proxies": ["127.0.0.1/32"],
            "client_ip_header": "x-forwarded-for",
        }
    )
    summary = tmp_path / "summary.json"
    with live_server(GuardMiddleware(create_demo_app(10_000), config)) as guarded:
        env = {**os.environ, "GUARDED_HOST": guarded, "LOADTEST_SUMMARY": str(summary)}
        classes = ["Person", "Recruiter", "SequentialScraper", "RotatingScraper", "ApiEnumerator"]
        assert run_locust(classes, env, seconds=6) == 0
    result = json.loads(summary.read_text())
    assert result["failures"] == 0
    assert result["ok"] is True
    assert result["records"].get("Person", 0) > 0
    assert result["records"].get("SequentialScraper", 0) == 0
    assert result["answers"]["SequentialScraper"].get("block", 0) > 0
    assert set(result["answers"]["Person"]) <= {"ok", "challenge"}
    assert result["classes"]["GET /resume/[id]"]["requests"] > 0


def test_overhead_classes_compare_against_the_budget(tmp_path: Path) -> None:
    """Baseline and Guarded, paced: the summary has guarded minus baseline; a budget below
    zero cannot be met, so the run exits 1."""
    config = demo_config({"secret": "s" * 24}, path=BENCHMARKS / "bench.toml", env={})
    summary = tmp_path / "summary.json"
    with (
        live_server(create_demo_app(10_000)) as bare,
        live_server(GuardMiddleware(create_demo_app(10_000), config)) as guarded,
    ):
        env = {
            **os.environ,
            "BASELINE_HOST": bare,
            "GUARDED_HOST": guarded,
            "LOADTEST_SUMMARY": str(summary),
            "LOADTEST_BUDGET_MS": "-1000",
        }
        assert run_locust(["Baseline", "Guarded"], env) == 1
    result = json.loads(summary.read_text())
    assert set(result["guarded_minus_baseline_ms"]) == {"p50", "p95", "p99"}
    assert result["classes"]["GET Guarded /resume/[id]"]["failures"] == 0
    assert result["ok"] is False
