"""A small HyperLogLog: distinct counts in fixed memory, for large distinct sets."""

from __future__ import annotations

import math
from collections.abc import Iterable

PRECISION = 10
REGISTERS = 1 << PRECISION
_MASK64 = (1 << 64) - 1
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)
_INVERSE = tuple(2.0**-rank for rank in range(65))


class HyperLogLog:
    """1,024 one-byte registers: about 3% standard error at any size, in 1 KiB.

    The harmonic sum and the count of empty registers are kept up to date on every add,
    so :meth:`estimate` costs O(1) however often it is asked.
    """

    __slots__ = ("_inverse_sum", "_zeros", "registers")

    def __init__(self) -> None:
        self.registers = bytearray(REGISTERS)
        self._inverse_sum = float(REGISTERS)
        self._zeros = REGISTERS

    def add(self, member: str) -> None:
        """Count ``member`` (repeats do not change the estimate)."""
        value = hash(member) & _MASK64
        index = value & (REGISTERS - 1)
        rank = (64 - PRECISION) - (value >> PRECISION).bit_length() + 1
        self._raise(index, rank)

    def _raise(self, index: int, rank: int) -> None:
        old = self.registers[index]
        if rank > old:
            self.registers[index] = rank
            self._inverse_sum += _INVERSE[rank] - _INVERSE[old]
            self._zeros -= old == 0

    def merge(self, other: HyperLogLog) -> None:
        """Fold ``other`` into this one (the union of both sets)."""
        for index, rank in enumerate(other.registers):
            if rank:
                self._raise(index, rank)

    def estimate(self) -> int:
        """The estimated number of distinct members."""
        raw = _ALPHA * REGISTERS * REGISTERS / self._inverse_sum
        if raw <= 2.5 * REGISTERS and self._zeros:
            return round(REGISTERS * math.log(REGISTERS / self._zeros))
        return round(raw)

    @classmethod
    def of(cls, members: Iterable[str]) -> HyperLogLog:
        """A sketch holding ``members``."""
        sketch = cls()
        for member in members:
            sketch.add(member)
        return sketch
