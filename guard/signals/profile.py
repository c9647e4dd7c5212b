"""A client's behaviour over time, kept compactly and updated one request at a time.

The same update runs when serving and when building training data, so the features a model
learns from are exactly the ones the middleware computes.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Self

# first_seen; last_seen and last_document as float32 offsets from it; four uint32 and six
# uint16 counters (saturating); last_record; the gap mean and M2 as float32: 60 bytes.
_LAYOUT = struct.Struct("<d2f4I6Hq2f")
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_PACKED_IN_ORDER = (
    "requests",
    "documents",
    "statics",
    "records",
    "sequential_steps",
    "cookie_returns",
    "robots_fetches",
    "honeypot_hits",
    "client_errors",
    "doc_gap_count",
    "last_record",
    "doc_gap_mean",
    "doc_gap_m2",
)


@dataclass(slots=True)
class ClientProfile:
    """Counters for one client (one IP with one user agent).

    ``doc_gap_*`` follow the gaps between page requests (Welford's running mean and sum of
    squares), so timing regularity needs no list of timestamps.
    """

    first_seen: float = 0.0
    last_seen: float = 0.0
    requests: int = 0
    documents: int = 0
    statics: int = 0
    records: int = 0
    sequential_steps: int = 0
    cookie_returns: int = 0
    robots_fetches: int = 0
    honeypot_hits: int = 0
    client_errors: int = 0
    doc_gap_count: int = 0
    last_record: int = -1
    doc_gap_mean: float = 0.0
    doc_gap_m2: float = 0.0
    last_document: float = 0.0

    def observe(
        self,
        now: float,
        *,
        static: bool,
        record: int | None,
        tracked: bool,
        robots: bool,
        honeypot: bool,
    ) -> None:
        """Count one request (its status arrives later through :meth:`observe_status`)."""
        if self.requests == 0:
            self.first_seen = now
        self.requests += 1
        self.last_seen = now
        self.cookie_returns += tracked
        self.robots_fetches += robots
        self.honeypot_hits += honeypot
        if static:
            self.statics += 1
            return
        if self.documents:
            gap = max(now - self.last_document, 0.0)
            self.doc_gap_count += 1
            delta = gap - self.doc_gap_mean
            self.doc_gap_mean += delta / self.doc_gap_count
            self.doc_gap_m2 += delta * (gap - self.doc_gap_mean)
        self.documents += 1
        self.last_document = now
        if record is not None:
            if self.last_record >= 0 and 1 <= abs(record - self.last_record) <= 3:
                self.sequential_steps += 1
            self.records += 1
            self.last_record = record

    def observe_status(self, status: int) -> None:
        """Count the response status of the request last observed."""
        if 400 <= status < 500:
            self.client_errors += 1

    @property
    def doc_gap_cv(self) -> float:
        """Coefficient of variation of the gaps between pages (0 = a metronome)."""
        if self.doc_gap_count < 2 or self.doc_gap_mean <= 0:
            return math.inf
        std = math.sqrt(self.doc_gap_m2 / (self.doc_gap_count - 1))
        return std / self.doc_gap_mean

    def pack(self) -> bytes:
        """A fixed 60-byte encoding for networked stores (counters saturate, times to ~ms)."""
        base = self.first_seen
        return _LAYOUT.pack(
            base,
            self.last_seen - base,
            self.last_document - base,
            *(min(v, _U32) for v in (self.requests, self.documents, self.statics, self.records)),
            *(
                min(v, _U16)
                for v in (
                    self.sequential_steps,
                    self.cookie_returns,
                    self.robots_fetches,
                    self.honeypot_hits,
                    self.client_errors,
                    self.doc_gap_count,
                )
            ),
            self.last_record,
            self.doc_gap_mean,
            self.doc_gap_m2,
        )

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack`."""
        base, last_seen, last_document, *rest = _LAYOUT.unpack(data)
        profile = cls(base, base + last_seen, last_document=base + last_document)
        for name, value in zip(_PACKED_IN_ORDER, rest, strict=True):
            setattr(profile, name, value)
        return profile
