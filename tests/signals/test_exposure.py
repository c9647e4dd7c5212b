"""Tests for guard.signals.exposure: the records the site showed anyone lately."""

from __future__ import annotations

import re

import pytest

from guard.signals.exposure import (
    BUCKETS,
    LOCAL_NOTES,
    TTL,
    Exposure,
    exposure_key,
)

pytestmark = pytest.mark.anyio


def test_markers_are_written_again_only_after_a_quarter_of_their_life() -> None:
    """A process writes a record's marker once, again only after TTL / 4, and forgets
    what it wrote past LOCAL_NOTES rather than growing."""
    exposure = Exposure("t")
    assert [op.key for op in exposure.mark(["7", "8"], 1000.0)] == [
        exposure_key("t", "7"),
        exposure_key("t", "8"),
    ]
    assert exposure.mark(["7", "8"], 1000.0 + TTL / 8) == []
    assert len(exposure.mark(["7"], 1000.0 + TTL / 4)) == 1
    exposure.mark((str(n) for n in range(LOCAL_NOTES + 10)), 5000.0)
    assert len(exposure.mark(["5"], 5000.0)) == 1  # forgotten: the notes were cleared


def test_markers_share_a_few_hash_tags() -> None:
    """On Redis Cluster a listing's markers go to at most BUCKETS slots."""
    tags = {re.search(r"\{[^}]*\}", exposure_key("g", str(n))).group(0) for n in range(2000)}  # type: ignore[union-attr]
    assert len(tags) == BUCKETS


def test_a_note_without_a_marker_is_dropped_so_the_next_page_writes_it_again() -> None:
    """Asked about a record the store holds no marker for, a process that marked it lately
    says so once and forgets the note: the next page showing it writes the marker again."""
    exposure = Exposure("t")
    exposure.mark(["7"], 1000.0)
    assert exposure.noted("7", 1001.0)
    assert not exposure.noted("7", 1002.0)
    assert len(exposure.mark(["7"], 1003.0)) == 1
    assert not exposure.noted("8", 1003.0)
