"""Tests for guard.store.memory.MemoryStore beyond the contract: memory bounds and sketches."""

from __future__ import annotations

import gc
import statistics

import pytest

import guard.store as store_module
from guard.errors import ConfigError
from guard.signals.profile import ClientProfile
from guard.store import MemoryStore, Store, actor_key, register_store, store_from_url
from guard.store.base import (
    DistinctAdd,
    DistinctCount,
    Op,
    RateHit,
    RateState,
    ValueGet,
    ValuePut,
)
from guard.store.memory import DEFAULT_MB, HEAVY, UNIT_BYTES

T0 = 1_800_000_000.0
HOUR = 3600.0


def ip_key(i: int) -> str:
    """The rate key of the i-th address in 10.0.0.0/8."""
    address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    return actor_key("guard", "ip", address, "rate:sensitive")


@pytest.mark.anyio
async def test_spray_of_distinct_keys_stays_within_budget() -> None:
    """200,000 one-off addresses never push the store past max_weight, and the newest stay."""
    store = MemoryStore(max_weight=20_000)
    peak_weight = peak_len = 0
    for i in range(200_000):
        await store.execute([RateHit(ip_key(i), 30, 60.0)], T0 + i * 0.001)
        peak_weight = max(peak_weight, store.weight)
        peak_len = max(peak_len, len(store))
    assert peak_weight <= store.max_weight
    assert peak_len <= store.max_weight
    assert len(store) >= store.max_weight // 4
    [newest] = await store.execute([RateHit(ip_key(199_999), 30, 60.0)], T0 + 200.0)
    assert isinstance(newest, RateState)
    assert newest.remaining == 28
    [oldest] = await store.execute([RateHit(ip_key(0), 30, 60.0)], T0 + 200.0)
    assert isinstance(oldest, RateState)
    assert oldest.remaining == 29


@pytest.mark.anyio
async def test_batch_larger_than_budget_is_trimmed_after_the_batch() -> None:
    """A batch that writes more than the budget is cut back to it once it completes."""
    store = MemoryStore(max_weight=16)
    await store.execute([RateHit(ip_key(i), 30, 60.0) for i in range(100)], T0)
    assert store.weight <= 16
    assert len(store) <= 16


@pytest.mark.anyio
async def test_least_recently_used_is_evicted_first() -> None:
    """Reading an entry protects it; the entry untouched longest goes first."""
    store = MemoryStore(max_weight=16)
    keys = [f"k{i}" for i in range(16)]
    puts = [ValuePut(k, ClientProfile(requests=i), HOUR) for i, k in enumerate(keys)]
    await store.execute(puts, T0)
    await store.execute([ValueGet("k0", ClientProfile)], T0 + 1)
    await store.execute([ValuePut("new", ClientProfile(), HOUR)], T0 + 2)
    kept, evicted = await store.execute(
        [ValueGet("k0", ClientProfile), ValueGet("k1", ClientProfile)], T0 + 3
    )
    assert isinstance(kept, ClientProfile)
    assert kept.requests == 0
    assert evicted is None
    assert store.weight <= 16


@pytest.mark.anyio
async def test_large_distinct_set_switches_to_fixed_size_sketch() -> None:
    """Past a few thousand members a distinct window's weight stops growing."""
    store = MemoryStore()
    weights = []
    for size in (5_000, 10_000, 20_000):
        await store.execute([DistinctAdd("records", f"m{i}", HOUR) for i in range(size)], T0)
        weights.append(store.weight)
    assert weights[0] == weights[1] == weights[2]
    assert weights[0] <= 12 * 5


@pytest.mark.anyio
async def test_small_distinct_sets_are_exact() -> None:
    """Below the sketch threshold a distinct count is exact."""
    store = MemoryStore()
    await store.execute([DistinctAdd("small", f"m{i % 90}", HOUR) for i in range(500)], T0)
    assert await store.execute([DistinctCount("small", HOUR)], T0) == [90]


@pytest.mark.anyio
async def test_large_distinct_sets_are_estimated_within_ten_percent() -> None:
    """5,000 distinct members are counted to within about 10%, repeats not counted."""
    store = MemoryStore()
    true_count, errors = 5_000, []
    for run in range(4):
        key = f"records-{run}"
        members = [f"{run}:{i}" for i in range(true_count)]
        await store.execute([DistinctAdd(key, m, HOUR) for m in members], T0)
        await store.execute([DistinctAdd(key, m, HOUR) for m in members[:1000]], T0 + 1)
        [count] = await store.execute([DistinctCount(key, HOUR)], T0 + 2)
        assert isinstance(count, int)
        errors.append(count / true_count - 1)
    # One sketch has ~3.2% standard error: each run gets 5 sigma, their mean 10%.
    assert all(abs(error) < 0.16 for error in errors), errors
    assert abs(statistics.mean(errors)) < 0.10, errors


