"""The Redis store: state shared by every worker and host, one round trip a request.

A request's operations are encoded into one ``EVALSHA`` of ``lua/batch.lua`` (loaded once,
reloaded after ``NOSCRIPT``). On Redis Cluster the operations are grouped by hash slot (all
keys of one actor share a hash tag) and each group's script call is sent at once, so the
calls to the nodes run in parallel. Timeouts are milliseconds, redis-py's own retries are
off, and every failure becomes one :class:`~guard.errors.StorageError`, so the failure
policy above decides.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Sequence
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot

from guard.errors import ConfigError, StorageError
from guard.store.base import (
    DISTINCT_BUCKETS,
    DistinctAdd,
    DistinctCount,
    Op,
    RateHit,
    RateState,
    Result,
    Store,
    ValueGet,
    bucket_of,
)

SCRIPT = resources.files("guard.store").joinpath("lua/batch.lua").read_text(encoding="utf-8")
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA1
DEFAULT_TIMEOUT = 0.05


class _Encoder:
    """Turns ops into the script's KEYS and ARGV (one encoder per script call)."""

    def __init__(self, now: float) -> None:
        self.keys: list[str] = []
        self.argv: list[str | int | float | bytes] = [repr(now)]
        self.now = now

    def _key(self, key: str) -> int:
        self.keys.append(key)
        return len(self.keys)  # Lua counts from 1

    def add(self, op: Op) -> None:
        if isinstance(op, RateHit):
            self.argv += ["R", self._key(op.key), op.limit, repr(op.period), op.cost]
        elif isinstance(op, DistinctCount):
            current = bucket_of(self.now, op.window)
            first = len(self.keys) + 1
            for bucket in range(current - DISTINCT_BUCKETS + 1, current + 1):
                self._key(f"{op.key}:{bucket}")
            inflight = self._key(f"{op.key}:f") if op.reserve else 0
            self.argv += ["C", first, DISTINCT_BUCKETS, inflight]
        elif isinstance(op, DistinctAdd):
            bucket = bucket_of(self.now, op.window)
            bucket_key = self._key(f"{op.key}:{bucket}")
            inflight = self._key(f"{op.key}:f") if op.release else 0
            expires = (bucket + 1) * op.window / DISTINCT_BUCKETS + op.window
            ttl = max(math.ceil((expires - self.now) * 1000), 1)
            has = "1" if op.member is not None else "0"
            self.argv += ["A", bucket_key, inflight, ttl, has, op.member or ""]
        elif isinstance(op, ValueGet):
            self.argv += ["G", self._key(op.key)]
        else:
            ttl = max(math.ceil(op.ttl * 1000), 1)
            self.argv += ["P", self._key(op.key), ttl, op.value.pack()]


def _decode(op: Op, raw: Any) -> Result:
    """One script result as the op's result type."""
    if isinstance(op, RateHit):
        allowed, remaining, reset, retry = raw
        return RateState(bool(allowed), int(remaining), float(reset), float(retry))
    if isinstance(op, DistinctCount):
        return int(raw)
    if isinstance(op, ValueGet):
        return None if raw is None else op.kind.unpack(bytes(raw))
    return None


def _slot(op: Op) -> int:
    return key_slot(op.key.encode())


class RedisStore(Store):
    """Keeps state in Redis or Redis Cluster.

    Args:
        client: a ``redis.asyncio.Redis`` or ``RedisCluster``.
        timeout: seconds a whole batch may take before it counts as a failure.
    """

    def __init__(self, client: Redis | RedisCluster, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout
        self.cluster = isinstance(client, RedisCluster)
        self._discovered = not self.cluster

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """``redis://``, ``rediss://`` or ``redis+cluster://host:port``, with options
        ``timeout`` and ``connect_timeout`` (seconds, default 0.05) and ``max_connections``.
        """
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            timeout = float(query.pop("timeout", DEFAULT_TIMEOUT))
            connect = float(query.pop("connect_timeout", timeout))
            max_connections = int(query.pop("max_connections", "64"))
        except ValueError:
            raise ConfigError(
                f"store {url!r}: timeout and max_connections must be numbers"
            ) from None
        if query:
            raise ConfigError(f"store {url!r}: unknown option(s) {', '.join(sorted(query))}")
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": connect,
            "retry": Retry(NoBackoff(), 0),
            "max_connections": max_connections,
        }
        if parts.scheme == "redis+cluster":
            plain = urlunsplit(("redis", parts.netloc, parts.path, "", ""))
            client: Redis | RedisCluster = RedisCluster.from_url(plain, **options)
        else:
            client = Redis.from_url(urlunsplit(parts._replace(query="")), **options)
        return cls(client, timeout)

    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Run ``ops`` in one script call (one per hash slot on a cluster)."""
        if not ops:
            return []
        try:
            if not self._discovered:
                await self._discover()
            async with asyncio.timeout(self.timeout * 2):
                if not self.cluster:
                    encoder = _Encoder(now)
                    for op in ops:
                        encoder.add(op)
                    raw = await self._run(self.client, encoder)
                    return [_decode(op, item) for op, item in zip(ops, raw, strict=True)]
                return await self._run_by_slot(ops, now)
        except (redis_errors.RedisError, OSError, TimeoutError) as exc:
            raise StorageError(f"redis: {type(exc).__name__}: {exc}") from exc

    async def _discover(self) -> None:
        """Learn the cluster's slots once, outside the per-request timeout (it is slower)."""
        assert isinstance(self.client, RedisCluster)
        async with asyncio.timeout(max(1.0, self.timeout * 20)):
            await self.client.initialize()
        self._discovered = True

    async def _run(self, client: Any, encoder: _Encoder) -> list[Any]:
        try:
            result: list[Any] = await client.evalsha(
                SCRIPT_SHA, len(encoder.keys), *encoder.keys, *encoder.argv
            )
        except redis_errors.NoScriptError:
            await client.script_load(SCRIPT)
            result = await client.evalsha(
                SCRIPT_SHA, len(encoder.keys), *encoder.keys, *encoder.argv
            )
        return result

    async def _run_by_slot(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Cluster: one script call per hash slot, all in flight at once.

        (redis-py's cluster pipeline refuses EVALSHA, so the calls go out concurrently.)
        """
        groups: dict[int, list[int]] = {}
        for index, op in enumerate(ops):
            groups.setdefault(_slot(op), []).append(index)
        encoders = []
        for indexes in groups.values():
            encoder = _Encoder(now)
            for index in indexes:
                encoder.add(ops[index])
            encoders.append(encoder)
        replies = await asyncio.gather(*(self._run(self.client, e) for e in encoders))
        results: list[Result] = [None] * len(ops)
        for indexes, raw in zip(groups.values(), replies, strict=True):
            for index, item in zip(indexes, raw, strict=True):
                results[index] = _decode(ops[index], item)
        return results

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
