"""What to simulate: the spec that the simulator, its site and its actors all read.

Apart from :mod:`guard.learn.simulate` so that :class:`~guard.learn.visits.Actor` can hold
its spec without the generators' modules importing the simulator that imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """What to simulate.

    Args:
        seed: the seed every random choice derives from.
        counts: actors per family (a family left out has none).
        start: the start of the simulated span, in epoch seconds.
        duration: its length in seconds: actors start within it.
        resumes: how many records the site has (ids 100000 to 100000 + resumes - 1).
    """

    seed: int
    counts: Mapping[str, int]
    start: float = 1_800_000_000.0
    duration: float = 2 * 86400.0
    resumes: int = 10_000

    def __post_init__(self) -> None:
        if self.resumes < 1 or self.duration <= 0:
            raise ValueError("a simulation needs at least one resume and a positive duration")
        negative = sorted(family for family, count in self.counts.items() if count < 0)
        if negative:
            raise ValueError(f"negative actor counts for: {', '.join(negative)}")
