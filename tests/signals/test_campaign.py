"""Tests for guard.signals.campaign: many new clients reading records, against the usual."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Sequence

import pytest

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.errors import StorageError
from guard.middleware import GuardMiddleware
from guard.observe.decision_log import DecisionLog
from guard.signals.campaign import HOLD, REREAD, REREAD_SHARE, YOUNG, CampaignState
from guard.store.base import DistinctCount, Op, Result
from guard.store.memory import MemoryStore
from guard.store.redis import RedisStore
from guard.store.resilient import CircuitBreaker, ResilientStore
from guard.testing import ManualClock, call_asgi, chrome_headers
from guard.testing.redis import RedisServer
from tests.conftest import SECRET, GuardedFactory

pytestmark = pytest.mark.anyio


def reasons(log: object) -> list[list[str]]:
    return [json.loads(line)["reasons"] for line in log.getvalue().splitlines()]  # type: ignore[attr-defined]


async def newcomers(
    app: object, first: int, count: int, clock: ManualClock | None = None, gap: float = 0.0
) -> list[int]:
    """``count`` new clients, each from its own /24, each reading one record, ``gap``
    seconds apart."""
    statuses = []
    for n in range(first, first + count):
        if clock is not None:
            clock.advance(gap)
        reply = await call_asgi(
            app,  # type: ignore[arg-type]
            f"/resume/{100000 + n % 1000}",
            headers=chrome_headers(),
            client=(f"10.{n // 200}.{n % 200}.9", 1),
        )
        statuses.append(reply.status)
    return statuses


async def test_a_crowd_of_new_readers_starts_a_campaign_that_relaxes(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Past the floor, new clients reading records are challenged (never blocked) until
    HOLD seconds after the crowd thins; then new readers are served again."""
    app, log = guarded(model="off", campaign_floor=5)
    statuses = await newcomers(app, 0, 12)
    assert statuses[:5] == [200] * 5
    assert set(statuses[5:]) == {429}
    assert all("campaign" in r for r in reasons(log))
    clock.advance(HOLD + 61)
    assert await newcomers(app, 100, 3) == [200, 200, 200]


