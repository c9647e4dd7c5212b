"""The state store interface: a request's reads and writes go to the store as one batch.

A batch is a list of small operations executed atomically and in order, so a networked
backend answers a whole request in one round trip. Ops are plain slotted dataclasses (not
frozen ones, which cost more to build on every request); treat them as read-only. Keys are
opaque strings that callers build with :func:`actor_key`; the part in braces is a Redis
Cluster hash tag, so all of one actor's keys live on one shard.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self


class Packable(Protocol):
    """A value a store can keep and hand back: packs to bytes for networked backends."""

    def pack(self) -> bytes: ...

    @classmethod
    def unpack(cls, data: bytes) -> Self: ...


@dataclass(slots=True)
class RateHit:
    """Spend ``cost`` from a GCRA limit of ``limit`` per ``period`` seconds (burst ``limit``)."""

    key: str
    limit: int
    period: float
    cost: int = 1


@dataclass(slots=True)
class RateState:
    """The outcome of a :class:`RateHit`; a refused hit spends nothing."""

    allowed: bool
    remaining: int
    reset_after: float
    retry_after: float


@dataclass(slots=True)
class DistinctCount:
    """How many distinct members were added to ``key`` within about the last ``window`` s.

    With ``reserve``, also take an in-flight place on the key and count the places others
    hold, so concurrent requests cannot all pass a budget check before any is counted. A
    networked store may then answer a large set's count (past about a thousand members)
    from its last recount plus the places taken since (each member of such a set comes in
    through a place): over by the places that added nothing, about 1% at most.

    ``limit`` is the count at which the caller refuses. With it, a networked store may take
    several places at once while the count is far below it, and answer this worker's next
    reserving counts of the key from them for a few seconds without asking: each such
    answer is the count when the places were taken plus those used since, as if every
    check had been made then. Every other check sees the places as taken, so no more
    members get past the limit than with one place a check (see :mod:`guard.store.redis`).
    """

    key: str
    window: float
    reserve: bool = False
    limit: int | None = None


@dataclass(slots=True)
class DistinctAdd:
    """Add ``member`` (if any) to ``key``'s set for the current part of ``window``.

    With ``release``, give back the in-flight place a reserving count took.
    """

    key: str
    member: str | None
    window: float
    release: bool = False


@dataclass(slots=True)
class ValueGet:
    """Read the value stored at ``key`` as a ``kind`` (None when absent or expired)."""

    key: str
    kind: type[Packable]


@dataclass(slots=True)
class ValuePut:
    """Store ``value`` at ``key`` for ``ttl`` seconds."""

    key: str
    value: Packable
    ttl: float


Op = RateHit | DistinctCount | DistinctAdd | ValueGet | ValuePut
Result = RateState | int | Packable | None

DISTINCT_BUCKETS = 4
"""A distinct window is kept as this many buckets, so it slides in quarter steps."""


def bucket_of(now: float, window: float) -> int:
    """The index of the bucket that ``now`` falls in, for a window of ``window`` seconds."""
    return int(now // (window / DISTINCT_BUCKETS))


def actor_key(prefix: str, kind: str, actor: str, purpose: str) -> str:
    """The key for one purpose of one actor, e.g. ``guard:{ip:1.2.3.4}:rate:sensitive``."""
    return f"{prefix}:{{{kind}:{actor}}}:{purpose}"


def actor_keys(prefix: str, kind: str, actor: str) -> str:
    """What every key of one actor starts with (its hash tag included), e.g.
    ``guard:{ip:1.2.3.4}:``: what :meth:`Store.forget` is given."""
    return actor_key(prefix, kind, actor, "")


class Store(ABC):
    """Where per-actor state lives. Implementations register a URL scheme."""

    @abstractmethod
    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Run ``ops`` atomically, in order; one result per op.

        Raises:
            StorageError: the backend could not answer.
        """

    @property
    def degraded(self) -> bool:
        """Whether answers come from a stand-in for the real store (an outage), not from the
        shared state."""
        return False

    async def write_later(self, ops: Sequence[Op], now: float) -> None:
        """Run writes whose results nobody waits for, now or batched with a later call.

        A networked store may hold them briefly (see its docs for how long) and send them
        with the next :meth:`execute`, before that call's own ops; the default runs them now.
        """
        await self.execute(ops, now)

    @abstractmethod
    async def forget(self, key_start: str) -> int:
        """Delete every key that starts with ``key_start`` (one actor's, from
        :func:`actor_keys`): an erasure request. Not for the request path: it may scan.

        Returns:
            How many keys went.

        Raises:
            StorageError: the backend could not answer (nothing is known to be deleted).
        """

    async def stats(self) -> dict[str, float]:
        """What the store says of itself, for metrics: ``evicted_keys`` (entries dropped for
        room since it started), ``used_memory`` and ``maxmemory`` in bytes. Empty when it
        says nothing. Not for the request path.

        Raises:
            StorageError: the backend could not answer.
        """
        return {}

    async def close(self) -> None:  # noqa: B027 - optional hook, a no-op for most stores
        """Release connections; the store is unusable afterwards."""