@pytest.mark.anyio
async def test_large_window_buckets_are_united_and_age_out() -> None:
    """A large window counts the union of its buckets and forgets buckets that age out."""
    store = MemoryStore()
    key = "mixed"
    await store.execute([DistinctAdd(key, f"m{i}", HOUR) for i in range(3_000)], T0)
    later = [DistinctAdd(key, f"m{i}", HOUR) for i in range(2_900, 4_000)]
    await store.execute(later, T0 + HOUR / 4)
    [both] = await store.execute([DistinctCount(key, HOUR)], T0 + HOUR / 2)
    assert isinstance(both, int)
    assert abs(both / 4_000 - 1) < 0.16
    [recent] = await store.execute([DistinctCount(key, HOUR)], T0 + HOUR)
    assert isinstance(recent, int)
    assert abs(recent / 1_100 - 1) < 0.16


@pytest.mark.anyio
async def test_expired_value_is_not_returned_and_frees_its_weight() -> None:
    """A value read at or after its expiry is None and its weight is released."""
    store = MemoryStore()
    await store.execute([ValuePut("p", ClientProfile(requests=1), 10.0)], T0)
    assert store.weight == 1
    [still] = await store.execute([ValueGet("p", ClientProfile)], T0 + 9.999)
    assert isinstance(still, ClientProfile)
    [gone] = await store.execute([ValueGet("p", ClientProfile)], T0 + 10.0)
    assert gone is None
    assert store.weight == 0
    assert len(store) == 0


@pytest.mark.anyio
async def test_rate_entry_expires_once_fully_refilled() -> None:
    """A rate entry lives only until its limit has refilled, then starts fresh."""
    store = MemoryStore()
    await store.execute([RateHit("r", 30, 60.0)] * 30, T0)
    [refused] = await store.execute([RateHit("r", 30, 60.0)], T0)
    assert isinstance(refused, RateState)
    assert not refused.allowed
    [fresh] = await store.execute([RateHit("r", 30, 60.0)], T0 + 60.0)
    assert isinstance(fresh, RateState)
    assert fresh.remaining == 29


@pytest.mark.anyio
async def test_expired_distinct_window_is_not_counted() -> None:
    """A distinct window read after it has fully aged out counts zero and is dropped."""
    store = MemoryStore()
    await store.execute([DistinctAdd("d", "a", 60.0)], T0)
    assert store.weight > 0
    [count] = await store.execute([DistinctCount("d", 60.0)], T0 + 300.0)
    assert count == 0
    assert len(store) == 0
    assert store.weight == 0


def test_memory_store_rejects_tiny_or_double_budgets() -> None:
    """A budget below 16 units, or given both ways, is a configuration error."""
    with pytest.raises(ConfigError, match="at least 16 units"):
        MemoryStore(max_weight=15)
    with pytest.raises(ConfigError, match="at least 16 units"):
        MemoryStore(max_mb=0.001)
    with pytest.raises(ConfigError, match="not both"):
        MemoryStore(100, max_mb=1)


def test_store_from_url_memory_defaults_and_options() -> None:
    """memory:// builds a MemoryStore of DEFAULT_MB megabytes; max_mb or max_weight in the
    query sets its budget, in megabytes by UNIT_BYTES a unit, or in units."""
    default = store_from_url("memory://")
    assert isinstance(default, MemoryStore)
    assert default.max_bytes == DEFAULT_MB * 2**20
    sized = store_from_url("memory://?max_weight=500")
    assert isinstance(sized, MemoryStore)
    assert sized.max_weight == 500
    megabytes = store_from_url("memory://?max_mb=16")
    assert isinstance(megabytes, MemoryStore)
    assert megabytes.max_weight == 16 * 2**20 // UNIT_BYTES
    with pytest.raises(ConfigError, match="unknown option"):
        store_from_url("memory://?max_megs=16")
    with pytest.raises(ConfigError, match="max_mb must be a number"):
        store_from_url("memory://?max_mb=lots")


