"""Actor-level metrics: what a threshold does to each person, bot operator and family.

The guard refuses requests, but what matters is who sent them. A person refused once has had
a bad visit, so a person (over all their visits) counts as a false positive if any of their
page requests scores at or above the threshold. A scraper is only stopped once every client
(IP and user agent) it uses is refused, so for harvesting families the unit is the client:
a client counts as caught if any of its requests does, with the records it was served before
that as the cost of catching it late.
"""

from __future__ import annotations

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
