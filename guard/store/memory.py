"""The embedded store: one process, bounded memory, no network.

Entries live in one LRU map with per-entry expiry. Memory is bounded by a budget of
*weight units*: a counter weighs 1, a value 1 and 1 more per 256 bytes packed (a profile 1
or 2, with a full ledger of records shown), a distinct window 1 per member (exact up to
1,024 members) or 12 per 1 KiB HyperLogLog beyond that. A unit costs at most
:data:`UNIT_BYTES` of the process's memory (measured: a one-unit entry, key and all, about
500 bytes; a unit of a window's members about 100), so ``max_mb`` sets the budget in
megabytes and the store stays under it.

Past the budget the least recently used entries go first, **but** entries of
:data:`HEAVY` units or more (a window of two or more distinct records: a budget someone is
spending; a HyperLogLog) are passed over while any lighter entry remains. A spray of
requests from a million addresses, each reading a record, makes light entries only, so it
evicts its own and other one-off clients' counters and idle profiles, not a harvester's
budget once it holds two records: to have budgets forgotten, an attacker must cycle the
whole store between a harvester's first two reads, or fill it with windows of two or more
records each (a harvest of its own, which the budgets count). ``benchmarks/memory_bound.py``
measures both under a spray of a million addresses.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from guard import native as _native
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
from guard.store.distinct import (
    ENTRY_WEIGHT,
    EXPIRES,
    IN_FLIGHT,
    SET_LIMIT,
    ExactWindow,
    SketchWindow,
    exact_add,
    exact_count,
    new_exact_window,
)

native_ops = _native.set_up(
    "guard.store._memory",
    RateHit,
    DistinctCount,
    DistinctAdd,
    ValueGet,
    ValuePut,
    RateState,
    SketchWindow,
    DISTINCT_BUCKETS,
    SET_LIMIT,
)
"""The C twin of the handlers below (``guard/store/_memory.c``), when the build compiled it."""

Value = float | int | bytes | SketchWindow

Entry = tuple[float, Value, int] | ExactWindow
"""(expires, value, weight), or an exact distinct window, which keeps its expiry and weight
at the same indexes. Neither is an object: CPython's garbage collector stops tracking tuples
of plain values and never tracks dicts of them, so counters, packed profiles and distinct
sets cost nothing in collections, which otherwise pause a busy process for tens of
milliseconds (and are set off by the growth of tracked objects)."""


UNIT_BYTES = 512
"""Process memory a weight unit may cost, at most (a one-unit entry measured ~500 bytes)."""
DEFAULT_MB = 128
HEAVY = 3
"""Entries of this many units or more (a window of two or more distinct members) are
evicted only when no lighter entry is left."""
MAX_PASSES = 256
"""Heavy entries moved back in one round of eviction, at most: a store of heavy entries
alone then evicts least recently used first, at a bounded cost a request."""


class MemoryStore(Store):
    """An in-process LRU store. Not shared between processes: use Redis for that.

    Its operations run in C (``guard/store/_memory.c``, compiled when the package is built)
    or, where that was not built or ``GUARD_NATIVE=0`` is set, in the Python below: the
    same results and the same entries either way (``tests/store/test_native.py``).

    Args:
        max_weight: the memory budget in weight units (a typical tracked client costs 4-8).
        max_mb: the budget in megabytes (MiB) instead: ``max_mb * 2**20 / UNIT_BYTES``
            units. With neither, :data:`DEFAULT_MB`.
        native: whether to run the C operations (None: when built and not turned off).
    """

    def __init__(
        self,
        max_weight: int | None = None,
        *,
        max_mb: float | None = None,
        native: bool | None = None,
    ) -> None:
        if max_weight is not None and max_mb is not None:
            raise ConfigError("memory store: give max_weight or max_mb, not both")
        if max_weight is None:
            max_weight = int((DEFAULT_MB if max_mb is None else max_mb) * 2**20 // UNIT_BYTES)
        if max_weight < 16:
            raise ConfigError(
                f"memory store: the budget must be at least 16 units ({16 * UNIT_BYTES} "
                f"bytes), got {max_weight}"
            )
        self.max_weight = max_weight
        compiled = _native.use("guard.store._memory", "the memory store's operations", native)
        self.native = compiled is not None
        self._native_execute = compiled.execute if compiled is not None else None
        self.weight = 0
        self.evicted = 0
        """Entries dropped for room since the store was made."""
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
        """``memory://``, ``memory://?max_mb=N`` (megabytes) or ``memory://?max_weight=N``."""
        query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        unknown = set(query) - {"max_mb", "max_weight"}
        if unknown:
            raise ConfigError(f"store {url!r}: unknown option(s) {', '.join(sorted(unknown))}")
        try:
            weight = int(query["max_weight"]) if "max_weight" in query else None
        except ValueError:
            raise ConfigError(f"store {url!r}: max_weight must be a whole number") from None
        try:
            megabytes = float(query["max_mb"]) if "max_mb" in query else None
        except ValueError:
            raise ConfigError(f"store {url!r}: max_mb must be a number") from None
        return cls(weight, max_mb=megabytes)

    @property
    def max_bytes(self) -> int:
        """The most process memory the entries may cost, by :data:`UNIT_BYTES`."""
        return self.max_weight * UNIT_BYTES

    def __len__(self) -> int:
        return len(self._entries)

    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Run ``ops`` in order; nothing awaits in between, so the batch is atomic."""
        if self._native_execute is not None:
            results: list[Result] = self._native_execute(self, ops, now)
        else:
            handlers = self._handlers
            results = [handlers[type(op)](op, now) for op in ops]
        if self.weight > self.max_weight:
            self._evict(now)
        return results

    # Each handler looks its entry up once and writes it back at most once: these run about
    # a dozen times a request, so every dictionary operation shows in the guard's overhead.

    async def stats(self) -> dict[str, float]:
        """Entries evicted, and the memory budget and its use in bytes (by :data:`UNIT_BYTES`
        a unit: an upper bound)."""
        return {
            "evicted_keys": self.evicted,
            "used_memory": self.weight * UNIT_BYTES,
            "maxmemory": self.max_bytes,
        }

    async def forget(self, key_start: str) -> int:
        """Delete every key starting with ``key_start`` (a scan of every entry)."""
        doomed = [key for key in self._entries if key.startswith(key_start)]
        for key in doomed:
            self.weight -= int(self._entries.pop(key)[2])
        return len(doomed)

    def _value(self, op: ValueGet, now: float) -> Result:
        entry = self._live(op.key, now)
        packed = entry[1] if isinstance(entry, tuple) else None
        return op.kind.unpack(packed) if isinstance(packed, bytes) else None

    def _store(self, op: ValuePut, now: float) -> None:
        # Packed, as a networked store keeps it: no caller shares the stored object, and
        # bytes cost the garbage collector nothing.
        packed = op.value.pack()
        self._set(op.key, (now + op.ttl, packed, 1 + len(packed) // 256))

    def _rate(self, op: RateHit, now: float) -> RateState:
        """GCRA: the theoretical arrival time advances by one emission interval a hit."""
        interval = op.period / op.limit
        entry = self._live(op.key, now)
        stored = entry[1] if isinstance(entry, tuple) else now
        tat = stored if isinstance(stored, float) and stored > now else now
        new_tat = tat + interval * op.cost
        allow_at = new_tat - op.period
        if now < allow_at:
            return RateState(False, 0, tat - now, allow_at - now)
        self._set(op.key, (new_tat, new_tat, 1))
        remaining = math.floor((op.period - (new_tat - now)) / interval + 1e-9)
        return RateState(True, max(remaining, 0), new_tat - now, 0.0)

    def _held(self, key: str, now: float) -> ExactWindow | SketchWindow | None:
        """The distinct window at ``key``, whichever shape it has, or None."""
        entry = self._live(key, now)
        if isinstance(entry, dict):
            return entry
        if entry is not None and isinstance(entry[1], SketchWindow):
            return entry[1]
        return None

    def _window(self, key: str, window: float, now: float) -> ExactWindow | SketchWindow:
        """The distinct window at ``key``, a new exact one if there is none."""
        members = self._held(key, now)
        if members is None:
            members = new_exact_window(now + window)
            self._set(key, members)
        return members

    def _count(self, op: DistinctCount, now: float) -> int:
        bucket = bucket_of(now, op.window)
        members = self._window(op.key, op.window, now) if op.reserve else self._held(op.key, now)
        if members is None:
            return 0
        held = 0
        if isinstance(members, SketchWindow):
            if op.reserve:
                held = members.in_flight
                members.in_flight += 1
            return members.count(bucket) + held
        if op.reserve:
            held = int(members[IN_FLIGHT])
            members[IN_FLIGHT] = held + 1
        weight = members[ENTRY_WEIGHT]
        count = exact_count(members, bucket)
        self.weight += int(members[ENTRY_WEIGHT] - weight)  # members that aged out
        return count + held

    def _add(self, op: DistinctAdd, now: float) -> None:
        members = self._window(op.key, op.window, now)
        if isinstance(members, SketchWindow):
            if op.release and members.in_flight:
                members.in_flight -= 1
        elif op.release and members[IN_FLIGHT]:
            members[IN_FLIGHT] -= 1
        if op.member is None:
            return
        bucket = bucket_of(now, op.window)
        expires = (bucket + 1) * op.window / DISTINCT_BUCKETS + op.window
        if isinstance(members, SketchWindow):
            members.add(op.member, bucket)
            self._set(op.key, (expires, members, members.weight))
            return
        weight = members[ENTRY_WEIGHT]
        sketch = exact_add(members, op.member, bucket)
        if sketch is not None:  # it outgrew exact counting
            self._set(op.key, (expires, sketch, sketch.weight))
            return
        members[EXPIRES] = expires
        self.weight += int(members[ENTRY_WEIGHT] - weight)

    def _live(self, key: str, now: float) -> Entry | None:
        """The entry at ``key`` unless it has expired (then it goes), marked recently used."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            self.weight -= int(entry[2])
            del entries[key]
            return None
        entries.move_to_end(key)
        return entry

    def _set(self, key: str, entry: Entry) -> None:
        """Store ``entry`` at ``key`` as the most recently used, keeping the weight total."""
        entries = self._entries
        old = entries.get(key)
        entries[key] = entry
        if old is None:
            self.weight += int(entry[2])
        else:
            self.weight += int(entry[2] - old[2])
            entries.move_to_end(key)

    def _evict(self, now: float) -> None:
        """Drop entries, least recently used first, until the weight fits; a heavy live
        entry is moved to the back instead (up to :data:`MAX_PASSES` a round), so lighter
        ones go before it."""
        entries = self._entries
        passes = min(len(entries), MAX_PASSES)
        while self.weight > self.max_weight and entries:
            key, entry = entries.popitem(last=False)
            if entry[2] >= HEAVY and entry[0] > now and passes > 0:
                entries[key] = entry
                passes -= 1
                continue
            self.weight -= int(entry[2])
            self.evicted += 1
