"""The demo job board's resumes, as far as the simulated site shows them: ids, order, search.

The simulator needs to know which resumes a listing page or a search on the demo links to;
the training code must not depend on the demo app for it. The draws themselves are shared
(:mod:`guard.demo.draws`); ``tests/learn/test_records.py`` checks the views agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from guard.demo.draws import FIRST_RESUME_ID, draw_resume, newest_first


@dataclass(frozen=True, slots=True)
class Card:
    """What a search matches of one resume."""

    id: int
    name: str
    job_wish: str
    city: str


def make_card(seed: int, record_id: int) -> Card:
    """The searchable fields of resume ``record_id`` for ``seed`` (no range check)."""
    drawn = draw_resume(seed, record_id)
    return Card(record_id, drawn.name, drawn.job_wish, drawn.city)


class Records:
    """The ``count`` resumes of one seed: their listing order, and what a search finds."""

    def __init__(self, count: int, seed: int) -> None:
        if count < 0:
            raise ValueError("count must not be negative")
        self.count = count
        self.seed = seed
        self._cards: dict[int, Card] = {}
        self._order = newest_first(seed, range(FIRST_RESUME_ID, FIRST_RESUME_ID + count))

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
