"""Sliding distinct counts for the memory store: exact sets that turn into sketches.

A window counts the distinct members added within its last :data:`DISTINCT_BUCKETS` buckets.
While it holds up to :data:`SET_LIMIT` members it is an :data:`ExactWindow`: one plain dict
mapping each member to the bucket it was last added in, with the window's own numbers under
small int keys beside them (members are strings, so the two never meet). A dict of strings
and ints is the one mutable container CPython's garbage collector does not track, so a store
holding windows for a hundred thousand clients adds nothing to any collection's work, and
its growth never sets off a full collection (which pauses a busy process for tens of
milliseconds). Past the limit a window becomes a :class:`SketchWindow` of HyperLogLogs.
"""

from __future__ import annotations

from guard.store.base import DISTINCT_BUCKETS
from guard.store.hll import HyperLogLog

SET_LIMIT = 1024
"""Counts are exact up to this many members, then switch to HyperLogLogs (1 KiB, ~3%).

Per-actor budgets are far below it, so the check at the budget's edge is exact; only huge
counts (a global budget) are estimated."""

ExactWindow = dict[str | int, float | int]
"""member -> last bucket, plus the entries under the keys below."""

EXPIRES, ENTRY_WEIGHT, IN_FLIGHT, OLDEST = 0, 2, 3, 4
"""The window's own entries. EXPIRES and ENTRY_WEIGHT sit at the indexes where the memory
store's tuple entries keep expiry and weight, so ``entry[0]`` and ``entry[2]`` read both."""
_RESERVED = 4


def new_exact_window(expires: float) -> ExactWindow:
    """An empty exact window (weight 1)."""
    return {EXPIRES: expires, ENTRY_WEIGHT: 1, IN_FLIGHT: 0, OLDEST: 0}


def exact_count(window: ExactWindow, bucket: int) -> int:
    """Distinct members in the window that ends with ``bucket``."""
    _expire(window, bucket)
    return len(window) - _RESERVED


def exact_add(window: ExactWindow, member: str, bucket: int) -> SketchWindow | None:
    """Add ``member`` in ``bucket`` (the current one); past :data:`SET_LIMIT` members, the
    sketch that replaces the window (its in-flight count carried over)."""
    _expire(window, bucket)
    if len(window) == _RESERVED:
        window[OLDEST] = bucket
    window[member] = bucket
    members = len(window) - _RESERVED
    if members > SET_LIMIT:
        return SketchWindow.of(window)
    window[ENTRY_WEIGHT] = 1 + members
    return None


def _expire(window: ExactWindow, bucket: int) -> None:
    oldest = bucket - DISTINCT_BUCKETS + 1
    if window[OLDEST] >= oldest or len(window) == _RESERVED:
        return
    gone = [m for m, b in window.items() if isinstance(m, str) and b < oldest]
    for member in gone:
        del window[member]
    live = [b for m, b in window.items() if isinstance(m, str)]
    window[OLDEST] = int(min(live, default=bucket))
    window[ENTRY_WEIGHT] = 1 + len(live)


class SketchWindow:
    """A large window: a HyperLogLog per bucket plus their running union.

    The union is kept up to date as members arrive, so counting costs O(1); it is rebuilt
    only when a bucket ages out, once per quarter window.
    """

    __slots__ = ("buckets", "in_flight", "oldest", "union")

    def __init__(self) -> None:
        self.buckets: dict[int, HyperLogLog] = {}
        self.union = HyperLogLog()
        self.in_flight = 0
        self.oldest = 0  # the lowest bucket index held, so expiry checks are one comparison

    @classmethod
    def of(cls, window: ExactWindow) -> SketchWindow:
        """The sketch of an exact window's members, bucket by bucket."""
        sketch = cls()
        sketch.in_flight = int(window[IN_FLIGHT])
        for member, bucket in window.items():
            if isinstance(member, str):
                sketch.add(member, int(bucket))
        return sketch

    @property
    def weight(self) -> int:
        """Memory in the store's units of about 100 bytes (a 1 KiB sketch weighs 12)."""
        return 12 * (1 + len(self.buckets))

    def count(self, bucket: int) -> int:
        """Distinct members (estimated) in the window that ends with ``bucket``."""
        self._expire(bucket)
        return self.union.estimate()

    def add(self, member: str, bucket: int) -> None:
        """Add ``member`` to ``bucket``."""
        self._expire(bucket)
        sketch = self.buckets.get(bucket)
        if sketch is None:
            sketch = self.buckets[bucket] = HyperLogLog()
            self.oldest = min(self.buckets)
        sketch.add(member)
        self.union.add(member)

    def _expire(self, bucket: int) -> None:
        oldest = bucket - DISTINCT_BUCKETS + 1
        if self.oldest >= oldest or not self.buckets:
            return
        for b in [b for b in self.buckets if b < oldest]:
            del self.buckets[b]
        self.oldest = min(self.buckets, default=oldest)
        union = HyperLogLog()
        for sketch in self.buckets.values():
            union.merge(sketch)
        self.union = union
