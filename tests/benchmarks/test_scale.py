"""benchmarks/scale.py on a few hundred clients: its readings of Redis add up (one script
call a request, bytes and memory in plausible ranges, keys spread over a cluster's nodes).
It checks the benchmark works, not any timing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
scale: Any = pytest.importorskip("scale")


def test_a_small_run_reads_what_redis_spent() -> None:
    """2,000 clients on a fresh Redis: one script call a request (the held writes ride on the
    next), under 2 KiB a request each way, about 1 KiB of memory a client (the fixed part
    still shows at this size; ``tests/store/test_redis.py`` holds the 1 KiB target)."""
    row = scale.measure(2000)
    assert row["script_calls_per_request"] == pytest.approx(1.0, abs=0.1)
    assert 0 < row["bytes_in_per_request"] < 2048
    assert 0 < row["bytes_out_per_request"] < 2048
    assert 0 < row["memory_bytes_per_client"] < 1200
    assert row["keys"] >= 2000
    assert row["shard_requests_per_second"] > 0


def test_a_cluster_run_spreads_clients_over_the_nodes() -> None:
    """600 clients on 3 masters: every node holds keys and runs scripts."""
    result = scale.measure_cluster(600)
    assert len(result["nodes"]) == 3
    assert all(node["keys"] > 50 for node in result["nodes"])
    assert all(node["script_calls_per_request"] > 0 for node in result["nodes"])


def test_sizing_follows_the_largest_run() -> None:
    """Shards and memory for each site size come from the largest run's capacity and
    memory a client."""
    rows = [
        {"clients": 10, "shard_requests_per_second": 1, "memory_bytes_per_client": 1},
        {"clients": 1000, "shard_requests_per_second": 10_000, "memory_bytes_per_client": 1000},
    ]
    first = scale.sizing(rows)[0]
    assert first["shards"] == 2  # 10,000 req/s at 60% of 10,000 a shard
    assert first["clients_a_day"] == 10_000 * scale.CLIENTS_PER_RPS


def test_a_cluster_is_weighed_against_one_redis_at_the_same_clients() -> None:
    """The nodes' CPU a request together, and how many times one Redis's it is when a run on
    one Redis had as many clients (a cluster's shards go by it); without one, the sum only."""
    cluster = {"clients": 100, "nodes": [{"cpu_us_per_request": 30.0}] * 3}
    single = [{"clients": 100, "redis_cpu_us_per_request": 60.0}]
    assert scale.cluster_cost(cluster, single) == [
        "",
        "Together the nodes spend 90.0 µs of Redis CPU a request, 1.5 times one Redis's at "
        "100 clients: a cluster needs about 1.5 times the shards above.",
    ]
    assert scale.cluster_cost(cluster, []) == [
        "",
        "Together the nodes spend 90.0 µs of Redis CPU a request.",
    ]
