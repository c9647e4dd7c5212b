"""The timeout scope that lets a reply in by its deadline through a busy loop, on asyncio's
loop and on uvloop (which ``uvicorn[standard]`` serves on)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import pytest
import uvloop

from guard.store.deadline import Deadline

T = TypeVar("T")
SLACK = 0.5
"""Seconds to the deadline: the loop must not reach it before the test blocks the loop, even
on a machine that stalls for a moment."""
Scope = Callable[[float], AbstractAsyncContextManager[object]]
LOOPS: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {
    "asyncio": asyncio.run,
    "uvloop": uvloop.run,
}


def run_on(loop: str, body: Callable[[], Awaitable[T]]) -> T:
    """``body`` run to the end on a new event loop of kind ``loop``."""

    async def main() -> T:
        return await body()

    result: T = LOOPS[loop](main())
    return result


async def read_late(scope: Scope) -> bytes:
    """Wait for 4 bytes under ``scope`` while the loop is busy (blocked) until the bytes are
    in and the deadline has passed: the turn that reads them is the turn that finds the
    deadline due."""
    mine, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=mine)
    loop = asyncio.get_running_loop()
    due = loop.time() + SLACK

    async def read() -> bytes:
        async with scope(due):
            return await reader.readexactly(4)

    try:
        task = asyncio.ensure_future(read())
        for _ in range(3):
            await asyncio.sleep(0)  # the task waits in its scope
        theirs.sendall(b"late")
        time.sleep(max(0.0, due - loop.time()) + 0.02)  # noqa: ASYNC251 - a busy loop, on purpose
        return await task
    finally:
        writer.close()
        theirs.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_a_reply_in_by_the_turn_the_deadline_is_reached_gets_through(loop: str) -> None:
    assert run_on(loop, lambda: read_late(Deadline)) == b"late"


def test_asyncio_timeout_loses_that_reply() -> None:
    """The race the scope exists for, reproduced by the same scenario with asyncio's own."""
    with pytest.raises(TimeoutError):
        run_on("asyncio", lambda: read_late(asyncio.timeout_at))


@pytest.mark.parametrize("loop", LOOPS)
def test_a_block_still_waiting_past_its_deadline_times_out(loop: str) -> None:
    async def body() -> tuple[int, float]:
        task = asyncio.current_task()
        assert task is not None
        began = time.monotonic()
        with pytest.raises(TimeoutError):
            async with Deadline(asyncio.get_running_loop().time() + 0.02):
                await asyncio.sleep(10)
        return task.cancelling(), time.monotonic() - began

    cancelling, took = run_on(loop, body)
    assert cancelling == 0  # its own cancellation is taken back
    assert took < 5


@pytest.mark.parametrize("loop", LOOPS)
def test_a_block_done_in_time_is_left_alone_afterwards(loop: str) -> None:
    async def body() -> str:
        async with Deadline(asyncio.get_running_loop().time() + 0.02):
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)  # past the deadline: nothing cancels the task now
        return "done"

    assert run_on(loop, body) == "done"


def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    async def body() -> None:
        async def wait() -> None:
            async with Deadline(asyncio.get_running_loop().time() + 10):
                await asyncio.sleep(10)

        task = asyncio.ensure_future(wait())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_on("asyncio", body)
