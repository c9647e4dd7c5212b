"""The client profile and ledger in C (guard/signals/_profile.c) against the Python they twin.

The profile and ledger tests run on both twins, and the fuzz tests replay random histories
through both (tests/fuzz/test_properties.py); here: the constants they share, how they fail,
and which twin the behaviour signal runs.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from typing import Any

import pytest

from guard import native
from guard.errors import ConfigError
from guard.policy import Policy
from guard.signals import ledger as ledgers
from guard.signals import profile as profiles
from guard.signals.behaviour import BehaviourSignal
from guard.signals.profile import FIELDS, ClientProfile, profile_type
from tests.signals.twins import COMPILED, PROFILES, values

if COMPILED is None:  # CI builds it (gcc is there): not having it is a failure there
    WHY = native.MISSING.get("guard.signals._profile")
    if os.environ.get("CI"):
        pytest.fail(f"the compiled profile was not built: {WHY}")
    pytest.skip(f"the compiled profile is not built: {WHY}", True)
C: Any = COMPILED
TWINS: tuple[Any, ...] = (ClientProfile, C.ClientProfile)
T0 = 1_800_000_000.0


def test_the_twins_share_their_constants_and_fields() -> None:
    """The C's numbers are the Python's, and it has every field the dataclass has."""
    assert C.MAX_SHOWN == ledgers.MAX_SHOWN
    assert C.RELOAD_SECONDS == profiles.RELOAD_SECONDS
    assert (C.FAST_RATE_TAU, C.SLOW_RATE_TAU) == (
        profiles._FAST_RATE_TAU,
        profiles._SLOW_RATE_TAU,
    )
    assert C.NIGHT_HOURS == profiles._NIGHT_HOURS
    with pytest.raises(TypeError, match="other constants"):  # a build from other source
        C.setup(ledgers.MAX_SHOWN + 1, 3.0, 10.0, 300.0, 6, 94)
    assert values(C.ClientProfile()) == values(ClientProfile())
    assert repr(C.ClientProfile()) == repr(ClientProfile())
    assert FIELDS[-1] == "ledger"


@pytest.mark.parametrize(
    "data", [b"\x00" * 87, b"", bytearray(90)], ids=["short", "empty", "bytearray"]
)
def test_short_data_is_refused_alike(data: bytes) -> None:
    """Bytes too few for a profile: the same struct.error from both."""
    errors = []
    for kind in TWINS:
        with pytest.raises(struct.error) as caught:
            kind.unpack(data)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_any_buffer_unpacks_alike() -> None:
    """bytes, bytearray and memoryview all unpack to the same profile in both."""
    profile = ClientProfile()
    profile.observe(T0, static=False, record=7, tracked=True, robots=False, honeypot=False)
    profile.ledger.show("7")
    data = profile.pack()
    for buffer in (data, bytearray(data), memoryview(data)):
        assert repr(C.ClientProfile.unpack(buffer)) == repr(TWINS[0].unpack(buffer))


@pytest.mark.parametrize(
    "fields",
    [
        {"first_seen": 0.0, "last_seen": 1e39},  # an offset past float32
        {"doc_gap_m2": -1e40},
    ],
)
def test_unpackable_floats_fail_alike(fields: dict[str, float]) -> None:
    """A time or statistic float32 cannot hold: OverflowError from both (as struct's)."""
    for kind in TWINS:
        with pytest.raises(OverflowError):
            kind(**fields).pack()


def test_statuses_count_alike() -> None:
    """Only 4xx statuses are client errors, whatever kind of number the app sent."""
    counts = []
    for kind in TWINS:
        profile = kind()
        for status in (200, 404, 404.0, 499.5, 500.0, 399, True, 10**30, -(10**30)):
            profile.observe_status(status)
        counts.append(profile.client_errors)
    assert counts == [3, 3]


def test_bad_calls_fail_alike() -> None:
    """A missing or unknown keyword is a TypeError from both; neither profile is hashable
    (they change), and the ledger takes only a bytearray of marks."""
    for kind in TWINS:
        profile = kind()
        with pytest.raises(TypeError):
            profile.observe(T0, static=False, record=None, tracked=False, robots=False)
        with pytest.raises(TypeError):
            profile.observe(
                T0, static=False, record=None, tracked=False, robots=False, honeypot=False, x=1
            )
        with pytest.raises(TypeError):
            hash(profile)
        assert profile.requests == 0  # nothing was counted
    with pytest.raises(TypeError, match="bytearray"):
        C.Ledger(shown=b"not a bytearray")


def test_marks_count_only_at_even_offsets_in_both() -> None:
    """A record's mark straddling two marks (at an odd offset) is not a record shown, in
    both, however the bytes came to be there."""
    mark = (zlib.crc32(b"1") & 0xFFFF).to_bytes(2, "little")
    python, c = ledgers.Ledger(), C.Ledger()
    for ledger in (python, c):
        ledger.shown = bytearray(b"\x00" + mark + b"\x00")
    assert not python.was_shown("1")
    for record in ("1", "2", "abc", "\u00e9", "1"):
        assert python.was_shown(record) == c.was_shown(record)
        python.show(record)
        c.show(record)
    assert python.was_shown("1")
    assert python.shown == c.shown


@pytest.mark.parametrize("kind", PROFILES)
def test_the_behaviour_signal_runs_the_twin_asked_for(
    kind: type[ClientProfile], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GUARD_NATIVE picks the profile class the behaviour signal loads, creates and stores."""
    monkeypatch.setenv("GUARD_NATIVE", "0" if kind is ClientProfile else "1")
    signal = BehaviourSignal("g", (), (), Policy("enforce"))
    assert signal.profiles is kind


def test_without_the_build_the_python_serves_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No compiled profile: the Python one serves, the log says so once; asking for the
    compiled one then is a config error."""
    monkeypatch.setitem(native._loaded, "guard.signals._profile", None)
    monkeypatch.setitem(native.MISSING, "guard.signals._profile", "no module named it")
    monkeypatch.setattr(native, "_told", set())
    monkeypatch.delenv("GUARD_NATIVE", raising=False)
    with caplog.at_level(logging.WARNING, logger="guard"):
        assert profile_type() is ClientProfile
        assert profile_type() is ClientProfile
    told = [r.getMessage() for r in caplog.records if "guard.signals._profile" in r.getMessage()]
    assert len(told) == 1
    assert "no module named it" in told[0]
    with pytest.raises(ConfigError, match="not built"):
        profile_type(asked=True)
