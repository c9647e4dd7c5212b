"""The memory-bound, eviction and Redis-fault benchmarks on small runs: they work, and what
they exist to show holds at this size (no timing is checked)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import eviction
import memory_bound
import redis_faults

import guard.store.memory as memory_store


def test_a_small_spray_keeps_the_store_bound_and_the_harvesters_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """6,000 addresses through the guard with a 1 MB store (2,048 units, cycled between the
    harvester's reads): the store never passes its budget and the harvester's records all
    stay counted; with the heavy-entry rule off, none do."""
    args = argparse.Namespace(
        addresses=6_000, max_mb=1.0, harvest_every=2_000, per_network=1, lru=False, caches_mb=0
    )
    result = asyncio.run(memory_bound.spray(args))
    assert result["store_peak_weight"] <= result["max_weight"] == 2_048
    assert result["harvester_reads"] == 4
    assert result["harvester_budget_counted"] == 4
    monkeypatch.setattr(memory_store, "HEAVY", sys.maxsize)
    plain = asyncio.run(memory_bound.spray(args))
    assert plain["harvester_budget_counted"] < 4


@pytest.mark.parametrize(("policy", "evicts"), [("noeviction", False), ("allkeys-lru", True)])
def test_a_small_redis_fills_without_a_5xx(policy: str, evicts: bool) -> None:
    """A 2 MB Redis overfilled by 3,000 addresses: no 5xx; noeviction refuses writes (OOM,
    judged from the stand-in), an evicting policy evicts."""
    args = argparse.Namespace(addresses=3_000, maxmemory="2mb", harvest_every=1_000)
    row = asyncio.run(eviction.run_policy(policy, args))
    assert row["responses_5xx"] == 0
    if evicts:
        assert row["evicted_keys"] > 0
        assert row["oom_errors"] == 0
    else:
        assert row["evicted_keys"] == 0
        assert row["oom_errors"] > 0
        assert row["degraded_share"] > 0


@pytest.mark.parametrize("fault", ["slow-200ms", "full", "script-flush"])
def test_faults_give_no_5xx_and_enforcement_comes_back(fault: str) -> None:
    """Half-second phases of each fault: no 5xx in any phase, and afterwards the probe is
    refused by its own rate limit from keys in a healthy Redis."""
    row = asyncio.run(redis_faults.run_fault(fault, 0.5))
    assert all(row[phase]["responses_5xx"] == 0 for phase in ("before", "during", "after"))
    assert row["enforcement"]["enforcement_back"], row["enforcement"]
    assert row["enforcement"]["refused_at_record"] == 31