@pytest.mark.anyio
async def test_a_spray_does_not_evict_a_budget_being_spent() -> None:
    """A window of two or more distinct records (a harvester's budget) outlives a spray of
    one-record addresses that cycles the whole store between the harvester's reads (2-unit
    entries fill 2,000 units in 1,000 requests; the harvester reads two records, then one
    every 2,000), where least-recently-used alone would forget it each time; the spray's
    own entries go."""
    store = MemoryStore(max_weight=2_000)
    harvester = actor_key("guard", "ip", "203.0.113.8", "b3600")
    read = 0
    for i in range(60_000):
        ops: list[Op] = [DistinctAdd(ip_key(i), "100001", HOUR)]
        if i % 2_000 == 0:
            for _ in range(2 if i == 0 else 1):
                read += 1
                ops.append(DistinctAdd(harvester, str(100_000 + read), HOUR))
        await store.execute(ops, T0 + i * 0.01)
        assert store.weight <= store.max_weight
    [count] = await store.execute([DistinctCount(harvester, HOUR)], T0 + 600.5)
    assert read == 31
    assert count == read
    [sprayed] = await store.execute([DistinctCount(ip_key(0), HOUR)], T0 + 600.5)
    assert sprayed == 0


@pytest.mark.anyio
async def test_heavy_entries_alone_are_evicted_least_recently_used() -> None:
    """When every entry is heavy, the store still keeps its budget, oldest first."""
    store = MemoryStore(max_weight=16 * HEAVY)
    for actor in range(40):
        key = actor_key("guard", "ip", f"10.0.0.{actor}", "b3600")
        await store.execute([DistinctAdd(key, str(r), HOUR) for r in range(HEAVY)], T0 + actor)
        assert store.weight <= store.max_weight
    first, last = await store.execute(
        [
            DistinctCount(actor_key("guard", "ip", "10.0.0.0", "b3600"), HOUR),
            DistinctCount(actor_key("guard", "ip", "10.0.0.39", "b3600"), HOUR),
        ],
        T0 + 50,
    )
    assert (first, last) == (0, HEAVY)


@pytest.mark.parametrize("url", ["memory://?max_weight=abc", "memory://?max_weight=1e6"])
def test_store_from_url_bad_max_weight(url: str) -> None:
    """A non-integer max_weight is a ConfigError naming the option."""
    with pytest.raises(ConfigError, match="max_weight must be a whole number"):
        store_from_url(url)


def test_store_from_url_too_small_max_weight() -> None:
    """An integer max_weight below the minimum is a ConfigError."""
    with pytest.raises(ConfigError, match="at least 16"):
        store_from_url("memory://?max_weight=5")


@pytest.mark.parametrize("url", ["mongodb://localhost:27017/0", "nosuch://", "", "relative/path"])
def test_store_from_url_unknown_scheme(url: str) -> None:
    """An unknown or missing scheme is a ConfigError listing the known schemes."""
    with pytest.raises(ConfigError, match=r"unknown scheme .*expected one of .*memory://"):
        store_from_url(url)


def test_register_store_adds_a_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered factory builds stores for its scheme."""
    monkeypatch.setattr(store_module, "_SCHEMES", dict(store_module._SCHEMES))
    built: list[str] = []

    def factory(url: str) -> Store:
        built.append(url)
        return MemoryStore(64)

    register_store("test", factory)
    assert isinstance(store_from_url("test://x"), MemoryStore)
    assert built == ["test://x"]


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0", "redis+cluster://127.0.0.1:1"]
)
def test_store_from_url_knows_the_redis_schemes(url: str) -> None:
    """The Redis schemes build a Redis store (no connection is made until it is used)."""
    assert type(store_from_url(url)).__name__ == "RedisStore"


@pytest.mark.anyio
async def test_state_for_many_clients_gives_the_garbage_collector_nothing_to_track() -> None:
    """Rate limits, budgets and profiles of 2,000 clients add no GC-tracked objects, so the
    store's growth neither lengthens nor sets off full collections."""
    store = MemoryStore()
    gc.collect()
    before = len(gc.get_objects())
    for i in range(2_000):
        budget = f"budget-{i}"
        await store.execute(
            [
                RateHit(ip_key(i), 30, 60.0),
                DistinctCount(budget, HOUR, reserve=True),
                ValueGet(f"profile-{i}", ClientProfile),
            ],
            T0 + i,
        )
        await store.execute(
            [
                DistinctAdd(budget, str(100_000 + i), HOUR, release=True),
                ValuePut(f"profile-{i}", ClientProfile(requests=i), HOUR),
            ],
            T0 + i,
        )
    gc.collect()
    assert len(store) == 6_000
    assert len(gc.get_objects()) - before < 50
