"""A sliding distinct count for the memory store: buckets plus a running union."""

from __future__ import annotations

from guard.store.base import DISTINCT_BUCKETS
from guard.store.hll import HyperLogLog

SET_LIMIT = 1024
"""Counts are exact up to this many members, then switch to HyperLogLogs (1 KiB, ~3%).

Per-actor budgets are far below it, so the check at the budget's edge is exact; only huge
counts (a global budget) are estimated."""

Members = dict[str, None] | HyperLogLog
"""Members as dict keys, not a set: CPython's garbage collector skips dicts of plain
strings, so a store full of them costs no time in collections (sets are always tracked)."""


class DistinctWindow:
    """Distinct members over the last :data:`DISTINCT_BUCKETS` buckets of a window.

    The union of the live buckets is kept up to date as members arrive, so counting costs
    O(1); it is rebuilt only when a bucket ages out, once per quarter window.
    """

    __slots__ = ("buckets", "in_flight", "oldest", "union")

    def __init__(self) -> None:
        self.buckets: dict[int, Members] = {}
        self.union: Members = {}
        self.in_flight = 0
        self.oldest = 0  # the lowest bucket index held, so expiry checks are one comparison

    @property
    def weight(self) -> int:
        """Memory in the store's units of about 100 bytes (a 1 KiB sketch weighs 12)."""
        if isinstance(self.union, HyperLogLog):
            return 12 * (1 + len(self.buckets))
        # Each member costs a slot in the union and in one bucket: about 100 bytes.
        return 1 + len(self.buckets) + len(self.union)

    def count(self, bucket: int) -> int:
        """Distinct members in the window that ends with ``bucket``."""
        self._expire(bucket)
        union = self.union
        return union.estimate() if isinstance(union, HyperLogLog) else len(union)

    def add(self, member: str, bucket: int) -> None:
        """Add ``member`` to ``bucket`` (the current one)."""
        self._expire(bucket)
        members = self.buckets.get(bucket)
        if members is None:
            members = self.buckets[bucket] = (
                HyperLogLog() if isinstance(self.union, HyperLogLog) else {}
            )
            self.oldest = min(self.buckets)
        if isinstance(members, HyperLogLog):
            members.add(member)
        else:
            members[member] = None
        union = self.union
        if isinstance(union, HyperLogLog):
            union.add(member)
            return
        union[member] = None
        if len(union) > SET_LIMIT:
            self.union = HyperLogLog.of(union)
            self.buckets = {
                b: HyperLogLog.of(m) if isinstance(m, dict) else m for b, m in self.buckets.items()
            }

    def _expire(self, bucket: int) -> None:
        oldest = bucket - DISTINCT_BUCKETS + 1
        if self.oldest >= oldest or not self.buckets:
            return
        for b in [b for b in self.buckets if b < oldest]:
            del self.buckets[b]
        self.oldest = min(self.buckets, default=oldest)
        if isinstance(self.union, HyperLogLog):
            sketch = HyperLogLog()
            for members in self.buckets.values():
                sketch.merge(members)  # type: ignore[arg-type]
            self.union = sketch
        else:
            union: dict[str, None] = {}
            for members in self.buckets.values():
                union.update(members)  # type: ignore[arg-type]
            self.union = union
