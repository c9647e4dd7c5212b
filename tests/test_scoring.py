"""Tests for guard.scoring.combine: the noisy-OR of finding weights."""

from __future__ import annotations

import itertools

import pytest

from guard.scoring import combine


def test_no_findings_scores_zero() -> None:
    """With no evidence the score is 0."""
    assert combine([]) == 0.0


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.55, 0.6, 0.95, 1.0])
def test_single_weight_is_the_score(weight: float) -> None:
    """One finding's weight is the score itself, exactly at threshold values."""
    assert combine([weight]) == pytest.approx(weight, abs=1e-12)
    assert combine([weight]) >= weight


@pytest.mark.parametrize(
    ("weights", "expected"),
    [([0.5, 0.5], 0.75), ([0.5, 0.5, 0.5], 0.875), ([0.3, 0.3], 0.51), ([0.9, 0.5], 0.95)],
)
def test_independent_evidence_combines(weights: list[float], expected: float) -> None:
    """Weights combine as 1 - prod(1 - w)."""
    assert combine(weights) == pytest.approx(expected)


def test_out_of_range_weights_are_clamped() -> None:
    """Weights below 0 count as 0 and above 1 as 1, so the score stays in [0, 1]."""
    assert combine([-5.0]) == 0.0
    assert combine([7.0]) == 1.0
    assert combine([-1.0, 0.5]) == pytest.approx(0.5)


def test_adding_evidence_never_lowers_the_score() -> None:
    """The score is monotone: every extra finding raises it or leaves it."""
    weights = [0.1, 0.0, 0.45, 0.7, 0.2]
    for n in range(len(weights)):
        assert combine(weights[: n + 1]) >= combine(weights[:n])


def test_order_does_not_matter() -> None:
    """The score is the same for any order of the findings."""
    weights = [0.2, 0.5, 0.35, 0.9]
    scores = {round(combine(p), 12) for p in itertools.permutations(weights)}
    assert len(scores) == 1


def test_accepts_any_iterable() -> None:
    """combine() reads generators, as the policy passes one."""
    assert combine(w for w in (0.5, 0.5)) == pytest.approx(0.75)
