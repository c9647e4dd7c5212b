"""Actor-level metrics: what a threshold does to each person, bot operator and family.

The guard refuses requests, but what matters is who sent them. A person refused once has had
a bad visit, so a person (over all their visits) counts as a false positive if any of their
page requests scores at or above the threshold. A scraper is only stopped once every client
(IP and user agent) it uses is refused, so for harvesting families the unit is the client:
a client counts as caught if any of its requests does, with the records it was served before
that as the cost of catching it late.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guard.learn.dataset import Dataset

FloatArray = npt.NDArray[np.float64]


def actor_max(actor: npt.NDArray[np.str_], scores: FloatArray) -> tuple[list[str], FloatArray]:
    """Each actor's highest score."""
    names, inverse = np.unique(actor, return_inverse=True)
    best = np.full(len(names), -np.inf)
    np.maximum.at(best, inverse, scores)
    return [str(n) for n in names], best


def threshold_for(human_max: FloatArray, budget: float) -> float:
    """The lowest threshold at which at most ``budget`` of these people are refused."""
    ranked = np.sort(human_max)[::-1]
    allowed = int(np.floor(budget * len(ranked)))
    if allowed >= len(ranked):
        return 0.0
    return float(np.nextafter(ranked[allowed], np.inf))


@dataclass(frozen=True, slots=True)
class FamilyResult:
    """How one family fares at the challenge and block thresholds."""

    family: str
    bot: bool
    actors: int  # people for human families, clients (IP + user agent) for the others
    rows: int
    flagged_challenge: float  # share of actors with a row at or above the challenge threshold
    flagged_block: float
    records_before_challenge: float  # median records served before the first such row


def family_results(
    data: Dataset, scores: FloatArray, challenge: float, block: float
) -> list[FamilyResult]:
    """Per family: the share of actors flagged at each threshold and how late."""
    results = []
    for family in sorted(set(data.family.tolist())):
        mask = data.family == family
        part = data.where(mask)
        part_scores = scores[mask]
        bot = bool(part.bot[0])
        unit = part.client if bot else part.actor
        _, best = actor_max(unit, part_scores)
        results.append(
            FamilyResult(
                family,
                bot,
                len(best),
                int(mask.sum()),
                float(np.mean(best >= challenge)),
                float(np.mean(best >= block)),
                _median_records_before(unit, part.record, part_scores, challenge),
            )
        )
    return results


def _median_records_before(
    unit: npt.NDArray[np.str_], record: npt.NDArray[np.bool_], scores: FloatArray, threshold: float
) -> float:
    """The median over units of records served before their first row at the threshold
    (all their records when never flagged). Rows are in time order."""
    served: dict[str, int] = {}
    stopped: set[str] = set()
    for actor, record_row, score in zip(unit.tolist(), record, scores, strict=True):
        if actor in stopped:
            continue
        if score >= threshold:
            stopped.add(actor)
            served.setdefault(actor, 0)
            continue
        served[actor] = served.get(actor, 0) + int(record_row)
    return float(np.median(list(served.values()))) if served else 0.0


def actor_weights(actor: npt.NDArray[np.str_]) -> FloatArray:
    """Sample weights giving every actor the same total weight (mean weight 1)."""
    _, inverse, counts = np.unique(actor, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    return np.asarray(weights * len(weights) / weights.sum(), dtype=np.float64)


HOURS_A_ROW = 3
"""The table by hour of day has a row for each block of three hours."""
PACE_EDGES = (3.0, 10.0, 30.0, 120.0)
"""Where the table by pace cuts a person's median pause between pages (seconds)."""
SESSION_GAP = 1800.0
"""Pauses longer than this end a visit; they say nothing of reading pace."""


@dataclass(frozen=True, slots=True)
class SliceResult:
    """How the people (and recruiters) in one slice fare: by hour of day or by pace."""

    label: str
    people: int  # people with a page in the slice (by hour) or of that pace
    flagged_challenge: float  # share of them with a row there at or above the threshold
    flagged_block: float


def people_by_hour(
    data: Dataset, scores: FloatArray, challenge: float, block: float
) -> list[SliceResult]:
    """People flagged by hour of day (UTC): a person counts in each block of
    :data:`HOURS_A_ROW` hours they were active in, flagged if a row of theirs there was."""
    human = data.human
    hours = ((data.time[human] % 86400) // 3600).astype(np.int64)
    blocks = hours // HOURS_A_ROW
    results = []
    for start in range(0, 24, HOURS_A_ROW):
        mask = blocks == start // HOURS_A_ROW
        _, best = actor_max(data.actor[human][mask], scores[human][mask])
        label = f"{start:02d}:00-{start + HOURS_A_ROW:02d}:00"
        results.append(_slice(label, best, challenge, block))
    return results


def people_by_pace(
    data: Dataset, scores: FloatArray, challenge: float, block: float
) -> list[SliceResult]:
    """People flagged by their pace: the median pause between their pages within a visit,
    cut at :data:`PACE_EDGES`; people with fewer than two such pauses are apart."""
    human = data.human
    names, best = actor_max(data.actor[human], scores[human])
    pace = _median_pauses(data.actor[human], data.time[human])
    labels = [
        "fewer than 2 pauses",
        f"under {PACE_EDGES[0]:g} s",
        *(f"{a:g}-{b:g} s" for a, b in itertools.pairwise(PACE_EDGES)),
        f"{PACE_EDGES[-1]:g} s or more",
    ]
    bucket = np.array(
        [0 if name not in pace else 1 + int(np.searchsorted(PACE_EDGES, pace[name], "right"))
         for name in names],
        dtype=np.int64,
    )  # fmt: skip
    return [_slice(label, best[bucket == i], challenge, block) for i, label in enumerate(labels)]


def _median_pauses(actor: npt.NDArray[np.str_], time: FloatArray) -> dict[str, float]:
    """Each actor's median pause between consecutive pages of a visit (rows are in time
    order), for actors with at least two such pauses."""
    last: dict[str, float] = {}
    pauses: dict[str, list[float]] = {}
    for name, t in zip(actor.tolist(), time.tolist(), strict=True):
        if name in last and t - last[name] < SESSION_GAP:
            pauses.setdefault(name, []).append(t - last[name])
        last[name] = t
    return {name: float(np.median(p)) for name, p in pauses.items() if len(p) >= 2}


def _slice(label: str, best: FloatArray, challenge: float, block: float) -> SliceResult:
    people = len(best)
    return SliceResult(
        label,
        people,
        float(np.mean(best >= challenge)) if people else 0.0,
        float(np.mean(best >= block)) if people else 0.0,
    )
