"""Work done beside requests, at most every so often: a task started next to a request and
not awaited by it, rather than a timer of its own. An idle worker has nothing to do it for,
and no task outlives the event loop that serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger("guard")


class Beside:
    """Runs ``job(now)`` beside a request at most every ``every`` seconds (wall time), one
    at a time; a failure is logged at debug level and tried again next time.

    Args:
        every: seconds between runs, at least.
        job: the work, given the guard's time.
        what: what the job does, for the log.
    """

    def __init__(self, every: float, job: Callable[[float], Awaitable[object]], what: str) -> None:
        self.every = every
        self.job = job
        self.what = what
        self._last = -every
        self._task: asyncio.Task[None] | None = None

    def soon(self, now: float) -> None:
        """Start the job beside the current request if it is due and none is under way."""
        wall = time.monotonic()
        if self._task is not None or wall - self._last < self.every:
            return
        self._last = wall
        self._task = asyncio.get_running_loop().create_task(self._run(now))

    async def _run(self, now: float) -> None:
        try:
            await self.job(now)
        except Exception as exc:  # the store is down, say: the next request tries again
            logger.debug("guard: could not %s: %s", self.what, exc)
        finally:
            self._task = None

    async def stop(self) -> None:
        """Cancel a run under way (awaited when it belongs to this event loop)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            if task.get_loop() is asyncio.get_running_loop():
                with contextlib.suppress(asyncio.CancelledError):
                    await task
