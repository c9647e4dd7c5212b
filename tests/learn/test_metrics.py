"""Tests for guard.learn.metrics: people flagged by hour of day and by pace."""

from __future__ import annotations

import numpy as np

from guard.learn.dataset import Dataset
from guard.learn.metrics import people_by_hour, people_by_pace

DAY = 1_800_000_000.0 - 1_800_000_000.0 % 86400


def dataset(rows: list[tuple[str, str, float, float]]) -> tuple[Dataset, np.ndarray]:
    """A dataset of (actor, family, time, score) rows, in time order, and their scores."""
    rows = sorted(rows, key=lambda row: row[2])
    n = len(rows)
    data = Dataset(
        x=np.zeros((n, 1)),
        bot=np.array([family == "enumerators" for _, family, _, _ in rows]),
        actor=np.array([actor for actor, _, _, _ in rows]),
        family=np.array([family for _, family, _, _ in rows]),
        client=np.array([actor for actor, _, _, _ in rows]),
        record=np.zeros(n, dtype=np.bool_),
        time=np.array([t for _, _, t, _ in rows]),
    )
    return data, np.array([score for _, _, _, score in rows])


def test_people_by_hour_counts_each_person_in_each_block_they_visited() -> None:
    """A person active at 02:00 and at 14:00 counts in both blocks, flagged only where a
    page of theirs reached the threshold; bots are not counted."""
    data, scores = dataset(
        [
            ("ann", "people", DAY + 2 * 3600, 0.9),
            ("ann", "people", DAY + 14 * 3600, 0.1),
            ("bob", "recruiters", DAY + 86400 + 14.5 * 3600, 0.1),
            ("bot", "enumerators", DAY + 2 * 3600, 0.99),
        ]
    )
    table = {s.label: s for s in people_by_hour(data, scores, challenge=0.5, block=0.95)}
    assert len(table) == 8
    assert (table["00:00-03:00"].people, table["00:00-03:00"].flagged_challenge) == (1, 1.0)
    assert (table["12:00-15:00"].people, table["12:00-15:00"].flagged_challenge) == (2, 0.0)
    assert table["06:00-09:00"].people == 0
    assert table["00:00-03:00"].flagged_block == 0.0


def test_people_by_pace_buckets_the_median_pause_within_visits() -> None:
    """A person's pace is the median pause between pages of a visit (pauses over half an
    hour start a new visit); people with fewer than two pauses are apart."""
    quick = [("quick", "people", DAY + t, 0.8 if t == 4 else 0.1) for t in (0, 2, 4, 6)]
    slow = [("slow", "people", DAY + t, 0.1) for t in (0, 200, 400, 5000, 5300)]
    once = [("once", "people", DAY, 0.1)]
    data, scores = dataset(quick + slow + once)
    table = {s.label: s for s in people_by_pace(data, scores, challenge=0.5, block=0.95)}
    assert list(table) == [
        "fewer than 2 pauses",
        "under 3 s",
        "3-10 s",
        "10-30 s",
        "30-120 s",
        "120 s or more",
    ]
    assert (table["under 3 s"].people, table["under 3 s"].flagged_challenge) == (1, 1.0)
    assert (table["120 s or more"].people, table["120 s or more"].flagged_challenge) == (1, 0.0)
    assert table["fewer than 2 pauses"].people == 1
