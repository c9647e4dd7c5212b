"""A sliding distinct count for the memory store: buckets plus a running union."""

from __future__ import annotations

from guard.store.base import DISTINCT_BUCKETS
from guard.store.hll import HyperLogLog

SET_LIMIT = 1024
"""Counts are exact up to this many members, then switch to HyperLogLogs (1 KiB, ~3%).

Per-actor budgets are far below it, so the check at the budget's edge is exact; only huge
counts (a global budget) are estimated."""

Members = set[str] | HyperLogLog


class DistinctWindow:
    """Distinct members over the last :data:`DISTINCT_BUCKETS` buckets of a window.

    The union of the live buckets is kept up to date as members arrive, so counting costs
    O(1); it is rebuilt only when a bucket ages out, once per quarter window.
    """

    __slots__ = ("buckets", "in_flight", "oldest", "union")

    def __init__(self) -> None:
        self.buckets: dict[int, Members] = {}
        self.union: Members = set()
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
                HyperLogLog() if isinstance(self.union, HyperLogLog) else set()
            )
            self.oldest = min(self.buckets)
        members.add(member)
        self.union.add(member)
        if isinstance(self.union, set) and len(self.union) > SET_LIMIT:
            self.union = HyperLogLog.of(self.union)
            self.buckets = {
                b: HyperLogLog.of(m) for b, m in self.buckets.items() if isinstance(m, set)
            }

    def _expire(self, bucket: int) -> None:
        oldest = bucket - DISTINCT_BUCKETS + 1
        if self.oldest >= oldest or not self.buckets:
            return
        for b in [b for b in self.buckets if b < oldest]:
            del self.buckets[b]
        self.oldest = min(self.buckets, default=oldest)
        live = list(self.buckets.values())
        if isinstance(self.union, HyperLogLog):
            union = HyperLogLog()
            for sketch in live:
                union.merge(sketch)  # type: ignore[arg-type]
            self.union = union
        else:
            self.union = set().union(*live)  # type: ignore[arg-type]
