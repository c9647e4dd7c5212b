"""A timeout scope that lets a reply through when it came in by the time its deadline did.

``asyncio.timeout`` cancels the waiting task in the loop turn its deadline is reached. On a
busy loop that turn is often the one that reads the reply too: the reply is in, its reader
has woken the task, and the cancellation still wins, so a call Redis answered in time fails
as a timeout (three such failures in a row open the store's circuit). :class:`Deadline`
waits :data:`GRACE_TURNS` more loop turns past its deadline before it cancels: a task woken
by a reply read by then finishes first, and its scope is gone before the cancellation comes.
A call still waiting then is cancelled and the scope raises ``TimeoutError``, as
``asyncio.timeout_at`` does.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

GRACE_TURNS = 2
"""Loop turns past the deadline before cancelling. A reader's task woken by a reply runs in
the turn after the reply is read; one turn was enough on asyncio's loop and on uvloop
(``tests/store/test_deadline.py`` fails with none), and the second is a margin for a loop
that orders a turn's timers and reads otherwise."""


class Deadline:
    """``async with Deadline(when):`` bounds the block by the loop's clock ``when``.

    Unlike ``asyncio.timeout_at``, the block is cancelled only :data:`GRACE_TURNS` loop turns
    after ``when``, so a reply that came in by then is not lost to a busy loop. Not
    reusable; for one task's block at a time.
    """

    __slots__ = ("_cancelling", "_expired", "_handle", "_task", "_when")

    def __init__(self, when: float) -> None:
        self._when = when
        self._task: asyncio.Task[object] | None = None
        self._handle: asyncio.Handle | None = None
        self._cancelling = 0
        self._expired = False

    async def __aenter__(self) -> Self:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadline must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._handle = asyncio.get_running_loop().call_at(self._when, self._wait, GRACE_TURNS)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self._expired:
            return
        assert self._task is not None
        # Our cancellation, not one from outside, is what ended the block: as timeout_at.
        ours = self._task.uncancel() <= self._cancelling
        if ours and exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            raise TimeoutError("deadline passed") from exc

    def _wait(self, turns: int) -> None:
        """Cancel the block ``turns`` loop turns from now, unless it has ended by then."""
        if turns:
            self._handle = asyncio.get_running_loop().call_soon(self._wait, turns - 1)
            return
        self._handle = None
        self._expired = True
        assert self._task is not None
        self._task.cancel()
