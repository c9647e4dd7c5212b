"""The memory store's C operations (guard/store/_memory.c) against their Python twin.

Both implementations get the same batches, and must give the same results and leave the
same entries, in the same order, with the same weights: random batches over a small key
space (so rates, values and windows overwrite one another and expire), a window past the
exact limit (the sketch path), and whole traffic through a guard: a real access log and
simulated people and a rotating harvester, with every verdict compared.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from guard import native
from guard.demo.config import demo_config
from guard.errors import ConfigError
from guard.learn.accesslog import read_combined
from guard.replay.judge import LogJudge
from guard.signals.behaviour import BehaviourSignal
from guard.signals.profile import ClientProfile
from guard.signals.strikes import Strike
from guard.store import memory
from guard.store.base import DistinctAdd, DistinctCount, Op, RateHit, ValueGet, ValuePut
from guard.store.distinct import SET_LIMIT, SketchWindow
from guard.store.memory import MemoryStore
from tests.replay.logs import CHROME, line, person
from tests.store.twins import Blob, both, snapshot, twins

REAL_LOG = Path(__file__).resolve().parents[1] / "replay" / "data" / "apache_logs.gz"
T0 = 1_800_000_000.0

if memory.native_ops is None:  # CI builds it (gcc is there): not having it is a failure there
    WHY = native.MISSING.get("guard.store._memory")
    if os.environ.get("CI"):
        pytest.fail(f"the native memory store was not built: {WHY}")
    pytest.skip(f"the native memory store is not built: {WHY}", True)


def random_op(rng: random.Random) -> Op:
    key = f"k{rng.randrange(12)}"
    window = rng.choice([4.0, 60.0, 3600, 86400.0])
    kind = rng.randrange(5)
    if kind == 0:
        return RateHit(
            key, rng.choice([1, 3, 10, 600]), rng.choice([1.0, 60, 3600.0]), 1 + rng.randrange(3)
        )
    if kind == 1:
        return DistinctCount(key, window, reserve=rng.random() < 0.5)
    if kind == 2:
        member = None if rng.random() < 0.1 else f"m{rng.randrange(40)}"
        return DistinctAdd(key, member, window, release=rng.random() < 0.5)
    if kind == 3:
        return ValueGet(key, rng.choice([Strike, Blob]))
    value = Strike(rng.random()) if rng.random() < 0.5 else Blob(b"v" * rng.randrange(1200))
    return ValuePut(key, value, rng.choice([0.5, 30, 600.0]))


@pytest.mark.anyio
@pytest.mark.parametrize("max_weight", [None, 40])
async def test_random_batches_agree(max_weight: int | None) -> None:
    """Two thousand random batches, with time jumping so that entries expire, and (with a
    40-unit budget) evictions every few batches."""
    rng = random.Random(16)
    stores = twins(max_weight)
    now = T0
    for _ in range(2000):
        now += rng.choice([0.0, 0.01, 0.7, 5.0, 61.0, 900.0, 4000.0])
        await both(stores, [random_op(rng) for _ in range(rng.randrange(1, 8))], now)
    assert stores[0].weight > 0


@pytest.mark.anyio
async def test_a_window_past_the_exact_limit_agrees() -> None:
    """A window that outgrows exact counting turns into the same sketch in both, then counts,
    reserves, releases and ages out alike."""
    stores = twins()
    now = T0
    for n in range(SET_LIMIT + 40):
        now += 0.5
        adds = [DistinctAdd("big", f"record-{n}", 3600.0, release=n % 3 == 0)]
        await both(stores, [DistinctCount("big", 3600.0, reserve=n % 2 == 0), *adds], now)
    assert isinstance(stores[0]._entries["big"][1], SketchWindow)
    for step in range(12):
        now += 400.0
        counted = await both(stores, [DistinctCount("big", 3600.0, reserve=True)], now)
        await both(stores, [DistinctAdd("big", f"late-{step}", 3600.0, release=True)], now)
        assert isinstance(counted[0], int)


@pytest.mark.anyio
async def test_bad_operations_fail_alike() -> None:
    """An operation neither knows, and a limit of zero, raise the same errors in both."""
    stores = twins()
    await both(stores, [RateHit("r", 0, 60.0)], T0)
    stray: Any = "not an op"
    await both(stores, [DistinctCount("w", 60.0, reserve=True), stray], T0)


def judge_all(
    lines: Sequence[str], native: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, ...]:
    """Every verdict a guard on the demo's config gives the log's requests, and its store."""
    monkeypatch.setenv("GUARD_NATIVE", "1" if native else "0")
    judge = LogJudge(demo_config({"secret": "n" * 32}))
    store = judge.guard.store
    assert isinstance(store, MemoryStore)
    assert store.native is native
    behaviour = next(s for s in judge.guard.signals if isinstance(s, BehaviourSignal))
    assert (behaviour.profiles is ClientProfile) is not native  # the profile's twins too

    async def run() -> list[tuple[str, tuple[str, ...], float]]:
        verdicts = []
        for event in read_combined(lines):
            decision = await judge.judge(event)
            verdict = decision.verdict
            verdicts.append((verdict.action.name, verdict.reasons, verdict.score))
        await judge.aclose()
        return verdicts

    return (asyncio.run(run()), snapshot(store))


def simulated_lines() -> list[str]:
    """Forty people reading records at a reading pace, and a harvester rotating 60 addresses
    and a script's agent through 1,500 records, interleaved by time."""
    lines = []
    for n in range(40):
        lines += person(f"10.{n}.{n % 5}.{n + 1}", n * 37.0, range(100000 + n * 9, 100012 + n * 9))
    for n in range(1500):
        ip = f"203.0.{n % 60}.{n % 7 + 1}"
        agent = CHROME if n % 2 else "python-requests/2.32"
        lines.append(line(ip, f"/resume/{100500 + n}", 5.0 + n * 0.4, agent=agent))
    return sorted(lines, key=lambda text: text.split("[", 1)[1])


