"""The lean pipelined Redis connection: packing, both reply parsers, and a real server."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import time
from collections.abc import Iterator

import hiredis
import pytest
import uvloop
from redis import exceptions as redis_errors

from guard.store import resp
from guard.store.resp import PythonReader, ReplyError, RespConnection, pack_command
from guard.testing.redis import RedisServer

REPLIES = (
    b"+OK\r\n"
    b"-ERR wrong\r\n"
    b":-42\r\n"
    b"$5\r\nhello\r\n"
    b"$0\r\n\r\n"
    b"$-1\r\n"
    b"*-1\r\n"
    b"*0\r\n"
    b"*3\r\n:1\r\n*2\r\n$2\r\nab\r\n-NOSCRIPT none\r\n$-1\r\n"
    b"$4\r\n\r\n\x00\xff\r\n"
)


def test_pack_command_frames_every_argument_type() -> None:
    """Strings (UTF-8), ints, floats (repr) and bytes become one RESP array of bulk strings."""
    packed = pack_command(("SET", "ключ", 7, 0.25, b"\x00\r\n"))
    assert packed == (
        b"*5\r\n$3\r\nSET\r\n$8\r\n\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\r\n$1\r\n7\r\n"
        b"$4\r\n0.25\r\n$3\r\n\x00\r\n\r\n"
    )


def _all(reader: PythonReader | hiredis.Reader) -> list[object]:
    replies = []
    while (reply := reader.gets()) is not False:
        replies.append(reply)
    return replies


def _plain(reply: object) -> object:
    """Error objects of either parser as ('error', message), for comparison."""
    if isinstance(reply, ReplyError | hiredis.ReplyError):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [_plain(item) for item in reply]
    return reply


def test_python_reader_parses_what_hiredis_parses() -> None:
    """Every reply type, nested arrays and binary bulk strings parse alike in both parsers."""
    ours, theirs = PythonReader(), hiredis.Reader()
    ours.feed(REPLIES)
    theirs.feed(REPLIES)
    expected = [_plain(reply) for reply in _all(theirs)]
    assert [_plain(reply) for reply in _all(ours)] == expected
    assert expected[8] == [1, [b"ab", ("error", "NOSCRIPT none")], None]
    assert expected[9] == b"\r\n\x00\xff"


def test_python_reader_waits_for_incomplete_replies() -> None:
    """Fed a byte at a time, the parser returns nothing until a reply is whole."""
    reader = PythonReader()
    replies = []
    for byte in REPLIES:
        reader.feed(bytes([byte]))
        replies.extend(_all(reader))
    whole = PythonReader()
    whole.feed(REPLIES)
    assert [_plain(r) for r in replies] == [_plain(r) for r in _all(whole)]


def test_python_reader_rejects_an_unknown_reply_type() -> None:
    """A byte stream that is not RESP raises instead of guessing."""
    reader = PythonReader()
    reader.feed(b"?what\r\n")
    with pytest.raises(redis_errors.InvalidResponse):
        reader.gets()


@pytest.fixture
def user_redis() -> Iterator[RedisServer]:
    """A private server with a password-protected user besides the open default one."""
    with RedisServer(extra_args=("--user", "guard", "on", ">s3cret", "~*", "+@all")) as server:
        yield server


pytestmark = pytest.mark.anyio


async def test_concurrent_calls_each_get_their_own_reply(redis_server: RedisServer) -> None:
    """Two hundred calls in flight at once on one connection come back in order."""
    connection = RespConnection("127.0.0.1", redis_server.port)
    try:
        replies = await asyncio.gather(
            *(connection.call("ECHO", f"message-{n}") for n in range(200))
        )
        assert replies == [f"message-{n}".encode() for n in range(200)]
    finally:
        await connection.aclose()


async def test_error_replies_raise_redis_py_errors(redis_server: RedisServer) -> None:
    """An error reply raises ResponseError; an unknown script raises NoScriptError."""
    connection = RespConnection("127.0.0.1", redis_server.port)
    try:
        with pytest.raises(redis_errors.NoScriptError):
            await connection.evalsha("0" * 40, 0)
        with pytest.raises(redis_errors.ResponseError, match="unknown command"):
            await connection.call("NO-SUCH-COMMAND")
        assert await connection.call("PING") == b"PONG"  # the connection is still in order
    finally:
        await connection.aclose()


async def test_logs_in_and_selects_its_database(user_redis: RedisServer) -> None:
    """AUTH with a user and password, then SELECT: keys land in that database only."""
    connection = RespConnection(
        "127.0.0.1", user_redis.port, db=3, username="guard", password="s3cret"
    )
    try:
        assert await connection.call("SET", "where", "three") == b"OK"
    finally:
        await connection.aclose()
    assert user_redis.command("-n", "3", "GET", "where") == "three"
    assert user_redis.command("-n", "0", "EXISTS", "where") == "0"


async def test_wrong_password_fails_clearly(user_redis: RedisServer) -> None:
    """A login the server refuses surfaces as an error, not a hang."""
    connection = RespConnection("127.0.0.1", user_redis.port, username="guard", password="no")
    try:
        with pytest.raises(redis_errors.ResponseError, match="WRONGPASS"):
            await connection.call("PING")
    finally:
        await connection.aclose()


async def test_refused_connection_raises_connection_error(private_redis: RedisServer) -> None:
    """Nothing listening: the call fails at once with a ConnectionError."""
    private_redis.kill()
    connection = RespConnection("127.0.0.1", private_redis.port, connect_timeout=0.5)
    with pytest.raises(redis_errors.ConnectionError):
        await connection.call("PING")


async def test_a_lost_connection_fails_its_calls_and_the_next_call_reconnects(
    private_redis: RedisServer,
) -> None:
    """Calls waiting when the server dies fail; after a restart the next call succeeds."""
    connection = RespConnection("127.0.0.1", private_redis.port, connect_timeout=1.0)
    try:
        assert await connection.call("PING") == b"PONG"
        waiting = asyncio.ensure_future(connection.call("BLPOP", "never", "5"))
        await asyncio.sleep(0.05)
        private_redis.kill()
        with pytest.raises(redis_errors.ConnectionError):
            await waiting
        private_redis.restart()
        assert await connection.call("PING") == b"PONG"
    finally:
        await connection.aclose()


async def test_a_caller_that_gives_up_does_not_shift_the_replies(redis_server: RedisServer) -> None:
    """A call abandoned by its timeout keeps its place: later calls get their own replies."""
    connection = RespConnection("127.0.0.1", redis_server.port)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await connection.call("BLPOP", "resp-test-never", "0.3")
        assert await connection.call("ECHO", "after") == b"after"
    finally:
        await connection.aclose()


async def test_the_connection_works_with_the_python_parser(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without hiredis the same connection parses replies itself: values, errors, order."""
    monkeypatch.setattr(resp, "_reader", lambda native=True: PythonReader())
    connection = RespConnection("127.0.0.1", redis_server.port)
    try:
        echoes = await asyncio.gather(*(connection.call("ECHO", f"py-{n}") for n in range(50)))
        assert echoes == [f"py-{n}".encode() for n in range(50)]
        with pytest.raises(redis_errors.NoScriptError):
            await connection.evalsha("0" * 40, 0)
        assert await connection.call("EVAL", "return {1, 'two', {3}}", 0) == [1, b"two", [3]]
    finally:
        await connection.aclose()