async def test_a_client_with_an_older_history_reads_on(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """During a campaign a client first seen more than YOUNG seconds ago reads on
    unchallenged; a client first seen a moment ago, past its first pages or not, does not."""
    app, _ = guarded(model="off", campaign_floor=2)
    old_timer, young = chrome_headers(), {**chrome_headers(), "accept-language": "de"}
    listing = ""
    for page in (1, 2, 3, 4):
        clock.advance(YOUNG / 3)
        reply = await call_asgi(app, f"/resumes?page={page}", headers=old_timer)
        cookie = (reply.header("set-cookie") or "").split(";")[0]
        old_timer["cookie"] = old_timer.get("cookie") or cookie
        listing = reply.text
    for page in (1, 2, 3, 4):
        await call_asgi(app, f"/resumes?page={page}", headers=young, client=("192.0.2.4", 1))
    await newcomers(app, 0, 10)
    link = listing.split('href="/resume/', 1)[1].split('"', 1)[0]
    clock.advance(10)
    assert (await call_asgi(app, f"/resume/{link}", headers=old_timer)).status == 200
    other = await call_asgi(app, f"/resume/{link}", headers=young, client=("192.0.2.4", 1))
    assert other.status == 429


def test_the_usual_is_learned_by_hour_and_read_with_its_neighbours() -> None:
    """Samples move their hour's usual a little; the expected count is the largest of the
    hour and its neighbours; the state packs and unpacks."""
    state = CampaignState()
    for _ in range(200):
        state.learn(14, 40.0)
    assert state.usual[14] == pytest.approx(40.0, rel=0.01)
    assert state.expected(13) == state.expected(15) == state.usual[14]
    assert state.expected(3) == 0.0
    state.last_exceeded = 123.5
    restored = CampaignState.unpack(state.pack())
    assert restored.usual == pytest.approx(state.usual, rel=1e-6)
    assert (restored.sampled_minute, restored.last_exceeded) == (0, 123.5)


async def test_a_busy_site_learns_its_usual_and_sees_no_campaign(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A site that always has 8 new readers a minute learns it (after a first campaign
    that lasts at most LEARN_DESPITE); from then on 8 a minute is no campaign, and many
    times as many is."""
    app, log = guarded(model="off", campaign_floor=4)
    n = 0
    for _ in range(300):  # five hours, 8 new readers spread over every minute
        await newcomers(app, n, 8, clock, 7.5)
        n += 8
    before = len(log.getvalue().splitlines())
    assert await newcomers(app, n, 8, clock, 7.5) == [200] * 8
    assert len(log.getvalue().splitlines()) == before  # no finding at all
    statuses = await newcomers(app, n + 8, 60, clock, 0.5)
    assert 429 in statuses


async def test_two_workers_on_one_redis_see_one_campaign(
    redis_url: str, clock: ManualClock
) -> None:
    """New readers split between two workers sharing Redis add up to one campaign, which
    both then act on."""
    prefix = f"campaign-{uuid.uuid4().hex[:8]}"
    settings = {
        "secret": SECRET,
        "model": "off",
        "campaign_floor": 6,
        "store": f"{redis_url}?timeout=1",
        "key_prefix": prefix,
    }
    workers = [
        GuardMiddleware(create_demo_app(1000), demo_config(settings), clock=clock) for _ in range(2)
    ]
    statuses = []
    for n in range(16):
        statuses += await newcomers(workers[n % 2], n, 1)
    for worker in workers:
        await worker.guard.aclose()
    assert statuses[:6] == [200] * 6
    assert set(statuses[8:]) == {429}
    assert set(statuses[8::2]) == set(statuses[9::2]) == {429}  # both workers challenge


async def test_a_worker_sees_the_other_workers_readers_within_a_reread(
    redis_url: str, clock: ManualClock
) -> None:
    """Past the small counts, a worker answers from its view: another worker's crowd reaches
    it when it reads again, REREAD seconds after its last read at the latest."""
    settings = {
        "secret": SECRET,
        "model": "off",
        "campaign_floor": 300,
        "store": f"{redis_url}?timeout=1",
        "key_prefix": f"campaign-{uuid.uuid4().hex[:8]}",
    }
    first, second = (
        GuardMiddleware(create_demo_app(1000), demo_config(settings), clock=clock) for _ in range(2)
    )
    assert set(await newcomers(first, 0, 4 * REREAD_SHARE)) == {200}
    assert await newcomers(second, 1000, 1) == [200]  # reads 256 readers; fresh for 4 adds
    assert 429 in await newcomers(first, 2000, 60)  # the crowd passes the floor
    assert await newcomers(second, 3000, 1) == [200]  # not yet seen by the other worker
    clock.advance(REREAD)
    assert await newcomers(second, 4000, 1) == [429]
    for worker in (first, second):
        await worker.guard.aclose()


def count_reads(app: GuardMiddleware) -> list[int]:
    """Make ``app``'s store note each read of the sitewide count; the list grows by one a
    read."""
    reads: list[int] = []
    store = app.guard.store
    execute = store.execute

    async def noting(ops: Sequence[Op], now: float) -> list[Result]:
        reads.extend(1 for op in ops if isinstance(op, DistinctCount) and op.key.endswith(":cr"))
        return await execute(ops, now)

    store.execute = noting  # type: ignore[method-assign]
    return reads


async def test_a_worker_rereads_a_large_count_once_a_second_and_counts_its_own_readers(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Past REREAD_SHARE networks the worker reads the sitewide count again only after
    adding a REREAD_SHARE-th of it or after REREAD seconds, adding its own readers on top
    meanwhile: the campaign still starts at exactly the floor's reader."""
    floor = 4 * REREAD_SHARE + 40
    app, _ = guarded(model="off", campaign_floor=floor)
    reads = count_reads(app)
    assert await newcomers(app, 0, REREAD_SHARE) == [200] * REREAD_SHARE
    assert len(reads) == REREAD_SHARE  # small counts: read again after every add, as before
    reads.clear()
    statuses = await newcomers(app, REREAD_SHARE, floor + 8 - REREAD_SHARE)
    assert statuses[: floor - REREAD_SHARE] == [200] * (floor - REREAD_SHARE)
    assert set(statuses[floor - REREAD_SHARE :]) == {429}
    assert len(reads) < 0.6 * len(statuses)  # 1 read an add up to 128, 1 per 2 to 192, ...
    reads.clear()
    app2, _ = guarded(model="off", campaign_floor=10 * floor)
    reads = count_reads(app2)
    await newcomers(app2, 0, 4 * REREAD_SHARE)
    reads.clear()
    await newcomers(app2, 5000, 3)  # a count of 256: fresh for 4 adds
    assert len(reads) == 1
    await newcomers(app2, 6000, 1, clock, REREAD)
    assert len(reads) == 2


class FailingStore:
    """Wraps a guard's store so that it can be switched off."""

    def __init__(self, app: GuardMiddleware) -> None:
        self.down = False
        execute = app.guard.store.execute

        async def maybe(ops: Sequence[Op], now: float) -> list[Result]:
            if self.down:
                raise StorageError("connection refused")
            return await execute(ops, now)

        app.guard.store.execute = maybe  # type: ignore[method-assign]


async def test_a_campaign_known_to_the_worker_goes_on_while_the_store_is_out(
    guarded: GuardedFactory,
) -> None:
    """Failing open without a fallback store (the engine judges what needs no state), a
    campaign the worker's view says runs still challenges a young reader, with no read of
    the store; and it runs on once the store is back."""
    floor = 2 * REREAD_SHARE + 2
    app, log = guarded(model="off", campaign_floor=floor)
    switch = FailingStore(app)
    reads = count_reads(app)
    assert 429 in await newcomers(app, 0, floor + 4)
    before = len(reads)
    assert await newcomers(app, 1000, 1) == [429]
    assert len(reads) == before + 1  # read afresh; the next reader is judged from the view
    switch.down = True
    assert await newcomers(app, 2000, 1) == [429]
    assert len(reads) == before + 1
    assert "campaign" in reasons(log)[-1]
    switch.down = False
    assert await newcomers(app, 3000, 1) == [429]


async def test_a_campaign_running_when_redis_goes_out_goes_on_with_the_fallback(
    private_redis: RedisServer, clock: ManualClock
) -> None:
    """With Redis killed mid-campaign and the per-process fallback answering, new readers
    are still challenged (a campaign gets no gap to harvest through) until the hold ends;
    after it the outage's crowd starts no campaign of its own."""
    # A killed server refuses at once: the long timeout only keeps a stalled machine from
    # failing calls before the kill.
    store = ResilientStore(
        RedisStore.from_url(f"{private_redis.url}?timeout=5"),
        MemoryStore(),
        CircuitBreaker(threshold=1, cooldown=3600.0),
    )
    stream = io.StringIO()
    config = demo_config({"secret": SECRET, "model": "off", "campaign_floor": 5})
    app = GuardMiddleware(
        create_demo_app(1000),
        config,
        store=store,
        clock=clock,
        decision_log=DecisionLog(stream, allow_sample=0.0),
    )
    try:
        assert set((await newcomers(app, 0, 10))[6:]) == {429}
        private_redis.kill()
        assert await newcomers(app, 1000, 4) == [429] * 4
        assert store.degraded
        assert all("campaign" in r for r in reasons(stream)[-4:])
        clock.advance(HOLD / 2)  # the worker's view long stale: the stand-in answers its reads
        assert await newcomers(app, 1500, 4) == [429] * 4
        clock.advance(HOLD / 2 + 1)
        assert await newcomers(app, 2000, 12) == [200] * 12
    finally:
        await app.guard.aclose()
