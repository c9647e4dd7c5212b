"""The store contract: every backend in BACKENDS must pass these tests unchanged.

To add a backend, append a :class:`Backend` to ``BACKENDS``. Each test gets a fresh store
and keys unique to that test, so a shared server needs no flushing. Time is always passed
explicitly as ``now``; the two tests of expiry run only on backends that expire by ``now``
(Redis expires keys on its own clock; tests/store/test_redis.py checks its TTLs instead).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from guard.signals.profile import ClientProfile
from guard.store import MemoryStore, Store, actor_key
from guard.store.base import (
    DistinctAdd,
    DistinctCount,
    Op,
    RateHit,
    RateState,
    Result,
    ValueGet,
    ValuePut,
    actor_keys,
)
from guard.store.redis import RedisStore
from tests.store.twins import Blob

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0
"""A start time that is a whole number of minutes, hours and days since the epoch."""


@dataclass(frozen=True, slots=True)
class Backend:
    """A store implementation under contract.

    Args:
        name: the test id.
        make: builds a fresh, empty-enough store (keys are unique per test anyway).
        expires_by_now: whether TTLs are measured against the ``now`` passed to execute.
    """

    name: str
    make: Callable[[pytest.FixtureRequest], Store]
    expires_by_now: bool = True


# The contract is about semantics, not latency: a roomy timeout keeps a loaded machine from
# turning a slow answer into a failure here (tests/store/test_redis_outage.py covers those).
def _redis(request: pytest.FixtureRequest) -> Store:
    return RedisStore.from_url(f"{request.getfixturevalue('redis_url')}?timeout=1")


def _cluster(request: pytest.FixtureRequest) -> Store:
    return RedisStore.from_url(f"{request.getfixturevalue('redis_cluster').url}?timeout=1")


BACKENDS: list[Backend] = [
    Backend("memory", lambda _: MemoryStore()),
    Backend("redis", _redis, expires_by_now=False),
    Backend("redis-cluster", _cluster, expires_by_now=False),
]
CLOCKED = [backend for backend in BACKENDS if backend.expires_by_now]


async def _opened(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A fresh store of the parametrized backend, closed afterwards."""
    instance = request.param.make(request)
    try:
        yield instance
    finally:
        await instance.close()


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.name)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A fresh store of each backend in turn."""
    async for instance in _opened(request):
        yield instance


@pytest.fixture(params=CLOCKED, ids=lambda backend: backend.name)
async def clocked_store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A fresh store of each backend that expires keys by the ``now`` it is given."""
    async for instance in _opened(request):
        yield instance


@pytest.fixture
def key() -> Callable[[str], str]:
    """Builds keys unique to this test, so tests never see each other's state."""
    run = uuid.uuid4().hex[:12]
    return lambda name: actor_key("contract", "ip", f"{run}-{name}", "test")


async def one(store: Store, op: Op, now: float) -> Result:
    """Execute a single op and return its single result."""
    results = await store.execute([op], now)
    assert len(results) == 1
    return results[0]


async def hit(store: Store, name: str, now: float, limit: int = 30, cost: int = 1) -> RateState:
    """Spend ``cost`` from a ``limit`` per minute GCRA limit at ``name``."""
    state = await one(store, RateHit(name, limit, 60.0, cost), now)
    assert isinstance(state, RateState)
    return state


def sample_profile() -> ClientProfile:
    """A profile with every field set to a distinctive value."""
    profile = ClientProfile()
    for i, now in enumerate((T0, T0 + 1.5, T0 + 4.0, T0 + 4.5)):
        profile.observe(
            now, static=i == 2, record=100 + i, tracked=i > 0, robots=i == 3, honeypot=False
        )
    profile.observe_status(404)
    return profile


async def test_rate_burst_equals_limit_with_remaining_counting_down(
    store: Store, key: Callable[[str], str]
) -> None:
    """A fresh limit allows exactly `limit` hits at one instant, remaining going limit-1..0."""
    name = key("burst")
    states = [await hit(store, name, T0) for _ in range(30)]
    assert all(state.allowed for state in states)
    assert [state.remaining for state in states] == list(range(29, -1, -1))
    assert all(state.retry_after == 0.0 for state in states)
    assert states[0].reset_after == pytest.approx(2.0)
    assert states[-1].reset_after == pytest.approx(60.0)


