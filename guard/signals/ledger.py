"""A client's discovery ledger: the records it was shown lately and how it reads records.

It lives inside the client's :class:`~guard.signals.profile.ClientProfile` (one stored
value per client), and grows with what the client was shown: a person who saw one listing
page costs 40 bytes more, a crawler that saw hundreds of records at most ``MAX_SHOWN * 2``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Self

MAX_SHOWN = 160
"""Record ids remembered (the last ones shown): eight listing pages of 20. Each is a 16-bit
fingerprint, so a record never shown passes for shown about once in 400 reads at most; a
client cannot fill the ledger to make every id look shown."""
_HEADER = struct.Struct("<5Hq")
_U16 = 0xFFFF


@dataclass(slots=True)
class Ledger:
    """What a client was shown and how it read records.

    ``cold`` and ``warm`` count reads of records it was not and was shown; ``streak`` is
    the current run of cold reads; ``cold_steps`` counts, within that run, cold reads 1 to
    3 ids from the cold read before (``last_cold``): ids walked in order that nobody showed.
    ``last_mark`` is the last cold record's mark, so that asking for it again (a reload, or
    the return from a challenge) is not another read. Reading a record never marks it as
    shown: only a page that showed it does.
    """

    cold: int = 0
    warm: int = 0
    streak: int = 0
    cold_steps: int = 0
    last_mark: int = 0
    last_cold: int = -1
    shown: bytearray = field(default_factory=bytearray)

    def show(self, record: str) -> None:
        """Note that the client was shown ``record`` (forgetting the oldest past the cap)."""
        mark = _fingerprint(record)
        if self._find(mark):
            return
        self.shown += mark
        if len(self.shown) > MAX_SHOWN * 2:
            del self.shown[: len(self.shown) - MAX_SHOWN * 2]

    def was_shown(self, record: str) -> bool:
        """Whether the client was shown ``record`` lately."""
        return self._find(_fingerprint(record))

    def _find(self, mark: bytes) -> bool:
        shown, start = self.shown, 0
        while True:
            at = shown.find(mark, start)
            if at < 0:
                return False
            if at % 2 == 0:
                return True
            start = at + 1

    def read(self, record: str, number: int | None) -> bool:
        """Count a read of ``record`` (``number``: the id as a number, if it is one);
        whether it was shown."""
        mark = _fingerprint(record)
        if self._find(mark):
            self.warm = min(self.warm + 1, _U16)
            self.streak = self.cold_steps = 0
            return True
        again = self.streak > 0 and int.from_bytes(mark, "little") == self.last_mark
        if again:
            return False
        self.last_mark = int.from_bytes(mark, "little")
        self.cold = min(self.cold + 1, _U16)
        self.streak = min(self.streak + 1, _U16)
        if number is not None:
            if self.streak > 1 and self.last_cold >= 0 and 1 <= abs(number - self.last_cold) <= 3:
                self.cold_steps = min(self.cold_steps + 1, _U16)
            self.last_cold = number
        return False

    def pack(self) -> bytes:
        """18 bytes of counters, then two bytes per record shown."""
        counts = _HEADER.pack(
            self.cold, self.warm, self.streak, self.cold_steps, self.last_mark, self.last_cold
        )
        return counts + bytes(self.shown)

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack` (an empty ledger from no data)."""
        if len(data) < _HEADER.size:
            return cls()
        cold, warm, streak, cold_steps, last_mark, last_cold = _HEADER.unpack_from(data)
        shown = bytearray(data[_HEADER.size : _HEADER.size + MAX_SHOWN * 2])
        if len(shown) % 2:
            del shown[-1:]
        return cls(cold, warm, streak, cold_steps, last_mark, last_cold, shown)


def _fingerprint(record: str) -> bytes:
    return (zlib.crc32(record.encode("utf-8", "replace")) & 0xFFFF).to_bytes(2, "little")
