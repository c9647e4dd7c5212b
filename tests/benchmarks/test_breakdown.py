"""benchmarks/breakdown.py's reading of py-spy's samples: each stack goes to the innermost
step it is in, and the shares add up. It checks the attribution, not any timing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
breakdown: Any = pytest.importorskip("breakdown")

ROOT = "/srv/app/.venv/lib/python3.11/site-packages"
LOOP = [
    "<module> (/srv/app/benchmarks/breakdown.py:240)",
    "BaseEventLoop.run_forever (/usr/lib/python3.11/asyncio/base_events.py:607)",
    "BaseEventLoop._run_once (/usr/lib/python3.11/asyncio/base_events.py:1922)",
]
CALLBACK = [*LOOP, "Handle._run (/usr/lib/python3.11/asyncio/events.py:80)"]
REQUEST = [
    *CALLBACK,
    "drive.<locals>.lane (/srv/app/benchmarks/hot_path.py:126)",
    "GuardMiddleware.__call__ (/srv/app/guard/middleware.py:79)",
    "Guard.decide (/srv/app/guard/engine.py:216)",
]


def label(*inner: str, by_signal: bool = False) -> str:
    return str(breakdown.label_of([*REQUEST, *inner], by_signal))


def test_a_sample_goes_to_the_innermost_step_it_is_in() -> None:
    """A helper called by a signal's judge counts as that judge; a profile read inside the
    store's call counts as the store call; the engine's own line counts as the engine."""
    unpack = "ClientProfile.unpack (/srv/app/guard/signals/profile.py:238)"
    assert label("Guard._judge (/srv/app/guard/engine.py:252)") == breakdown.GUARD
    judge = "BehaviourSignal.judge (/srv/app/guard/signals/behaviour.py:91)"
    assert label("Guard._judge (/srv/app/guard/engine.py:252)", judge, unpack) == "judge"
    assert label(judge, unpack, by_signal=True) == "judge:Behaviour"
    execute = "MemoryStore.execute (/srv/app/guard/store/memory.py:166)"
    execute_line = "Guard._execute (/srv/app/guard/engine.py:230)"
    assert label(execute_line, execute, unpack) == "store call"
    assert label("FactExtractor.extract (/srv/app/guard/facts/__init__.py:111)") == "facts"
    observe = f"Histogram.observe ({ROOT}/prometheus_client/metrics.py:678)"
    assert label("Guard._execute (/srv/app/guard/engine.py:236)", observe) == "metrics"


def test_samples_outside_any_step_go_to_the_part_of_the_process_they_are_in() -> None:
    """Outside every step a sample goes to its innermost known part: the store's work run
    by the event loop (Redis's replies read), the server, the app the guard serves, the
    guard's own lines; the loop's own work, and what started it, is the event loop."""
    received = "_Protocol.data_received (/srv/app/guard/store/resp.py:215)"
    assert breakdown.label_of([*CALLBACK, received], False) == "store, run by the loop"
    select = "EpollSelector.select (/usr/lib/python3.11/selectors.py:468)"
    assert breakdown.label_of([*LOOP, select], False) == breakdown.OUTSIDE
    assert breakdown.label_of([], False) == breakdown.OUTSIDE
    call_soon = "BaseEventLoop.call_soon (/usr/lib/python3.11/asyncio/base_events.py:765)"
    h11 = [*CALLBACK, f"H11Protocol.data_received ({ROOT}/uvicorn/protocols/http/h11_impl.py:1)"]
    assert breakdown.label_of([*h11, call_soon], False) == "server (uvicorn)"
    served = [*CALLBACK, "GuardMiddleware._serve (/srv/app/guard/middleware.py:128)"]
    page = "resume_page (/srv/app/guard/demo/pages.py:145)"
    assert breakdown.label_of(
        [*served, f"Router.app ({ROOT}/starlette/routing.py:1)", page], False
    ) == ("app (Starlette, the demo)")
    assert breakdown.label_of(served, False) == breakdown.GUARD
    as_py_spy_names_them = [*LOOP, "Handle._run (asyncio/events.py:80)", "f (uvicorn/main.py:1)"]
    assert breakdown.label_of(as_py_spy_names_them, False) == "server (uvicorn)"
    assert breakdown.label_of(
        [*REQUEST[:4], "instant_app (/srv/app/benchmarks/hot_path.py:9)"], False
    ) == ("benchmark harness")


def test_shares_weigh_each_stack_by_its_count_and_add_up_to_one() -> None:
    """py-spy's raw lines (``stack count``) become each step's share of all samples."""
    judge = "HeaderSignal.judge (/srv/app/guard/signals/headers.py:50)"
    lines = [
        ";".join([*REQUEST, judge]) + " 3",
        ";".join([*REQUEST, "Policy.decide (/srv/app/guard/policy.py:212)"]) + " 1",
        "",
    ]
    found = breakdown.shares(lines, False)
    assert found == {"judge": 0.75, "policy": 0.25}
    assert breakdown.shares([], False) == {}