async def test_calls_past_their_deadline_fail_and_the_rest_keep_their_replies(
    redis_server: RedisServer,
) -> None:
    """A deadline fails its call with a TimeoutError while the server has not answered; the
    calls behind it, with later deadlines or none, still get their own replies."""
    connection = RespConnection("127.0.0.1", redis_server.port)
    loop = asyncio.get_running_loop()
    try:
        # BLPOP holds the connection's later commands for its whole two seconds.
        blocked = asyncio.ensure_future(
            connection.call("BLPOP", "resp-test-never", "2", deadline=loop.time() + 0.05)
        )
        patient = asyncio.ensure_future(
            connection.call("ECHO", "patient", deadline=loop.time() + 30)
        )
        hasty = asyncio.ensure_future(connection.call("ECHO", "hasty", deadline=loop.time() + 0.1))
        unhurried = asyncio.ensure_future(connection.call("ECHO", "unhurried"))
        with pytest.raises(TimeoutError):
            await blocked
        with pytest.raises(TimeoutError):
            await hasty
        assert not patient.done()  # the second is not up, and Redis has not answered
        assert await patient == b"patient"
        assert await unhurried == b"unhurried"
        assert await connection.call("ECHO", "after", deadline=loop.time() + 30) == b"after"
    finally:
        await connection.aclose()


async def test_a_deadline_bounds_connecting_too() -> None:
    """A call whose connection must first be opened fails by its deadline if the opening
    takes longer (a server that accepts and never answers the login)."""
    accepted: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(
        lambda reader, writer: accepted.append(writer), "127.0.0.1", 0
    )
    port = silent.sockets[0].getsockname()[1]
    connection = RespConnection("127.0.0.1", port, password="secret", connect_timeout=30)
    loop = asyncio.get_running_loop()
    try:
        with pytest.raises(TimeoutError):
            await connection.call("PING", deadline=loop.time() + 0.1)
    finally:
        await connection.aclose()
        for writer in accepted:
            writer.close()
        silent.close()
        await silent.wait_closed()


async def reply_read_late(server: RedisServer) -> object:
    """A call's reply, when a busy event loop reaches the call's deadline only after the
    reply came in (``server`` is stopped while the call goes out, so that it cannot answer
    before the loop is busy, however slow the machine is)."""
    assert server.pid is not None
    connection = RespConnection("127.0.0.1", server.port)
    loop = asyncio.get_running_loop()
    try:
        await connection.call("PING")  # connected
        os.kill(server.pid, signal.SIGSTOP)
        # Far enough off that the loop cannot reach it before it is blocked, stalls or not.
        due = loop.time() + 0.5
        call = asyncio.ensure_future(connection.call("ECHO", "late", deadline=due))
        for _ in range(3):
            await asyncio.sleep(0)  # the command goes out
        assert not call.done()
        # From here the loop is busy (blocked) until the reply is in and the deadline passed.
        os.kill(server.pid, signal.SIGCONT)
        protocol = connection._protocol
        assert protocol is not None
        assert protocol.transport is not None
        sock = protocol.transport.get_extra_info("socket")
        assert select.select([sock], [], [], 10)[0]
        time.sleep(max(0.0, due - loop.time()) + 0.01)  # noqa: ASYNC251 - a busy loop, on purpose
        return await call
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await connection.aclose()


async def test_a_reply_in_by_the_turn_its_deadline_passes_is_not_failed(
    private_redis: RedisServer,
) -> None:
    """A busy event loop that reaches a call's deadline only after its reply came in gives
    the call its reply (a timeout scope would cancel the waiting task in that turn, before
    it could take the reply: under load, calls Redis had answered failed)."""
    assert await reply_read_late(private_redis) == b"late"


def test_a_reply_in_by_the_turn_its_deadline_passes_is_not_failed_on_uvloop(
    private_redis: RedisServer,
) -> None:
    """uvloop (which uvicorn[standard] serves on) orders a turn's timers and reads its own
    way: the reply still gets through."""
    assert uvloop.run(reply_read_late(private_redis)) == b"late"
