"""Tests for guard.store.hll.HyperLogLog: accuracy, idempotence and merging.

A 1,024-register sketch has about 3.25% standard error, so one estimate lands outside 5%
roughly one run in eight. Accuracy tests therefore average several independent sketches
(the mean's error shrinks with their number) and give each single sketch 5 sigma.
"""

from __future__ import annotations

import statistics

import pytest

from guard.store.hll import REGISTERS, HyperLogLog


def relative_errors(size: int, sketches: int) -> list[float]:
    """The relative error of ``sketches`` independent sketches of ``size`` members each."""
    return [
        HyperLogLog.of(f"s{run}-m{i}" for i in range(size)).estimate() / size - 1
        for run in range(sketches)
    ]


def test_empty_sketch_estimates_zero() -> None:
    """A new sketch counts nothing."""
    assert HyperLogLog().estimate() == 0


def test_sketch_is_one_kib() -> None:
    """The sketch is 1,024 one-byte registers, whatever it holds."""
    sketch = HyperLogLog.of(str(i) for i in range(10_000))
    assert REGISTERS == 1024
    assert len(sketch.registers) == 1024


def test_repeats_do_not_change_the_estimate() -> None:
    """Adding members again leaves the sketch exactly as it was."""
    sketch = HyperLogLog.of(f"m{i}" for i in range(2_000))
    before = (bytes(sketch.registers), sketch.estimate())
    for i in range(2_000):
        sketch.add(f"m{i}")
    assert (bytes(sketch.registers), sketch.estimate()) == before
    assert HyperLogLog.of(["same"] * 1_000).estimate() == 1


@pytest.mark.parametrize("size", [1, 10, 50, 100])
def test_small_counts_are_nearly_exact(size: int) -> None:
    """Small sets use linear counting and are within a member or two."""
    estimate = HyperLogLog.of(f"m{i}" for i in range(size)).estimate()
    assert abs(estimate - size) <= max(2, size * 0.1)


@pytest.mark.parametrize(("size", "sketches"), [(10_000, 16), (100_000, 8)])
def test_estimate_within_five_percent(size: int, sketches: int) -> None:
    """Large counts are estimated within 5% on average, and no sketch is wildly off."""
    errors = relative_errors(size, sketches)
    assert abs(statistics.mean(errors)) < 0.05, errors
    assert all(abs(error) < 0.16 for error in errors), errors


def test_merge_is_the_union() -> None:
    """Merging two sketches gives exactly the sketch of the union of their members."""
    left_members = [f"m{i}" for i in range(6_000)]
    right_members = [f"m{i}" for i in range(4_000, 10_000)]
    left, right = HyperLogLog.of(left_members), HyperLogLog.of(right_members)
    right_before = bytes(right.registers)
    left.merge(right)
    union = HyperLogLog.of(left_members + right_members)
    assert left.registers == union.registers
    assert abs(left.estimate() - union.estimate()) <= 1
    assert bytes(right.registers) == right_before
    assert abs(left.estimate() / 10_000 - 1) < 0.16


def test_merge_is_idempotent_and_commutative() -> None:
    """Merging a sketch into itself changes nothing; merge order does not matter."""
    a = HyperLogLog.of(f"a{i}" for i in range(3_000))
    b = HyperLogLog.of(f"b{i}" for i in range(500))
    before = bytes(a.registers)
    a.merge(a)
    assert bytes(a.registers) == before
    ab, ba = (
        HyperLogLog.of(f"a{i}" for i in range(3_000)),
        HyperLogLog.of(f"b{i}" for i in range(500)),
    )
    ab.merge(b)
    ba.merge(a)
    assert ab.registers == ba.registers


def test_merge_with_empty_changes_nothing() -> None:
    """An empty sketch is the identity of merge."""
    sketch = HyperLogLog.of(f"m{i}" for i in range(1_000))
    before = sketch.estimate()
    sketch.merge(HyperLogLog())
    assert sketch.estimate() == before
    empty = HyperLogLog()
    empty.merge(sketch)
    assert empty.estimate() == before
