"""Running the memory store's two implementations side by side (tests/store/test_native.py
and the fuzz tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from guard.store.base import Op, Result
from guard.store.distinct import SketchWindow
from guard.store.memory import MemoryStore


@dataclass(frozen=True)
class Blob:
    """A stored value of any size (a value weighs one unit more per 256 bytes)."""

    data: bytes

    def pack(self) -> bytes:
        return self.data

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        return cls(data)


def snapshot(store: MemoryStore) -> tuple[Any, ...]:
    """Everything a store holds, comparable across implementations (sketches by content)."""

    def plain(entry: Any) -> Any:
        if isinstance(entry, dict):
            return dict(entry)
        expires, value, weight = entry
        if isinstance(value, SketchWindow):
            value = (
                "sketch",
                value.in_flight,
                value.oldest,
                {b: bytes(h.registers) for b, h in value.buckets.items()},
                bytes(value.union.registers),
            )
        return (expires, value, weight)

    entries = [(key, plain(entry)) for key, entry in store._entries.items()]
    return (entries, store.weight, store.evicted)


def twins(max_weight: int | None = None) -> tuple[MemoryStore, MemoryStore]:
    native = MemoryStore(max_weight, native=True)
    python = MemoryStore(max_weight, native=False)
    assert (native.native, python.native) == (True, False)
    return native, python


async def both(stores: Sequence[MemoryStore], ops: Sequence[Op], now: float) -> list[Result]:
    """Run ``ops`` on both stores: the same results (or the same kind of error), the same
    entries."""
    outcomes: list[Any] = []
    for store in stores:
        try:
            outcomes.append(await store.execute(ops, now))
        except Exception as exc:  # the kind of error is what is compared
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1], ops
    assert snapshot(stores[0]) == snapshot(stores[1]), ops
    return list(outcomes[0]) if isinstance(outcomes[0], list) else []
