"""Tests for guard.signals.profile.ClientProfile: counting, timing statistics and packing."""

from __future__ import annotations

import itertools
import math
import statistics
import struct

import pytest

from guard.signals.profile import REFERRER_NONE, REFERRER_OTHER, REFERRER_SITE, ClientProfile
from tests.signals.twins import PROFILES, values

T0 = 1_800_000_000.0


@pytest.fixture(params=PROFILES)
def kind(request: pytest.FixtureRequest) -> type[ClientProfile]:
    """Each twin in turn: the Python class and the compiled one."""
    twin: type[ClientProfile] = request.param
    return twin


def page(profile: ClientProfile, now: float, record: int | None = None, **flags: bool) -> None:
    """Observe one document request (a new page each time, so never a reload)."""
    profile.observe(
        now,
        static=False,
        record=record,
        path=f"/resume/{record}" if record is not None else f"/page/{now}",
        tracked=flags.get("tracked", False),
        robots=flags.get("robots", False),
        honeypot=flags.get("honeypot", False),
    )


def document(profile: ClientProfile, now: float, path: str = "", **extra: object) -> None:
    """Observe one page request with no flags but ``extra`` (referrer, head, api, ...)."""
    profile.observe(
        now,
        static=False,
        record=None,
        tracked=False,
        robots=False,
        honeypot=False,
        path=path,
        **extra,  # type: ignore[arg-type]
    )


def asset(profile: ClientProfile, now: float) -> None:
    """Observe one static asset request."""
    profile.observe(now, static=True, record=None, tracked=True, robots=False, honeypot=False)


def test_new_profile_is_empty(kind: type[ClientProfile]) -> None:
    """A new profile has seen nothing and has no timing statistics."""
    profile = kind()
    assert profile.requests == 0
    assert profile.last_record == -1
    assert profile.doc_gap_cv == math.inf


def test_counts_requests_documents_statics_and_flags(kind: type[ClientProfile]) -> None:
    """Each request bumps the right counters and the first/last seen times."""
    profile = kind()
    page(profile, T0, robots=True)
    asset(profile, T0 + 1)
    page(profile, T0 + 2, record=5, tracked=True)
    page(profile, T0 + 3, honeypot=True)
    assert (profile.first_seen, profile.last_seen) == (T0, T0 + 3)
    assert profile.requests == 4
    assert profile.documents == 3
    assert profile.statics == 1
    assert profile.records == 1
    assert profile.cookie_returns == 2
    assert profile.robots_fetches == 1
    assert profile.honeypot_hits == 1


def test_sequential_steps_count_small_id_moves(kind: type[ClientProfile]) -> None:
    """Moving to a record 1 to 3 ids away counts as a sequential step; jumps do not."""
    profile = kind()
    for now, record in enumerate([100, 101, 102, 105, 104, 200, 203, 207, 207]):
        page(profile, T0 + 5 * now, record=record)  # 5 s apart: the repeat is no reload
    # steps: 100->101, 101->102, 102->105, 105->104, 200->203 (the rest jump or repeat)
    assert profile.sequential_steps == 5
    assert profile.records == 9
    assert profile.last_record == 207


def test_sequential_steps_ignore_non_record_pages_between(kind: type[ClientProfile]) -> None:
    """Listing pages between records do not break a sequence."""
    profile = kind()
    page(profile, T0, record=1)
    page(profile, T0 + 1)
    page(profile, T0 + 2, record=2)
    assert profile.sequential_steps == 1


def test_client_errors_count_only_4xx(kind: type[ClientProfile]) -> None:
    """observe_status counts 4xx responses and nothing else."""
    profile = kind()
    for status in (200, 301, 404, 429, 500, 403):
        profile.observe_status(status)
    assert profile.client_errors == 3


@pytest.mark.parametrize(
    "gaps",
    [
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [0.5, 0.5, 0.5, 0.5],
        [2.1, 0.3, 9.7, 1.1, 4.4, 0.05, 3.3, 12.0],
        [100.0, 0.001, 50.0],
    ],
)
def test_welford_gap_mean_and_cv_match_statistics(
    kind: type[ClientProfile], gaps: list[float]
) -> None:
    """The running mean and CV of page gaps equal the statistics module's answers."""
    profile = kind()
    times = [T0]
    for gap in gaps:
        times.append(times[-1] + gap)
    page(profile, times[0])
    for before, now in itertools.pairwise(times):
        asset(profile, (before + now) / 2)
        page(profile, now)
    actual = [b - a for a, b in itertools.pairwise(times)]  # as stored in floats
    assert profile.doc_gap_count == len(gaps)
    assert profile.doc_gap_mean == pytest.approx(statistics.mean(actual), rel=1e-9)
    expected_cv = statistics.stdev(actual) / statistics.mean(actual)
    assert profile.doc_gap_cv == pytest.approx(expected_cv, rel=1e-9)


def test_metronome_has_zero_cv(kind: type[ClientProfile]) -> None:
    """Perfectly regular pages have a CV of 0."""
    profile = kind()
    for i in range(12):
        page(profile, T0 + 2.0 * i)
    assert profile.doc_gap_cv == pytest.approx(0.0, abs=1e-12)


def test_cv_needs_two_gaps_and_a_positive_mean(kind: type[ClientProfile]) -> None:
    """With fewer than two gaps, or all-zero gaps, the CV is infinite (no evidence)."""
    profile = kind()
    page(profile, T0)
    page(profile, T0 + 1)
    assert profile.doc_gap_cv == math.inf
    burst = kind()
    for _ in range(5):
        page(burst, T0)
    assert burst.doc_gap_cv == math.inf


