"""A client's behaviour over time, kept compactly and updated one request at a time.

The same update runs when serving and when building training data, so the features a model
learns from are exactly the ones the middleware computes.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field, fields
from typing import Self, cast

from guard import native
from guard.signals.ledger import MAX_SHOWN, Ledger

# first_seen; last_seen and last_document as float32 offsets from it; four uint32 and eleven
# uint16 counters (saturating); last_record; the path bitmap; the gap mean, M2 and minimum
# and two decaying page rates as float32; the last page's path hash: 94 bytes.
_LAYOUT = struct.Struct("<d2f4I11HqQ5fI")
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_FAST_RATE_TAU, _SLOW_RATE_TAU = 10.0, 300.0
_NIGHT_HOURS = 6  # 00:00 to 06:00 at the site's clock
_PATH_BITS = 64

RELOAD_SECONDS = 3.0
"""A page asked for again within this time is the same page view, not another one."""

REFERRER_NONE, REFERRER_SITE, REFERRER_OTHER = 0, 1, 2
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
    "empty_referrers",
    "site_referrers",
    "heads",
    "night_documents",
    "api_requests",
    "last_record",
    "paths_seen",
    "doc_gap_mean",
    "doc_gap_m2",
    "doc_gap_min",
    "rate_fast",
    "rate_slow",
    "last_path",
)


def record_number(record_id: str | None) -> int | None:
    """A record id as a number for enumeration checks: plain ASCII digits that fit int64."""
    if record_id is None or not (record_id.isascii() and record_id.isdigit()):
        return None
    return int(record_id) if len(record_id) <= 18 else None


@dataclass(slots=True)
class ClientProfile:
    """Counters for one client (one IP with one user agent).

    This is the pure-Python twin; :func:`profile_type` gives the class the guard runs, the
    compiled one (``guard/signals/_profile.c``) where it is built: the same fields, methods
    and packed bytes, its ledger the compiled :class:`~guard.signals.ledger.Ledger`'s twin.

    ``doc_gap_*`` follow the gaps between page requests (Welford's running mean and sum of
    squares), so timing regularity needs no list of timestamps. ``rate_fast`` and
    ``rate_slow`` are page counts that decay with time constants of 10 s and 5 minutes.
    ``paths_seen`` is a 64-bit linear-counting sketch of the distinct paths requested.
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
    empty_referrers: int = 0
    site_referrers: int = 0
    heads: int = 0
    night_documents: int = 0
    api_requests: int = 0
    last_record: int = -1
    paths_seen: int = 0
    doc_gap_mean: float = 0.0
    doc_gap_m2: float = 0.0
    doc_gap_min: float = 0.0
    rate_fast: float = 0.0
    rate_slow: float = 0.0
    last_document: float = 0.0
    last_path: int = 0  # CRC-32 of the last page's path, to tell a reload from a new page
    ledger: Ledger = field(default_factory=Ledger)
    """The records the client was shown and how it read records (see
    :mod:`guard.signals.discovery`); packed after the fixed fields."""

    def observe(
        self,
        now: float,
        *,
        static: bool,
        record: int | None,
        tracked: bool,
        robots: bool,
        honeypot: bool,
        path: str = "",
        referrer: int = REFERRER_NONE,
        head: bool = False,
        api: bool = False,
        local_hour: int = 12,
    ) -> None:
        """Count one request (its status arrives later through :meth:`observe_status`).

        ``referrer`` says where the Referer header points (``REFERRER_*``); ``local_hour``
        is the hour on the site's clock, for night-time activity.
        """
        if self.requests == 0:
            self.first_seen = now
        self.requests += 1
        self.last_seen = now
        self.cookie_returns += tracked
        self.robots_fetches += robots
        self.honeypot_hits += honeypot
        self.heads += head
        self.api_requests += api
        if static:
            self.statics += 1
            return
        path_hash = zlib.crc32(path.encode("utf-8", "replace"))
        if path_hash == self.last_path and 0 <= now - self.last_document < RELOAD_SECONDS:
            return  # the same page again at once: a reload, or the return from a challenge
        self.last_path = path_hash
        self.paths_seen |= 1 << (path_hash % _PATH_BITS)
        self.empty_referrers += referrer == REFERRER_NONE
        self.site_referrers += referrer == REFERRER_SITE
        self.night_documents += local_hour < _NIGHT_HOURS
        if self.documents:
            gap = max(now - self.last_document, 0.0)
            self.doc_gap_count += 1
            delta = gap - self.doc_gap_mean
            self.doc_gap_mean += delta / self.doc_gap_count
            self.doc_gap_m2 += delta * (gap - self.doc_gap_mean)
            self.doc_gap_min = gap if self.doc_gap_count == 1 else min(self.doc_gap_min, gap)
            self.rate_fast = self.rate_fast * math.exp(-gap / _FAST_RATE_TAU) + 1.0
            self.rate_slow = self.rate_slow * math.exp(-gap / _SLOW_RATE_TAU) + 1.0
        else:
            self.rate_fast = self.rate_slow = 1.0
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
    def distinct_paths(self) -> float:
        """About how many distinct page paths the client requested (exact while few)."""
        empty = _PATH_BITS - self.paths_seen.bit_count()
        if empty == 0:
            return _PATH_BITS * math.log(_PATH_BITS)  # saturated: at least this many
        return -_PATH_BITS * math.log(empty / _PATH_BITS)

    @property
    def doc_gap_cv(self) -> float:
        """Coefficient of variation of the gaps between pages (0 = a metronome)."""
        if self.doc_gap_count < 2 or self.doc_gap_mean <= 0:
            return math.inf
        std = math.sqrt(self.doc_gap_m2 / (self.doc_gap_count - 1))
        return std / self.doc_gap_mean

    def pack(self) -> bytes:
        """94 fixed bytes for networked stores (counters saturate, times to ~ms), then the
        ledger's.

        Raises:
            struct.error: a field no saturation mends (a negative counter, say).
        """
        try:
            fixed = self._fixed()
        except struct.error:  # a counter outgrew its field (rare); an error again is real
            fixed = self._saturated()._fixed()
        return fixed + self.ledger.pack()

    def _fixed(self) -> bytes:
        base = self.first_seen
        return _LAYOUT.pack(
            base,
            self.last_seen - base,
            self.last_document - base,
            self.requests,
            self.documents,
            self.statics,
            self.records,
            self.sequential_steps,
            self.cookie_returns,
            self.robots_fetches,
            self.honeypot_hits,
            self.client_errors,
            self.doc_gap_count,
            self.empty_referrers,
            self.site_referrers,
            self.heads,
            self.night_documents,
            self.api_requests,
            self.last_record,
            self.paths_seen,
            self.doc_gap_mean,
            self.doc_gap_m2,
            self.doc_gap_min,
            self.rate_fast,
            self.rate_slow,
            self.last_path,
        )

    def _saturated(self) -> ClientProfile:
        """A copy whose counters are capped at what their packed fields hold."""
        copy = ClientProfile(**{name: getattr(self, name) for name in self.__dataclass_fields__})
        for name in _PACKED_IN_ORDER[:4]:
            setattr(copy, name, min(getattr(copy, name), _U32))
        for name in _PACKED_IN_ORDER[4:15]:
            setattr(copy, name, min(getattr(copy, name), _U16))
        return copy

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack`."""
        base, last_seen, last_document, *rest = _LAYOUT.unpack_from(data)
        # The packed order is the fields' order, but for last_document (kept beside the
        # other times so that they all pack as offsets from first_seen).
        fields = [base, base + last_seen, *rest[:-1], base + last_document, rest[-1]]
        profile = cls(*fields)
        profile.ledger = Ledger.unpack(data[_LAYOUT.size :])
        return profile


FIELDS = tuple(f.name for f in fields(ClientProfile))
native_profile = native.set_up(
    "guard.signals._profile",
    MAX_SHOWN,
    RELOAD_SECONDS,
    _FAST_RATE_TAU,
    _SLOW_RATE_TAU,
    _NIGHT_HOURS,
    _LAYOUT.size,
)
"""The compiled twin's module, when it is built from this source (else None)."""
"""A profile's fields in order (the compiled twin has the same, but is no dataclass)."""


def profile_type(asked: bool | None = None) -> type[ClientProfile]:
    """The profile class to run: the compiled twin, as ``asked``, else unless
    ``GUARD_NATIVE=0`` or it is not built (then the Python one, and the log says so once).

    Raises:
        ConfigError: asked for the compiled one, and it is not built.
    """
    compiled = native.use("guard.signals._profile", "the client profile's arithmetic", asked)
    return ClientProfile if compiled is None else cast(type[ClientProfile], compiled.ClientProfile)
