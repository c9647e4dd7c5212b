"""The Redis store on uvloop, the event loop ``uvicorn[standard]`` serves on in production."""

from __future__ import annotations

import uuid

import uvloop

from guard.signals.strikes import Strike
from guard.store.base import (
    DistinctAdd,
    DistinctCount,
    RateHit,
    RateState,
    Result,
    ValueGet,
    ValuePut,
)
from guard.store.redis import RedisStore

T0 = 1_800_000_000.0


def test_the_redis_store_answers_on_uvloop(redis_url: str) -> None:
    """uvloop's transports do not derive from asyncio's: the pipelined connection must still
    open, and a whole batch come back as on asyncio's loop."""
    key = f"guard:{{ip:uvloop-{uuid.uuid4().hex}}}"

    async def batch() -> list[Result]:
        store = RedisStore.from_url(f"{redis_url}?timeout=1")
        try:
            await store.execute([DistinctAdd(f"{key}:b", "r1", 3600.0)], T0)
            return await store.execute(
                [
                    RateHit(f"{key}:r", 10, 60.0),
                    DistinctCount(f"{key}:b", 3600.0, reserve=True),
                    ValuePut(f"{key}:s", Strike(T0), 60.0),
                    ValueGet(f"{key}:s", Strike),
                ],
                T0,
            )
        finally:
            await store.close()

    rate, count, _, strike = uvloop.run(batch())
    assert isinstance(rate, RateState)
    assert (rate.allowed, rate.remaining) == (True, 9)
    assert count == 1
    assert isinstance(strike, Strike)
    assert strike.at == T0