def test_clock_going_backwards_gives_zero_gap(kind: type[ClientProfile]) -> None:
    """A request stamped before the previous page counts as a zero gap, not a negative one."""
    profile = kind()
    page(profile, T0 + 10)
    page(profile, T0 + 5)
    assert profile.doc_gap_mean == 0.0


def test_pack_is_94_bytes_and_the_ledger_and_round_trips(kind: type[ClientProfile]) -> None:
    """pack() gives the fixed 94 bytes, then the ledger's 18 and two a record shown, and
    unpack() restores the profile (floats to float32 precision)."""
    profile = kind()
    page(profile, T0, record=10, tracked=True, robots=True)
    asset(profile, T0 + 0.25)
    page(profile, T0 + 1.75, record=11, honeypot=True)
    page(profile, T0 + 3.5, record=12)
    profile.observe_status(404)
    assert len(profile.pack()) == 94 + 18
    for shown in ("100", "101", "abc"):
        profile.ledger.show(shown)
    profile.ledger.read("555", 555)
    data = profile.pack()
    assert len(data) == 94 + 18 + 3 * 2
    restored = kind.unpack(data)
    assert values(restored) == pytest.approx(values(profile), rel=1e-6)
    assert restored.ledger == profile.ledger
    assert restored.doc_gap_cv == profile.doc_gap_cv
    assert restored.pack() == data


def test_a_profile_stored_before_the_ledger_unpacks_with_an_empty_one(
    kind: type[ClientProfile],
) -> None:
    """A 94-byte profile (stored by an older version) comes back with an empty ledger."""
    profile = kind()
    page(profile, T0, record=10)
    restored = kind.unpack(profile.pack()[:94])
    assert restored.ledger.cold == restored.ledger.warm == 0
    assert not restored.ledger.shown


def test_unpack_of_new_profile_keeps_no_record_marker(kind: type[ClientProfile]) -> None:
    """The -1 'no record yet' marker survives packing (it is a signed field)."""
    assert kind.unpack(kind().pack()).last_record == -1


def test_unpack_rejects_wrong_length(kind: type[ClientProfile]) -> None:
    """Bytes of the wrong size are refused rather than misread."""
    with pytest.raises(struct.error, match="94"):
        kind.unpack(b"\x00" * 87)


def test_pack_keeps_times_to_the_millisecond_and_saturates_counters(
    kind: type[ClientProfile],
) -> None:
    """Times survive packing within a millisecond over hours; huge counters saturate."""
    profile = kind(
        first_seen=T0 + 0.123,
        last_seen=T0 + 5 * 3600 + 0.777,
        last_document=T0 + 3600.5,
        requests=5_000_000_000,
        client_errors=70_000,
        doc_gap_mean=12.345,
        doc_gap_m2=6789.5,
    )
    restored = kind.unpack(profile.pack())
    assert restored.first_seen == profile.first_seen
    assert abs(restored.last_seen - profile.last_seen) < 1e-3
    assert abs(restored.last_document - profile.last_document) < 1e-3
    assert restored.requests == 0xFFFFFFFF
    assert restored.client_errors == 0xFFFF
    assert abs(restored.doc_gap_mean - 12.345) < 1e-5


def test_referrers_heads_api_and_night_pages_are_counted(kind: type[ClientProfile]) -> None:
    """Pages count by where their Referer points, HEAD and JSON requests count, and pages
    before 06:00 on the site's clock count as night-time."""
    profile = kind()
    document(profile, T0, referrer=REFERRER_NONE, local_hour=3)
    document(profile, T0 + 5, referrer=REFERRER_SITE, head=True, local_hour=9)
    document(profile, T0 + 9, referrer=REFERRER_OTHER, api=True, local_hour=5)
    assert (profile.empty_referrers, profile.site_referrers) == (1, 1)
    assert (profile.heads, profile.api_requests, profile.night_documents) == (1, 1, 2)


def test_distinct_paths_are_estimated_from_the_bitmap(kind: type[ClientProfile]) -> None:
    """Revisiting a path adds nothing; the estimate tracks a few distinct paths closely."""
    profile = kind()
    for path in ["/a", "/b", "/a", "/c", "/a"]:
        document(profile, T0, path)
    assert profile.distinct_paths == pytest.approx(3, abs=0.6)
    many = kind()
    for i in range(40):
        document(many, T0, f"/resume/{i}")
    assert 25 < many.distinct_paths < 60


def test_gap_minimum_and_decaying_rates(kind: type[ClientProfile]) -> None:
    """The smallest gap between pages is kept; the fast rate forgets a burst within a minute,
    the slow one still remembers it."""
    profile = kind()
    for t in (0.0, 0.5, 1.0, 1.5, 2.0):
        page(profile, T0 + t)
    assert profile.doc_gap_min == 0.5
    assert profile.rate_fast > 4.5
    page(profile, T0 + 62.0)
    assert profile.doc_gap_min == 0.5
    assert profile.rate_fast < 1.1
    assert profile.rate_slow > 5.0


def test_the_same_page_again_at_once_is_one_page_view(kind: type[ClientProfile]) -> None:
    """Asking for the page just viewed again within 3 s (a reload, or the return after a
    challenge) counts as a request but not as another page; later, or another page, counts."""
    profile = kind()
    page(profile, T0, record=7)
    page(profile, T0 + 1, record=7)
    assert (profile.requests, profile.documents, profile.doc_gap_count) == (2, 1, 0)
    page(profile, T0 + 10, record=7)
    page(profile, T0 + 11, record=8)
    assert profile.documents == 3


def test_a_field_no_saturation_mends_is_refused(kind: type[ClientProfile]) -> None:
    """A negative counter cannot be packed: struct.error at once, not endless retries."""
    with pytest.raises(struct.error):
        kind(requests=-1).pack()
    with pytest.raises(struct.error):
        kind(heads=-2, requests=2**40).pack()