async def test_rate_refuses_after_burst_with_retry_after_one_interval(
    store: Store, key: Callable[[str], str]
) -> None:
    """The hit after the burst is refused; retry_after is one emission interval (period/limit)."""
    name = key("refuse")
    for _ in range(30):
        await hit(store, name, T0)
    refused = await hit(store, name, T0)
    assert not refused.allowed
    assert refused.remaining == 0
    assert refused.retry_after == pytest.approx(2.0, abs=0.01)
    assert refused.reset_after == pytest.approx(60.0, abs=0.01)


async def test_rate_refused_hits_spend_nothing(store: Store, key: Callable[[str], str]) -> None:
    """Hammering a refused limit does not push its reset further out."""
    name = key("hammer")
    for _ in range(30):
        await hit(store, name, T0)
    for i in range(50):
        assert not (await hit(store, name, T0 + i * 0.01)).allowed
    after_one_interval = await hit(store, name, T0 + 2.0)
    assert after_one_interval.allowed
    assert not (await hit(store, name, T0 + 2.0)).allowed


async def test_rate_refills_with_time(store: Store, key: Callable[[str], str]) -> None:
    """Capacity returns at one unit per interval, up to a full burst after one period."""
    name = key("refill")
    for _ in range(30):
        await hit(store, name, T0)
    partial = [await hit(store, name, T0 + 10.0) for _ in range(6)]
    assert [state.allowed for state in partial] == [True] * 5 + [False]
    full = [await hit(store, name, T0 + 200.0) for _ in range(31)]
    assert sum(state.allowed for state in full) == 30
    assert not full[-1].allowed


async def test_rate_idle_time_does_not_bank_beyond_the_burst(
    store: Store, key: Callable[[str], str]
) -> None:
    """Waiting longer than one period still allows only `limit` hits in a burst."""
    name = key("idle")
    await hit(store, name, T0)
    states = [await hit(store, name, T0 + 3600.0) for _ in range(31)]
    assert sum(state.allowed for state in states) == 30


async def test_rate_cost_spends_several_units(store: Store, key: Callable[[str], str]) -> None:
    """A hit of cost N spends N units; one that does not fit is refused and spends nothing."""
    name = key("cost")
    first = await hit(store, name, T0, cost=10)
    assert first.allowed
    assert first.remaining == 20
    too_big = await hit(store, name, T0, cost=21)
    assert not too_big.allowed
    exact = await hit(store, name, T0, cost=20)
    assert exact.allowed
    assert exact.remaining == 0


async def test_rate_keys_are_independent(store: Store, key: Callable[[str], str]) -> None:
    """Exhausting one key's limit leaves another key's untouched."""
    for _ in range(30):
        await hit(store, key("a"), T0)
    assert not (await hit(store, key("a"), T0)).allowed
    other = await hit(store, key("b"), T0)
    assert other.allowed
    assert other.remaining == 29


async def test_distinct_count_of_unknown_key_is_zero(
    store: Store, key: Callable[[str], str]
) -> None:
    """A key with no members counts zero."""
    assert await one(store, DistinctCount(key("none"), 3600.0), T0) == 0


async def test_distinct_counts_members_not_repeats(store: Store, key: Callable[[str], str]) -> None:
    """Adding a member again does not raise the count."""
    name = key("records")
    for member in ["1", "2", "1", "3", "2", "1"]:
        assert await one(store, DistinctAdd(name, member, 3600.0), T0) is None
    assert await one(store, DistinctCount(name, 3600.0), T0 + 1) == 3


async def test_distinct_counts_are_per_key(store: Store, key: Callable[[str], str]) -> None:
    """Members added to one key do not show up in another."""
    await store.execute([DistinctAdd(key("a"), m, 3600.0) for m in "xyz"], T0)
    await store.execute([DistinctAdd(key("b"), "x", 3600.0)], T0)
    counts = await store.execute(
        [DistinctCount(key("a"), 3600.0), DistinctCount(key("b"), 3600.0)], T0
    )
    assert counts == [3, 1]


async def test_distinct_repeats_across_window_parts_count_once(
    store: Store, key: Callable[[str], str]
) -> None:
    """A member added in several parts of the window is still one member."""
    name = key("spread")
    for step in range(4):
        await one(store, DistinctAdd(name, "same", 60.0), T0 + step * 15.0)
    await one(store, DistinctAdd(name, "other", 60.0), T0 + 50.0)
    assert await one(store, DistinctCount(name, 60.0), T0 + 55.0) == 2


async def test_distinct_window_slides(store: Store, key: Callable[[str], str]) -> None:
    """A member counts while younger than 3/4 of the window and never once a window old."""
    name, window = key("slide"), 60.0
    await one(store, DistinctAdd(name, "early", window), T0)
    await one(store, DistinctAdd(name, "later", window), T0 + 20.0)
    assert await one(store, DistinctCount(name, window), T0 + 30.0) == 2
    assert await one(store, DistinctCount(name, window), T0 + 0.74 * window) == 2
    assert await one(store, DistinctCount(name, window), T0 + window) == 1
    assert await one(store, DistinctCount(name, window), T0 + 20.0 + window) == 0


