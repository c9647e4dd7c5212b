"""A lean Redis connection for the guard's hot path: pipelined RESP2 over one socket.

Every request the guard judges makes one script call. Through redis-py's asyncio client
a request on Redis cost about 200 µs more Python than on the memory store (argument
packing, the connection pool, the pure-Python reply parser), and about 60 µs through this
one (``benchmarks/hot_path.py``, 2026-12-01). This connection does only what that path
needs: it packs a command into one bytes object, writes the commands issued in one turn of
the event loop with one system call, and hands replies, in order, to the callers waiting
for them. Replies are parsed by hiredis when it is installed,
otherwise by the small parser below.

Redis answers a connection's commands in order, so one connection carries any number of
concurrent calls. A call whose caller gave up (a timeout) keeps its place in the queue,
and its reply is dropped when it comes. Failures raise redis-py's exception types, so the
store handles them like redis-py's own.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

from redis import exceptions as redis_errors

try:
    import hiredis

    _HIREDIS_ERROR: type[Exception] | None = hiredis.ReplyError
except ImportError:  # pragma: no cover - exercised where hiredis is not installed
    _HIREDIS_ERROR = None

Arg = bytes | str | int | float

_CRLF = b"\r\n"


def pack_command(args: Sequence[Arg]) -> bytes:
    """One command in RESP's request form: an array of bulk strings.

    Text is framed a run at a time with one join and one encode (a script call has a
    hundred short arguments, and framing them one by one was most of its cost); a run
    that is not all ASCII, whose lengths in characters are not its lengths in bytes, is
    framed argument by argument instead.
    """
    out = [b"*%d\r\n" % len(args)]
    texts: list[str] = []
    for arg in args:
        kind = type(arg)
        if kind is str:
            texts.append(arg)  # type: ignore[arg-type]
        elif kind is int or kind is bool:
            texts.append(str(int(arg)))
        else:
            if texts:
                out.append(_frame_texts(texts))
                texts = []
            data = arg if isinstance(arg, bytes) else repr(arg).encode()
            out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    if texts:
        out.append(_frame_texts(texts))
    return b"".join(out)


def _frame_texts(texts: list[str]) -> bytes:
    framed = "".join([f"${len(text)}\r\n{text}\r\n" for text in texts])
    if framed.isascii():
        return framed.encode()
    return b"".join(b"$%d\r\n%b\r\n" % (len(d), d) for d in (t.encode() for t in texts))


class ReplyError(Exception):
    """An error reply (``-ERR ...``) inside an array, as the fallback parser returns it."""


class PythonReader:
    """RESP2 reply parsing with hiredis.Reader's interface: ``feed(bytes)``, then ``gets()``
    until it returns False. Error replies come back as exception instances; status replies
    (``+OK``) as bytes, or as text with ``status_text``."""

    def __init__(self, status_text: bool = False) -> None:
        self._buffer = bytearray()
        self._pos = 0
        self._status_text = status_text

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def gets(self) -> Any:
        try:
            reply, pos = self._parse(self._pos)
        except IndexError:
            return False  # incomplete: wait for more bytes
        self._pos = pos
        if pos > 65536:
            del self._buffer[:pos]
            self._pos = 0
        return reply

    def _line(self, pos: int) -> tuple[bytes, int]:
        end = self._buffer.find(_CRLF, pos)
        if end < 0:
            raise IndexError
        return bytes(self._buffer[pos:end]), end + 2

    def _parse(self, pos: int) -> tuple[Any, int]:
        line, pos = self._line(pos)
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return (rest.decode("utf-8", "replace") if self._status_text else rest), pos
        if kind == b"-":
            return ReplyError(rest.decode("utf-8", "replace")), pos
        if kind == b":":
            return int(rest), pos
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None, pos
            if len(self._buffer) < pos + size + 2:
                raise IndexError
            return bytes(self._buffer[pos : pos + size]), pos + size + 2
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None, pos
            items = []
            for _ in range(count):
                item, pos = self._parse(pos)
                items.append(item)
            return items, pos
        raise redis_errors.InvalidResponse(f"unexpected reply type {line[:20]!r}")


def _reader(native: bool = True) -> Any:
    """hiredis's C parser when installed (and ``native``), else :class:`PythonReader`."""
    return hiredis.Reader() if native and _HIREDIS_ERROR is not None else PythonReader()


_ERROR_REPLIES: tuple[type[Exception], ...] = (
    (ReplyError, _HIREDIS_ERROR) if _HIREDIS_ERROR is not None else (ReplyError,)
)


def _error(message: str) -> redis_errors.ResponseError:
    if message.startswith("NOSCRIPT"):
        return redis_errors.NoScriptError(message)
    return redis_errors.ResponseError(message)