@pytest.mark.parametrize("source", ["real log", "simulated"])
def test_traffic_gets_the_same_verdicts_and_state(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real public access log (10,000 lines) and simulated people and harvester: the
    same action, reasons and score for every request, and the same store afterwards, with
    every compiled part (facts, store, profiles) and with none."""
    if source == "real log":
        with gzip.open(REAL_LOG, "rt", encoding="utf-8", errors="replace") as log:
            lines = log.read().splitlines()
    else:
        lines = simulated_lines()
    native = judge_all(lines, True, monkeypatch)
    python = judge_all(lines, False, monkeypatch)
    assert len(native[0]) > 1000
    assert native[0] == python[0]
    assert native[1] == python[1]
    assert {action for action, _, _ in native[0]} - {"ALLOW"}  # something was refused


def test_without_the_native_build_the_python_serves_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No compiled operations: the store runs the Python ones and logs it once; asking for
    native ones then is a config error."""
    monkeypatch.setitem(native._loaded, "guard.store._memory", None)
    monkeypatch.setitem(native.MISSING, "guard.store._memory", "no module named it")
    monkeypatch.setattr(native, "_told", set())
    monkeypatch.delenv("GUARD_NATIVE", raising=False)
    with caplog.at_level(logging.WARNING, logger="guard"):
        assert not MemoryStore().native
        assert not MemoryStore().native
    told = [r.getMessage() for r in caplog.records if "guard.store._memory" in r.getMessage()]
    assert len(told) == 1
    assert "no module named it" in told[0]
    with pytest.raises(ConfigError, match="not built"):
        MemoryStore(native=True)


def test_guard_native_0_turns_the_c_operations_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARD_NATIVE", "0")
    assert not MemoryStore().native
    monkeypatch.delenv("GUARD_NATIVE")
    assert MemoryStore().native
