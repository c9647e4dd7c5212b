"""Tests for guard.signals.ledger: what a client was shown, in a few bytes."""

from __future__ import annotations

import pytest

from guard.signals.ledger import MAX_SHOWN, Ledger
from tests.signals.twins import LEDGERS


@pytest.fixture(params=LEDGERS)
def kind(request: pytest.FixtureRequest) -> type[Ledger]:
    """Each twin in turn: the Python class and the compiled one."""
    twin: type[Ledger] = request.param
    return twin


def test_shown_records_are_known_and_others_are_not(kind: type[Ledger]) -> None:
    """A record shown is found; of 10,000 never shown, few pass for shown (16-bit marks)."""
    ledger = kind()
    for record in range(100, 100 + MAX_SHOWN):
        ledger.show(str(record))
    assert all(ledger.was_shown(str(r)) for r in range(100, 100 + MAX_SHOWN))
    false = sum(ledger.was_shown(str(r)) for r in range(500_000, 510_000))
    assert false < 10_000 * MAX_SHOWN / 65536 * 2  # about 0.24% expected


def test_the_ledger_is_bounded_and_forgets_the_oldest(kind: type[Ledger]) -> None:
    """Showing a client thousands of records keeps the last MAX_SHOWN, in as many marks."""
    ledger = kind()
    for record in range(5000):
        ledger.show(f"r{record}")
    assert len(ledger.shown) == MAX_SHOWN * 2
    assert ledger.was_shown("r4999")
    assert sum(ledger.was_shown(f"r{r}") for r in range(1000)) < 20


def test_reads_count_cold_streaks_and_ordered_walks(kind: type[Ledger]) -> None:
    """Reads of records not shown make a streak (ended by one shown); cold reads 1-3 ids
    apart count as ordered steps."""
    ledger = kind()
    ledger.show("500")
    for number in (10, 11, 13, 14):
        assert not ledger.read(str(number), number)
    assert (ledger.cold, ledger.streak, ledger.cold_steps) == (4, 4, 3)
    assert ledger.read("500", 500)
    assert (ledger.warm, ledger.streak) == (1, 0)


def test_pack_round_trips_and_survives_bad_lengths(kind: type[Ledger]) -> None:
    """pack/unpack round-trip; a truncated or odd-length value unpacks to something sane."""
    ledger = kind()
    ledger.show("a")
    ledger.read("b", None)
    data = ledger.pack()
    assert kind.unpack(data) == ledger
    assert kind.unpack(data[:5]) == kind()
    odd = kind.unpack(data + b"x")
    assert odd.shown == ledger.shown
