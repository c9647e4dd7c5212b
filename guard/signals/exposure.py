"""Exposure: the records the site showed anyone lately, shared by every worker.

A person who lands on a record from outside the site follows a link someone made from what
the site showed them: a listing or a search served to the person who shared it (search
engines are not let in to records). A harvester that rotates addresses and reads ids from
the whole id space reads records no page showed anybody. What the guard does with that:
:mod:`guard.signals.unlisted`.

Each record shown gets a small marker in the store for ``TTL`` (a day; 18 to 24 hours
after it was last shown). Markers are grouped under ``BUCKETS`` hash tags, so on Redis
Cluster they live in at most 16 slots (one listing's in about 12), not one slot per record.
A process notes which markers it wrote lately and writes each again only after a quarter of
``TTL``, so a listing's first page, served all day, costs a write now and then rather than
one per view.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Self

from guard.store.base import ValuePut, actor_key

TTL = 86400.0
BUCKETS = 16
LOCAL_NOTES = 1 << 16
"""Markers this process remembers writing (then it forgets them all and writes again)."""


class Shown:
    """The marker kept for a record the site showed: its presence is all it says."""

    __slots__ = ()

    def pack(self) -> bytes:
        """One byte."""
        return b"1"

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """A marker, whatever the bytes."""
        return cls()


def exposure_key(prefix: str, record: str) -> str:
    """The key of ``record``'s marker."""
    bucket = zlib.crc32(record.encode("utf-8", "surrogatepass")) % BUCKETS
    return actor_key(prefix, "exposure", str(bucket), record)


class Exposure:
    """Writes and names the markers of records shown sitewide.

    Args:
        prefix: the store key prefix.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._written: dict[str, float] = {}

    def noted(self, record: str, now: float) -> bool:
        """Whether this process marked ``record`` within the last quarter of ``TTL``. Asked
        when the store holds no marker for it: the note is then dropped, so that the next
        page showing the record writes its marker again (the last write was lost, or the
        store was flushed)."""
        when = self._written.pop(record, None)
        return when is not None and 0.0 <= now - when < TTL / 4

    def mark(self, records: Iterable[str], now: float) -> list[ValuePut]:
        """The writes that mark ``records`` shown, leaving out those this process marked
        within the last quarter of ``TTL``."""
        written, ops = self._written, []
        for record in records:
            if 0.0 <= now - written.get(record, -TTL) < TTL / 4:
                continue
            if len(written) >= LOCAL_NOTES:
                written.clear()
            written[record] = now
            ops.append(ValuePut(exposure_key(self.prefix, record), Shown(), TTL))
        return ops
