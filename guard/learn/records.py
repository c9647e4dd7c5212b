"""The demo job board's resumes, as far as the simulated site shows them: ids, order, search.

The simulator needs to know which resumes a listing page or a search on the demo links to,
and which words people search for; the training code must not depend on the demo app for it.
So this module derives the same values as ``guard.demo.data`` on its own: resume ``id`` of
``seed`` comes from ``random.Random(seed * 1_000_003 + id)``, whose first draw dates it
(listings show the newest first) and whose next draws give the name, the job wished for and
the city that a search matches. The draws in between (phone, age, years, traits, gender)
are made and dropped, so that the city is drawn from the same state. Changing either copy
changes the simulated traffic; ``tests/learn/test_records.py`` checks that they agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from guard.demo.words import (
    CITIES,
    FIRST_RESUME_ID,
    GIVEN_NAMES,
    JOB_WISHES,
    SURNAMES,
    WINDOW_SECONDS,
)

_TRAITS = 9
"""How many traits a summary picks two from (only their number shapes the draws)."""


@dataclass(frozen=True, slots=True)
class Card:
    """What a search matches of one resume."""

    id: int
    name: str
    job_wish: str
    city: str


def _rng(seed: int, record_id: int) -> random.Random:
    return random.Random(seed * 1_000_003 + record_id)  # noqa: S311 - fake data, not secrets


def _updated_offset(rng: random.Random) -> int:
    """Seconds before the demo's today; the first draw, so ordering needs only this one."""
    return rng.randrange(WINDOW_SECONDS)


def make_card(seed: int, record_id: int) -> Card:
    """The searchable fields of resume ``record_id`` for ``seed`` (no range check)."""
    rng = _rng(seed, record_id)
    _updated_offset(rng)
    name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)}"
    rng.choice("358")  # the phone number
    rng.choices("0123456789", k=9)
    age = rng.randint(18, 58)
    rng.randint(0, max(0, age - 18))  # years of experience
    job_wish = rng.choice(JOB_WISHES)
    rng.sample(range(_TRAITS), 2)  # the summary's traits
    rng.choice(("Male", "Female"))
    return Card(record_id, name, job_wish, rng.choice(CITIES))


class Records:
    """The ``count`` resumes of one seed: their listing order, and what a search finds."""

    def __init__(self, count: int, seed: int) -> None:
        if count < 0:
            raise ValueError("count must not be negative")
        self.count = count
        self.seed = seed
        self._cards: dict[int, Card] = {}
        ids = range(FIRST_RESUME_ID, FIRST_RESUME_ID + count)
        offsets = {i: _updated_offset(_rng(seed, i)) for i in ids}
        # Newest first: smallest offset before today; ties broken by id, as the demo does.
        self._order: list[int] = sorted(ids, key=lambda i: (offsets[i], i))

    def newest(self, offset: int, limit: int) -> list[int]:
        """The ids of ``limit`` resumes from ``offset`` in newest-updated-first order."""
        return self._order[max(0, offset) : max(0, offset) + limit]

    def search(self, query: str, limit: int = 20) -> list[int]:
        """The ids of up to ``limit`` resumes, newest first, whose name, job wish or city
        match ``query`` (ignoring case), as the demo's search finds them."""
        needle = query.strip().casefold()
        if not needle:
            return []
        found: list[int] = []
        for record_id in self._order:
            card = self._card(record_id)
            if needle in f"{card.name}\n{card.job_wish}\n{card.city}".casefold():
                found.append(record_id)
                if len(found) >= limit:
                    break
        return found

    def _card(self, record_id: int) -> Card:
        card = self._cards.get(record_id)
        if card is None:
            card = self._cards[record_id] = make_card(self.seed, record_id)
        return card
