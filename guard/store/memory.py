"""The embedded store: one process, bounded memory, no network.

Entries live in one LRU map with per-entry expiry. Memory is bounded by a budget of
*weight units* (about 100 bytes each): a counter or profile weighs 1, a distinct window 1
per member (exact up to 1,024 members) or 12 per 1 KiB HyperLogLog beyond that. Past the
budget the least recently used entries go first, so a spray of requests from a million
addresses evicts old actors instead of growing without end.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from guard.errors import ConfigError
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
    ValuePut,
    bucket_of,
)
from guard.store.distinct import DistinctWindow

Value = float | int | bytes | DistinctWindow


Entry = tuple[float, "Value", int]
"""(expires, value, weight). A tuple, not an object: CPython's garbage collector stops
tracking tuples that hold only plain values, so counters and packed profiles cost nothing
in collections, which otherwise pause a busy process for tens of milliseconds."""


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
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._handlers: dict[type, Callable[[Any, float], Result]] = {
            RateHit: self._rate,
            DistinctCount: self._count,
            DistinctAdd: self._add,
            ValueGet: self._value,
            ValuePut: self._store,
        }

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
        handlers = self._handlers
        results = [handlers[type(op)](op, now) for op in ops]
        if self.weight > self.max_weight:
            self._evict()
        return results

    def _value(self, op: ValueGet, now: float) -> Result:
        packed = self._get(op.key, now)
        return op.kind.unpack(packed) if isinstance(packed, bytes) else None

    def _store(self, op: ValuePut, now: float) -> None:
        # Packed, as a networked store keeps it: no caller shares the stored object, and
        # bytes cost the garbage collector nothing.
        self._put(op.key, op.value.pack(), now + op.ttl, 1)

    def _rate(self, op: RateHit, now: float) -> RateState:
        """GCRA: the theoretical arrival time advances by one emission interval a hit."""
        interval = op.period / op.limit
        stored = self._get(op.key, now)
        tat = max(stored if isinstance(stored, float) else now, now)
        new_tat = tat + interval * op.cost
        allow_at = new_tat - op.period
        if now < allow_at:
            reset = tat - now
            return RateState(False, 0, reset, allow_at - now)
        self._put(op.key, new_tat, new_tat, 1)
        remaining = math.floor((op.period - (new_tat - now)) / interval + 1e-9)
        return RateState(True, max(remaining, 0), new_tat - now, 0.0)

    def _window(self, key: str, window: float, now: float) -> DistinctWindow:
        members = self._get(key, now)
        if isinstance(members, DistinctWindow):
            return members
        members = DistinctWindow()
        self._put(key, members, now + window, 1)
        return members

    def _count(self, op: DistinctCount, now: float) -> int:
        bucket = bucket_of(now, op.window)
        if not op.reserve:
            members = self._get(op.key, now)
            return members.count(bucket) if isinstance(members, DistinctWindow) else 0
        members = self._window(op.key, op.window, now)
        held = members.in_flight
        members.in_flight += 1
        return members.count(bucket) + held

    def _add(self, op: DistinctAdd, now: float) -> None:
        members = self._window(op.key, op.window, now)
        if op.release and members.in_flight:
            members.in_flight -= 1
        if op.member is None:
            return
        bucket = bucket_of(now, op.window)
        members.add(op.member, bucket)
        expires = (bucket + 1) * op.window / DISTINCT_BUCKETS + op.window
        self._put(op.key, members, expires, members.weight)

    def _get(self, key: str, now: float) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            self.weight -= entry[2]
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def _put(self, key: str, value: Value, expires: float, weight: int) -> None:
        old = self._entries.get(key)
        self._entries[key] = (expires, value, weight)
        if old is not None:
            self.weight -= old[2]
            self._entries.move_to_end(key)
        self.weight += weight

    def _evict(self) -> None:
        while self.weight > self.max_weight and self._entries:
            _, entry = self._entries.popitem(last=False)
            self.weight -= entry[2]
