"""Shared fixtures: the async backend, a manual clock, and the demo app behind the guard."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import pytest

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.observe.decision_log import DecisionLog
from guard.signals.exposure import Exposure
from guard.testing import ManualClock

pytest_plugins = ["tests.redis_fixtures"]

SECRET = "test-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


GuardedFactory = Callable[..., tuple[GuardMiddleware, io.StringIO]]


@pytest.fixture
def guarded(clock: ManualClock) -> GuardedFactory:
    """Build the demo app (1,000 resumes) behind a guard; returns it and its decision log."""

    def build(resumes: int = 1000, **settings: object) -> tuple[GuardMiddleware, io.StringIO]:
        config = demo_config({"secret": SECRET, **settings})
        stream = io.StringIO()
        log = DecisionLog(stream, allow_sample=0.0)
        app = GuardMiddleware(create_demo_app(resumes), config, clock=clock, decision_log=log)
        return app, stream

    return build


async def expose(app: GuardMiddleware, records: Iterable[int | str]) -> None:
    """Mark ``records`` as shown to someone lately (as a listing served to another client
    would), so that a test about something else can read them as a young client."""
    guard = app.guard
    now = guard.clock()
    await guard.store.execute(Exposure(guard.config.key_prefix).mark(map(str, records), now), now)
