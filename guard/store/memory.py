"""The embedded store: one process, bounded memory, no network.

Entries live in one LRU map with per-entry expiry. Memory is bounded by a budget of
*weight units* (about 100 bytes each): a counter or profile weighs 1, a distinct set its
size / 8, a HyperLogLog 12. Past the budget the least recently used entries go first, so a
spray of requests from a million addresses evicts old actors instead of growing without end.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from guard.errors import ConfigError
from guard.store.base import (
    DISTINCT_BUCKETS,
    CounterAdd,
    DistinctAdd,
    DistinctCount,
    Op,
    Packable,
    RateHit,
    RateState,
    Result,
    Store,
    ValueGet,
    bucket_of,
)
from guard.store.hll import HyperLogLog

SET_LIMIT = 96
"""A distinct set larger than this becomes a HyperLogLog (fixed size, ~3% error)."""

_HLL_WEIGHT = 12
DistinctValue = set[str] | HyperLogLog
Value = float | int | DistinctValue | Packable


class _Entry:
    __slots__ = ("expires", "value", "weight")

    def __init__(self, expires: float, value: Value, weight: int) -> None:
        self.expires = expires
        self.value = value
        self.weight = weight


class MemoryStore(Store):
    """An in-process LRU store. Not shared between processes: use Redis for that.

    Args:
        max_weight: the memory budget in weight units (default 1,000,000, about 100 MB at
            most; a typical tracked client costs 4-8 units).
    """

    def __init__(self, max_weight: int = 1_000_000) -> None:
        if max_weight < 16:
            raise ConfigError(f"memory store: max_weight must be at least 16, got {max_weight}")
        self.max_weight = max_weight
        self.weight = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        """``memory://`` or ``memory://?max_weight=N``."""
        query = parse_qs(urlsplit(url).query)
        try:
            return cls(int(query.get("max_weight", ["1000000"])[0]))
        except ValueError:
            raise ConfigError(f"store {url!r}: max_weight must be a whole number") from None

    def __len__(self) -> int:
        return len(self._entries)

    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Run ``ops`` in order; nothing awaits in between, so the batch is atomic."""
        results: list[Result] = []
        for op in ops:
            if isinstance(op, RateHit):
                results.append(self._rate(op, now))
            elif isinstance(op, DistinctCount):
                results.append(self._count(op.key, op.window, now))
            elif isinstance(op, DistinctAdd):
                self._add(op, now)
                results.append(None)
            elif isinstance(op, CounterAdd):
                results.append(self._counter(op, now))
            elif isinstance(op, ValueGet):
                entry = self._get(op.key, now)
                results.append(None if entry is None else entry.value)  # type: ignore[arg-type]
            else:
                self._put(op.key, op.value, now + op.ttl, 1)
                results.append(None)
        self._evict()
        return results

    def _rate(self, op: RateHit, now: float) -> RateState:
        """GCRA: the theoretical arrival time advances by one emission interval a hit."""
        interval = op.period / op.limit
        entry = self._get(op.key, now)
        stored = entry.value if entry is not None else now
        tat = max(stored if isinstance(stored, float) else now, now)
        new_tat = tat + interval * op.cost
        allow_at = new_tat - op.period
        if now < allow_at:
            reset = tat - now
            return RateState(False, 0, reset, allow_at - now)
        self._put(op.key, new_tat, new_tat, 1)
        remaining = math.floor((op.period - (new_tat - now)) / interval + 1e-9)
        return RateState(True, max(remaining, 0), new_tat - now, 0.0)

    def _counter(self, op: CounterAdd, now: float) -> int:
        entry = self._get(op.key, now)
        value = entry.value if entry is not None and isinstance(entry.value, int) else 0
        total = max(value + op.delta, 0)
        self._put(op.key, total, now + op.ttl, 1)
        return total

    def _count(self, key: str, window: float, now: float) -> int:
        current = bucket_of(now, window)
        sets: list[set[str]] = []
        sketches: list[HyperLogLog] = []
        for bucket in range(current - DISTINCT_BUCKETS + 1, current + 1):
            entry = self._get(f"{key}:{bucket}", now)
            if entry is None:
                continue
            value = entry.value
            (sketches if isinstance(value, HyperLogLog) else sets).append(value)  # type: ignore[arg-type]
        if not sketches:
            return len(set().union(*sets))
        union = HyperLogLog()
        for sketch in sketches:
            union.merge(sketch)
        for members in sets:
            for member in members:
                union.add(member)
        return union.estimate()

    def _add(self, op: DistinctAdd, now: float) -> None:
        bucket = bucket_of(now, op.window)
        key = f"{op.key}:{bucket}"
        expires = (bucket + 1) * op.window / DISTINCT_BUCKETS + op.window
        entry = self._get(key, now)
        if entry is None:
            self._put(key, {op.member}, expires, 1)
            return
        value = entry.value
        if isinstance(value, HyperLogLog):
            value.add(op.member)
        elif isinstance(value, set):
            value.add(op.member)
            if len(value) > SET_LIMIT:
                self._put(key, HyperLogLog.of(value), expires, _HLL_WEIGHT)
            elif len(value) % 8 == 0:
                self._put(key, value, expires, 1 + len(value) // 8)

    def _get(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= now:
            self.weight -= entry.weight
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _put(self, key: str, value: Value, expires: float, weight: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.weight -= old.weight
        self._entries[key] = _Entry(expires, value, weight)
        self.weight += weight

    def _evict(self) -> None:
        while self.weight > self.max_weight and self._entries:
            _, entry = self._entries.popitem(last=False)
            self.weight -= entry.weight