async def test_distinct_member_readded_later_stays_counted(
    store: Store, key: Callable[[str], str]
) -> None:
    """Re-adding a member refreshes it, so it outlives its first addition's window."""
    name, window = key("refresh"), 60.0
    await one(store, DistinctAdd(name, "m", window), T0)
    await one(store, DistinctAdd(name, "m", window), T0 + 50.0)
    assert await one(store, DistinctCount(name, window), T0 + 80.0) == 1


async def test_reserving_count_reports_places_held_by_others(
    store: Store, key: Callable[[str], str]
) -> None:
    """A reserving count adds the places other unfinished requests hold to the count."""
    name = key("reserve")
    await one(store, DistinctAdd(name, "served", 3600.0), T0)
    first = await one(store, DistinctCount(name, 3600.0, reserve=True), T0)
    second = await one(store, DistinctCount(name, 3600.0, reserve=True), T0)
    third = await one(store, DistinctCount(name, 3600.0, reserve=True), T0)
    assert (first, second, third) == (1, 2, 3)


async def test_plain_count_ignores_reservations(store: Store, key: Callable[[str], str]) -> None:
    """A count without reserve neither takes a place nor counts the places held."""
    name = key("plain")
    await store.execute([DistinctCount(name, 3600.0, reserve=True)] * 2, T0)
    assert await one(store, DistinctCount(name, 3600.0), T0) == 0


async def test_release_with_member_turns_a_place_into_a_served_record(
    store: Store, key: Callable[[str], str]
) -> None:
    """Adding the served record with release frees the place and counts the record once."""
    name = key("serve")
    assert await one(store, DistinctCount(name, 3600.0, reserve=True), T0) == 0
    await one(store, DistinctAdd(name, "r1", 3600.0, release=True), T0 + 1)
    assert await one(store, DistinctCount(name, 3600.0), T0 + 2) == 1
    assert await one(store, DistinctCount(name, 3600.0, reserve=True), T0 + 2) == 1


async def test_release_without_member_only_frees_the_place(
    store: Store, key: Callable[[str], str]
) -> None:
    """A refused or failed request gives its place back without counting a record."""
    name = key("refused")
    await one(store, DistinctCount(name, 3600.0, reserve=True), T0)
    await one(store, DistinctAdd(name, None, 3600.0, release=True), T0 + 1)
    assert await one(store, DistinctCount(name, 3600.0, reserve=True), T0 + 2) == 0


async def test_extra_releases_do_not_go_negative(store: Store, key: Callable[[str], str]) -> None:
    """Releasing more places than were taken leaves zero held, never a negative count."""
    name = key("over-release")
    await store.execute([DistinctAdd(name, None, 3600.0, release=True)] * 3, T0)
    await one(store, DistinctAdd(name, "r1", 3600.0, release=True), T0)
    first = await one(store, DistinctCount(name, 3600.0, reserve=True), T0 + 1)
    second = await one(store, DistinctCount(name, 3600.0, reserve=True), T0 + 1)
    assert (first, second) == (1, 2)


async def test_abandoned_reservation_does_not_hold_forever(
    clocked_store: Store, key: Callable[[str], str]
) -> None:
    """A place never released (a crashed worker) is gone after two quiet windows."""
    name = key("abandoned")
    await one(clocked_store, DistinctCount(name, 60.0, reserve=True), T0)
    assert await one(clocked_store, DistinctCount(name, 60.0, reserve=True), T0 + 120.0) == 0


async def test_value_round_trip_of_client_profile(store: Store, key: Callable[[str], str]) -> None:
    """A ClientProfile put at a key reads back equal, as a ClientProfile."""
    profile = sample_profile()
    name = key("profile")
    assert await one(store, ValuePut(name, profile, 3600.0), T0) is None
    got = await one(store, ValueGet(name, ClientProfile), T0 + 1)
    assert isinstance(got, ClientProfile)
    assert got == ClientProfile.unpack(profile.pack())
    assert got.requests == 4
    assert got.client_errors == 1


async def test_value_absent_is_none(store: Store, key: Callable[[str], str]) -> None:
    """Reading a key never written gives None."""
    assert await one(store, ValueGet(key("absent"), ClientProfile), T0) is None


