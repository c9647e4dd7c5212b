"""Pytest plugin: Redis servers and a Redis Cluster for tests, on free loopback ports.

Register it from the root conftest with ``pytest_plugins = ["tests.redis_fixtures"]``.
None of these fixtures touches the shared Redis on 127.0.0.1:6379. If ``redis-server`` is
not installed they error (they do not skip), with a RuntimeError saying how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from guard.testing.redis import RedisClusterProcess, RedisServer

__all__ = ["private_redis", "redis_cluster", "redis_server", "redis_url"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One Redis shared by the whole session: only read and write keys, each test its own."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:PORT/0`` of the shared session server."""
    return redis_server.url


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A fresh Redis for one test, which may kill, pause, restart or flush it."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcess]:
    """A Redis Cluster of 3 masters covering all 16384 slots, shared by the session."""
    with RedisClusterProcess(masters=3) as cluster:
        yield cluster