class _Protocol(asyncio.Protocol):
    """The socket's side: writes coalesced per loop turn, replies matched to waiters, calls
    past their deadline failed by one timer for them all."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.reader = _reader()
        self.closed: Exception | None = None
        self._out: list[bytes] = []
        self._deadlines: list[tuple[float, asyncio.Future[Any]]] = []
        self._watch: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports (uvicorn[standard] runs on uvloop)
        # have every method of asyncio.Transport but do not derive from it.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes, deadline: float | None = None) -> asyncio.Future[Any]:
        """The future of ``command``'s reply; past ``deadline`` (the loop's clock) it fails
        with a TimeoutError, and the reply is dropped when it comes."""
        if self.closed is not None or self.transport is None:
            raise redis_errors.ConnectionError(f"redis connection closed: {self.closed}")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append(future)
        if not self._out:
            loop.call_soon(self._flush)
        self._out.append(command)
        if deadline is not None:
            # One timer watches every call's deadline (a timer a call, set and cancelled,
            # cost more than the rest of the call's Python); it fires when the earliest is
            # due, at most once a timeout while calls come in.
            self._deadlines.append((deadline, future))
            if self._watch is None:
                self._watch = loop.call_at(deadline, self._expire)
        return future

    def _expire(self) -> None:
        """Fail the calls past their deadline; watch for the earliest of the rest."""
        self._watch = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        pending = [(due, future) for due, future in self._deadlines if not future.done()]
        self._deadlines = []
        for due, future in pending:
            if due <= now:
                future.set_exception(TimeoutError("redis did not answer in time"))
            else:
                self._deadlines.append((due, future))
        if self._deadlines:
            soonest = min(due for due, _ in self._deadlines)
            self._watch = loop.call_at(soonest, self._expire)

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and self.transport is not None and self.closed is None:
            self.transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            try:
                reply = self.reader.gets()
            except Exception as exc:  # a protocol error: nothing after it can be trusted
                self._fail(redis_errors.InvalidResponse(str(exc)))
                if self.transport is not None:
                    self.transport.abort()
                return
            if reply is False:
                return
            if not self.waiting:
                continue  # a reply nobody asked for (cannot happen with a sane server)
            future = self.waiting.popleft()
            if future.done():
                continue  # its caller gave up
            if isinstance(reply, _ERROR_REPLIES):
                future.set_exception(_error(str(reply)))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(redis_errors.ConnectionError(f"redis connection lost: {exc or 'closed'}"))

    def _fail(self, error: Exception) -> None:
        self.closed = error
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self._deadlines = []
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class RespConnection:
    """One pipelined connection to a Redis server, opened on first use and after a loss.

    Args:
        host, port: the server.
        db: the database to SELECT.
        username, password: for AUTH, when set.
        tls: an SSL context for ``rediss://``, or None.
        connect_timeout: seconds opening the connection (and logging in) may take.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        connect_timeout: float = 0.25,
    ) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.tls = tls
        self.connect_timeout = connect_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def call(self, *args: Arg, deadline: float | None = None) -> Any:
        """Send one command and return its reply (see :meth:`send`)."""
        return await self.send(pack_command(args), deadline)

    async def send(self, command: bytes, deadline: float | None = None) -> Any:
        """Send one command already framed in RESP (:func:`pack_command`) and return its
        reply, by ``deadline`` (the event loop's clock) when one is given.

        Raises:
            redis.exceptions.ResponseError: the server answered with an error
                (``NoScriptError`` for an unknown script).
            redis.exceptions.ConnectionError: the connection could not be had or was lost.
            TimeoutError: past the deadline (connecting included).
        """
        protocol = self._protocol
        if protocol is None or protocol.closed is not None:
            if deadline is None:
                protocol = await self._connect()
            else:
                async with asyncio.timeout_at(deadline):
                    protocol = await self._connect()
        return await protocol.send(command, deadline)

    async def evalsha(self, sha: str, numkeys: int, *args: Arg) -> Any:
        """``EVALSHA sha numkeys key... arg...``."""
        return await self.call("EVALSHA", sha, numkeys, *args)

    async def script_load(self, script: str, deadline: float | None = None) -> Any:
        """``SCRIPT LOAD script``."""
        return await self.call("SCRIPT", "LOAD", script, deadline=deadline)

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and self._protocol.closed is None:
                return self._protocol  # another caller connected while this one waited
            loop = asyncio.get_running_loop()
            protocol = None
            try:
                async with asyncio.timeout(self.connect_timeout):
                    _, protocol = await loop.create_connection(
                        _Protocol, self.host, self.port, ssl=self.tls
                    )
                    await self._log_in(protocol)
            except BaseException as exc:
                if protocol is not None and protocol.transport is not None:
                    protocol.transport.close()  # half-opened: never leave it dangling
                if isinstance(exc, OSError | TimeoutError):
                    raise redis_errors.ConnectionError(
                        f"cannot connect to redis at {self.host}:{self.port}: {exc}"
                    ) from exc
                raise
            self._protocol = protocol
            return protocol

    async def _log_in(self, protocol: _Protocol) -> None:
        # (asyncio sets TCP_NODELAY on TCP transports itself.)
        if self.password is not None:
            credentials = (self.username, self.password) if self.username else (self.password,)
            await protocol.send(pack_command(("AUTH", *credentials)))
        if self.db:
            await protocol.send(pack_command(("SELECT", self.db)))

    async def aclose(self) -> None:
        """Close the socket; calls still waiting fail with a ConnectionError."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()
            protocol.connection_lost(None)