async def test_an_empty_value_is_a_value(store: Store, key: Callable[[str], str]) -> None:
    """A value that packs to no bytes reads back as itself, not as absent."""
    name = key("empty")
    await one(store, ValuePut(name, Blob(b""), 3600.0), T0)
    assert await one(store, ValueGet(name, Blob), T0 + 1) == Blob(b"")


async def test_value_put_replaces(store: Store, key: Callable[[str], str]) -> None:
    """A second put at a key replaces the first value."""
    name = key("replace")
    await one(store, ValuePut(name, ClientProfile(requests=1), 3600.0), T0)
    await one(store, ValuePut(name, ClientProfile(requests=2), 3600.0), T0 + 1)
    got = await one(store, ValueGet(name, ClientProfile), T0 + 2)
    assert isinstance(got, ClientProfile)
    assert got.requests == 2


async def test_value_expires_after_ttl(clocked_store: Store, key: Callable[[str], str]) -> None:
    """A value is readable before its TTL runs out and gone after."""
    name = key("ttl")
    await one(clocked_store, ValuePut(name, ClientProfile(requests=7), 10.0), T0)
    got = await one(clocked_store, ValueGet(name, ClientProfile), T0 + 9.0)
    assert isinstance(got, ClientProfile)
    assert await one(clocked_store, ValueGet(name, ClientProfile), T0 + 11.0) is None


async def test_batch_returns_one_result_per_op_in_order(
    store: Store, key: Callable[[str], str]
) -> None:
    """A mixed batch answers each op in order, later ops seeing earlier ones' writes."""
    rate, records, profile = key("rate"), key("records"), key("profile")
    ops: list[Op] = [
        RateHit(rate, 30, 60.0),
        DistinctAdd(records, "1", 3600.0),
        DistinctAdd(records, "2", 3600.0),
        DistinctCount(records, 3600.0),
        ValueGet(profile, ClientProfile),
        ValuePut(profile, ClientProfile(requests=3), 60.0),
        ValueGet(profile, ClientProfile),
        RateHit(rate, 30, 60.0),
    ]
    results = await store.execute(ops, T0)
    assert len(results) == len(ops)
    first, add1, add2, count, before, put, after, second = results
    assert isinstance(first, RateState)
    assert first.remaining == 29
    assert (add1, add2, count, before, put) == (None, None, 2, None, None)
    assert isinstance(after, ClientProfile)
    assert after.requests == 3
    assert isinstance(second, RateState)
    assert second.remaining == 28


async def test_empty_batch_returns_empty_list(store: Store) -> None:
    """Executing no ops returns no results."""
    assert await store.execute([], T0) == []


async def test_a_huge_limit_is_allowed(store: Store, key: Callable[[str], str]) -> None:
    """A limit so large that its step vanishes next to the clock is simply always allowed."""
    name = key("huge")
    for step in range(3):
        state = await one(store, RateHit(name, 1_000_000_000, 60.0), T0 + step * 0.001)
        assert isinstance(state, RateState)
        assert state.allowed


async def test_forget_deletes_one_actors_state_and_nothing_else(store: Store) -> None:
    """An erasure deletes every key of one actor (rates, distinct windows and their parts,
    values): it starts afresh; an actor whose name only begins the same keeps its state."""
    run = uuid.uuid4().hex[:12]
    person, neighbour = f"10.{run}.1.4", f"10.{run}.1.45"
    for actor in (person, neighbour):
        ops: list[Op] = [
            RateHit(actor_key("contract", "ip", actor, "r"), 30, 60.0),
            DistinctAdd(actor_key("contract", "ip", actor, "b"), "100001", 3600.0),
            DistinctAdd(actor_key("contract", "ip", actor, "b"), "100002", 3600.0),
            ValuePut(actor_key("contract", "ip", actor, "p"), ClientProfile(requests=3), 600.0),
        ]
        await store.execute(ops, T0)
    deleted = await store.forget(actor_keys("contract", "ip", person))
    assert deleted >= 3
    assert await store.forget(actor_keys("contract", "ip", person)) == 0
    for actor, kept in ((person, False), (neighbour, True)):
        rate, count, profile = await store.execute(
            [
                RateHit(actor_key("contract", "ip", actor, "r"), 30, 60.0),
                DistinctCount(actor_key("contract", "ip", actor, "b"), 3600.0),
                ValueGet(actor_key("contract", "ip", actor, "p"), ClientProfile),
            ],
            T0 + 1,
        )
        assert isinstance(rate, RateState)
        assert rate.remaining == (28 if kept else 29)
        assert count == (2 if kept else 0)
        assert (profile is not None) == kept
