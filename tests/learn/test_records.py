"""Tests for guard.learn.records: the simulator's view of the demo's resumes agrees with it."""

from __future__ import annotations

import pytest

from guard.demo import data
from guard.demo.draws import CITIES, FIRST_RESUME_ID, GIVEN_NAMES, JOB_WISHES, SURNAMES
from guard.learn import records
from guard.learn.visits import DEMO_SEED

COUNT = 2000


@pytest.fixture(scope="module")
def store() -> data.ResumeStore:
    """The demo's resumes of its default seed."""
    return data.ResumeStore(COUNT, DEMO_SEED)


@pytest.fixture(scope="module")
def copy() -> records.Records:
    """The simulator's copy of them."""
    return records.Records(COUNT, DEMO_SEED)


@pytest.mark.parametrize("seed", [DEMO_SEED, 1])
def test_cards_match_the_demos_resumes(seed: int) -> None:
    """Each record's name, job wish and city are the ones the demo draws for it."""
    ids = range(FIRST_RESUME_ID, FIRST_RESUME_ID + COUNT)
    expected = [data.make_resume(seed, i) for i in ids]
    assert [records.make_card(seed, i) for i in ids] == [
        records.Card(r.id, r.name, r.job_wish, r.city) for r in expected
    ]


def test_listings_show_what_the_demo_shows(store: data.ResumeStore, copy: records.Records) -> None:
    """Every listing window holds the demo's ids in the demo's order."""
    for offset, limit in [(0, COUNT), (0, 20), (1980, 20), (1990, 20), (-5, 20), (COUNT, 20)]:
        assert copy.newest(offset, limit) == [r.id for r in store.newest(offset, limit)]


def test_searches_find_what_the_demo_finds(store: data.ResumeStore, copy: records.Records) -> None:
    """Every word people search for, and some odd queries, find the demo's ids in its order."""
    words = CITIES + JOB_WISHES + SURNAMES + GIVEN_NAMES
    for query in (*words, "li", " WANG ", "wang wei", "an\nc", "", "  ", "nobody"):
        for limit in (20, 3):
            assert copy.search(query, limit) == [r.id for r in store.search(query, limit)], query
