"""Guard time for a run of people: a clock faster than the wall, and site-local hours.

The guard takes an injected clock. Build it with :class:`AcceleratedClock` and pass
``run_people`` the same ``speed``: people then sleep ``dwell / speed`` real seconds, so 30 s
of reading takes 3 s of wall time at speed 10. :func:`site_time` places a run at a site-local
hour. Campaign benchmarks (``benchmarks/attack_matrix.py``) run at speed 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class AcceleratedClock:
    """Guard time running ``speed`` times faster than the wall: ``start + elapsed * speed``.

    Pass it as ``GuardMiddleware(app, config, clock=clock)`` and the same ``speed`` to
    :func:`~guard.testing.people.run_people`.

    Args:
        start: the guard time (seconds since the epoch) when the clock is made.
        speed: guard seconds per wall second (above 0).
        monotonic: the wall clock (tests inject one).
    """

    def __init__(
        self, start: float, speed: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be above 0")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> float:
        return self.start + (self._monotonic() - self._origin) * self.speed


def site_time(hour: float, *, utc_offset_hours: float = 0.0, day: str = "2026-03-11") -> float:
    """Seconds since the epoch at ``hour`` (0-24, fractions allowed) site-local time on ``day``.

    Args:
        hour: the site-local hour.
        utc_offset_hours: the site's offset from UTC (the guard's ``utc_offset_hours``).
        day: an ISO date (a Wednesday by default).
    """
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()
    return midnight + (hour - utc_offset_hours) * 3600.0
