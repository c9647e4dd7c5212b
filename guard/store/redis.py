"""The Redis store: state shared by every worker and host, one round trip a request.

A request's operations are encoded into one ``EVALSHA`` of ``lua/batch.lua`` (loaded once,
reloaded after ``NOSCRIPT``). On Redis Cluster the operations are grouped by the node that
holds their hash slot (all keys of one actor share a hash tag; a script reaches every slot
of its node) and each node's script call is sent at once, so the calls to the nodes run in
parallel. Timeouts are milliseconds, redis-py's own retries are
off, and every failure becomes one :class:`~guard.errors.StorageError`, so the failure
policy above decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import re
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import takewhile
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import msgpack
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot

from guard import native
from guard.errors import ConfigError, StorageError
from guard.store.base import (
    DISTINCT_BUCKETS,
    DistinctAdd,
    DistinctCount,
    Op,
    RateHit,
    RateState,
    Result,
    Store,
    ValueGet,
    ValuePut,
    bucket_of,
)
from guard.store.deadline import Deadline
from guard.store.resp import RespConnection, pack_command

SCRIPT = resources.files("guard.store").joinpath("lua/batch.lua").read_text(encoding="utf-8")
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA1
DEFAULT_TIMEOUT = 0.05
DEFAULT_CONNECT_TIMEOUT = 0.25
"""Connections are opened rarely (pooled), so they may take longer than one call."""
HOLD_WRITES = 0.0
"""Seconds writes may be held for a later call (see :meth:`RedisStore.write_later`).

0 means until the event loop's next turn: under load every write finishing in one turn
shares one call, while a lone client's writes land before its next request can arrive at
another worker (a longer hold measured faster still, but let a scraper alternating between
workers read stale profiles)."""
BUSY_HOLD = 0.001
"""With the default hold, how long writes wait while another request's call is out: the
worker is busy, so the next call comes soon and can carry them (a lone client's writes,
made when no call is out, still go on the next turn)."""
MAX_HELD = 512
ADMIN_TIMEOUT = 30.0
"""Seconds an erasure (it scans) or a read of the server's statistics may take: neither is
ever on the request path."""
FORGET_MAX_KEYS = 1_000_000
"""Keys asked of one cluster slot at once: every actor sharing it (about 60 a slot at a
million actors) fits many times over."""
AHEAD_SECONDS = 2.0
"""How long a worker answers a budget's checks from places it took ahead (see
:class:`RedisStore`); any left then go back."""
CHECKS_BEFORE_AHEAD = 2
"""Checks of a budget in quick succession before the next may take places ahead, and how
many the pace so far must promise within :data:`AHEAD_SECONDS` (see ``_Lately.brisk``).
Most actors read a record now and then: places taken ahead for them would go back unused,
a write each time."""
STEP_BLOCK = 8
"""Rate-limit steps a brisk worker asks for at once (the script grants them only while at
least 32 would be left after them, so far below the limit)."""
monotonic = time.monotonic
"""The clock of places held ahead and of runs of checks (tests replace it)."""
_GLOB_SPECIAL = re.compile(r"[*?\[\]\\]")
logger = logging.getLogger("guard")


@dataclass(slots=True)
class PlacesBack:
    """Give back ``places`` in-flight places on the budget at ``key``: places a worker took
    ahead for checks that never came (the store's own operation, not a caller's)."""

    key: str
    places: int


@dataclass(slots=True)
class StepsBack:
    """Give back ``steps`` of the rate limit at ``key`` (``limit`` per ``period`` s): steps a
    worker took ahead for hits that never came (the store's own operation)."""

    key: str
    limit: int
    period: float
    steps: int


@dataclass(slots=True)
class _Steps:
    """Steps of one rate limit this worker took ahead for its next hits of it."""

    limit: int
    period: float
    tat: float
    """The limit's theoretical arrival time after the hits answered so far, as one step a
    hit would have left it (the caller's clock; later than that once pools merged)."""
    left: int
    until: float
    """:func:`monotonic` after which the rest go back."""

    def same(self, op: RateHit) -> bool:
        """Whether ``op`` is a hit of the limit these steps were taken of."""
        return self.limit == op.limit and self.period == op.period

    def hit(self, now: float) -> RateState:
        """The next hit, answered as the script answers one step (see lua/batch.lua)."""
        interval = self.period / self.limit
        self.tat = max(self.tat, now) + interval
        self.left -= 1
        remaining = math.floor((self.period - (self.tat - now)) / interval + 1e-9)
        return RateState(True, max(remaining, 0), self.tat - now, 0.0)


@dataclass(slots=True)
class _Ahead:
    """Places on one budget this worker took ahead for its next checks of it."""

    count: int
    """The answer to the next check: the count when they were taken plus those used since."""
    left: int
    until: float
    """:func:`monotonic` after which the rest go back."""


@dataclass(slots=True)
class _Lately:
    """A run of this worker's checks of one budget, each within AHEAD_SECONDS of the last."""

    checks: int
    since: float
    """:func:`monotonic` of the run's first check."""
    until: float
    """:func:`monotonic` after which the next check starts a new run."""

    def brisk(self, clock: float) -> bool:
        """Whether the run's pace would use places taken ahead: at least
        :data:`CHECKS_BEFORE_AHEAD` checks before this one, and as many again expected
        within :data:`AHEAD_SECONDS` at the pace so far."""
        before = self.checks - 1
        return before >= CHECKS_BEFORE_AHEAD and (
            before * AHEAD_SECONDS >= CHECKS_BEFORE_AHEAD * (clock - self.since)
        )


Item = tuple[Op | PlacesBack | StepsBack, float | None]
"""An operation of a script call and the moment it was made (None: the call's own)."""


class _Encoder:
    """Turns ops into the script's KEYS and its one MessagePack argument (one encoder per
    script call).

    KEYS hold each distinct key start up to and including its hash tag
    (``guard:{ip:1.2.3.4}``) once, and an op names its key as an index into them and the
    rest of the key, so a request's dozen keys cost a few arguments. ``now`` is the clock
    the script's rate limits use; each op may carry its own moment for the bucket and TTL it
    names (a deferred write keeps the moment it was made).
    """

    def __init__(self, now: float) -> None:
        self.keys: list[str] = []
        self.ops: list[object] = [now]
        self.now = now
        self._index: dict[str, int] = {}

    def _key(self, key: str) -> tuple[int, str]:
        # Cut after the hash tag as Redis finds it (the first "{" and the next "}", not
        # empty), so the start hashes to the key's own slot; untagged keys go whole.
        opened = key.find("{")
        closed = key.find("}", opened + 1) if opened >= 0 else -1
        tagged = closed > opened + 1
        start, rest = (key[: closed + 1], key[closed + 1 :]) if tagged else (key, "")
        index = self._index.get(start)
        if index is None:
            self.keys.append(start)
            index = self._index[start] = len(self.keys)  # Lua counts from 1
        return index, rest

    def add(self, op: Op | PlacesBack | StepsBack, at: float | None = None) -> None:
        when = self.now if at is None else at
        index, rest = self._key(op.key)
        if isinstance(op, RateHit):
            self.ops += ("R", index, rest, op.limit, op.period, op.cost)
        elif isinstance(op, DistinctCount):
            # The script derives the buckets' and in-flight keys from the set's own key (they
            # share its hash tag, so its slot), which keeps the call short.
            current = bucket_of(when, op.window)
            limit = 0 if op.limit is None else op.limit
            self.ops += ("C", index, rest, current, DISTINCT_BUCKETS, int(op.reserve), limit)
        elif isinstance(op, DistinctAdd):
            bucket = bucket_of(when, op.window)
            expires = (bucket + 1) * op.window / DISTINCT_BUCKETS + op.window
            ttl = max(math.ceil((expires - when) * 1000), 1)
            member = False if op.member is None else op.member
            self.ops += ("A", index, rest, bucket, int(op.release), ttl, member)
        elif isinstance(op, ValueGet):
            self.ops += ("G", index, rest)
        elif isinstance(op, PlacesBack):
            self.ops += ("F", index, rest, op.places)
        elif isinstance(op, StepsBack):
            self.ops += ("S", index, rest, op.limit, op.period, op.steps)
        else:
            ttl = max(math.ceil(op.ttl * 1000), 1)
            self.ops += ("P", index, rest, ttl, op.value.pack())

    def packed(self) -> bytes:
        """The ops as the script's one argument."""
        # Strings go as Redis's strings (raw bytes); a path's lone surrogates pass as they
        # would through the memory store, instead of failing the request.
        packed: bytes = msgpack.packb(self.ops, use_bin_type=False, unicode_errors="surrogatepass")
        return packed


native_batch = native.set_up(
    "guard.store._batch",
    RateHit,
    DistinctCount,
    DistinctAdd,
    ValueGet,
    ValuePut,
    PlacesBack,
    StepsBack,
    DISTINCT_BUCKETS,
    SCRIPT_SHA.encode(),
)
"""The C twin of :class:`_Encoder` (``guard/store/_batch.c``), when the build compiled it."""


def encode_python(items: Sequence[Item], now: float) -> tuple[list[str], bytes]:
    """The script call's KEYS and argument for ``items`` ((op, moment made) pairs)."""
    encoder = _Encoder(now)
    for op, at in items:
        encoder.add(op, at)
    return encoder.keys, encoder.packed()


def command_python(items: Sequence[Item], now: float) -> bytes:
    """The whole ``EVALSHA`` of ``items``, framed in RESP for the pipelined connection."""
    keys, packed = encode_python(items, now)
    return pack_command(("EVALSHA", SCRIPT_SHA, len(keys), *keys, packed))


def _encoding(asked: bool | None = None) -> tuple[Any, Any]:
    """The encoders a store uses (KEYS and argument; the whole command): the C ones unless
    they are not built or turned off."""
    compiled = native.use("guard.store._batch", "the Redis store's script calls", asked)
    if compiled is None:
        return encode_python, command_python
    return compiled.encode, compiled.command


def _decode(op: Op, raw: Any) -> Result:
    """One script result as the op's result type."""
    if isinstance(op, RateHit):
        allowed, remaining, reset, retry = raw
        return RateState(bool(allowed), int(remaining), float(reset), float(retry))
    if isinstance(op, DistinctCount):
        return int(raw)
    if isinstance(op, ValueGet):
        return None if raw is None or raw is False else op.kind.unpack(raw)
    return None


def _unpacked(reply: Any) -> list[Any]:
    """The script's reply: one MessagePack array, strings as bytes."""
    results: list[Any] = msgpack.unpackb(reply, raw=True)
    return results


Client = Redis | RedisCluster | RespConnection


def _slow_timeout(timeout: float) -> float:
    """The bound for what is slower than a script call, or only backs its deadline up: the
    cluster's discovery, and redis-py's socket operations."""
    return max(1.0, timeout * 20)


def _lean_connection(
    url: str, scheme: str, connect_timeout: float, ca_file: str | None
) -> RespConnection:
    """The pipelined connection a ``redis://`` or ``rediss://`` URL names (TLS verifies the
    server against the system's CAs, or the ``ssl_ca_certs`` file)."""
    try:
        where = parse_url(urlunsplit(urlsplit(url)._replace(query="")))
        db = int(where.get("db", 0))
        tls = ssl.create_default_context(cafile=ca_file) if scheme == "rediss" else None
    except (ValueError, OSError) as exc:
        raise ConfigError(f"store {url!r}: {exc}") from None
    return RespConnection(
        where.get("host", "localhost"),
        int(where.get("port", 6379)),
        db=db,
        username=where.get("username"),
        password=where.get("password"),
        tls=tls,
        connect_timeout=connect_timeout,
    )


def _parse_info(raw: Any) -> dict[str, Any]:
    """An ``INFO`` reply as a field -> value mapping (redis-py's clients parse it already;
    the pipelined connection answers text)."""
    if isinstance(raw, dict):
        return raw
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    fields: dict[str, Any] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and not name.startswith("#"):
            fields[name.strip()] = value.strip()
    return fields


def _kind(exc: Exception) -> str:
    """How a call failed, for :attr:`StorageError.kind`."""
    if isinstance(exc, redis_errors.OutOfMemoryError) or str(exc).startswith("OOM"):
        return "oom"  # redis-py's clients raise the former, the pipelined one the latter
    if isinstance(exc, TimeoutError | redis_errors.TimeoutError):
        return "timeout"
    if isinstance(exc, OSError | redis_errors.ConnectionError):
        return "connection"
    return "error"


def _slot(op: Op | PlacesBack | StepsBack) -> int:
    return key_slot(op.key.encode())


_NOT_HERE = "non local key"
"""What a cluster node answers a script that reached for a key of a slot it does not hold
(``Script attempted to access a non local key in a cluster node script``)."""

CLUSTER_CONNECTIONS = 256
"""Connections the cluster client may open to each node. A request sends one script call
per node it touches, all at once, and held writes go beside them: with 16 requests in
flight a node saw more than 64 calls out at once when a call went to each hash slot
(redis-py then raises rather than waits, and the guard fails open), so the pool is sized
well above that."""


class RedisStore(Store):
    """Keeps state in Redis or Redis Cluster.

    Args:
        client: a :class:`~guard.store.resp.RespConnection` (what ``redis://`` URLs get), a
            ``redis.asyncio.RedisCluster``, or any ``redis.asyncio.Redis``.
        timeout: seconds a whole batch may take before it counts as a failure.
        hold_writes: seconds post-response writes may wait to share a call (default
            :data:`HOLD_WRITES`, the next loop turn).
        native: whether to encode script calls in C (None: when built and not turned off
            with ``GUARD_NATIVE=0``); the same calls either way.

    A budget's check that names its limit (:class:`~guard.store.base.DistinctCount`) takes
    several places at once while the count is far below the limit, and this worker answers
    its next checks of that budget from them for up to :data:`AHEAD_SECONDS`, without
    asking Redis; those left then go back. Other workers see the places as taken all along,
    so together they serve no more than the limit, as with one place a check; near the
    limit each check takes its own place. A rate limit hit here in quick succession takes
    :data:`STEP_BLOCK` steps at once the same way (while at least 32 would be left after
    them), and this worker answers its next hits of it as one step a hit would.
    """

    def __init__(
        self,
        client: Client,
        timeout: float = DEFAULT_TIMEOUT,
        hold_writes: float | None = None,
        *,
        native: bool | None = None,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.hold_writes = HOLD_WRITES if hold_writes is None else hold_writes
        self.cluster = isinstance(client, RedisCluster)
        self._discovered = not self.cluster
        self._stale_slots = False
        self._pending: list[tuple[Op | PlacesBack | StepsBack, float]] = []
        self._ahead: dict[str, _Ahead] = {}
        self._steps: dict[str, _Steps] = {}
        self._seen: dict[str, _Lately] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._calls_out = 0
        self._timer: asyncio.Handle | None = None
        self._timer_hold = 0.0
        self._flushes: set[asyncio.Task[None]] = set()
        self._encode, self._command_of = _encoding(native)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """``redis://``, ``rediss://`` or ``redis+cluster://host:port``, with options
        ``timeout`` (seconds a call may take, 0.05), ``connect_timeout`` (0.25),
        ``max_connections`` (the cluster client's pool for each node,
        :data:`CLUSTER_CONNECTIONS`), ``ssl_ca_certs`` (``rediss://``: a
        CA file to verify the server with, instead of the system's) and
        ``hold_writes`` (seconds, default 0: see :meth:`write_later`).
        """
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            timeout = float(query.pop("timeout", DEFAULT_TIMEOUT))
            connect = float(query.pop("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
            max_connections = int(query.pop("max_connections", str(CLUSTER_CONNECTIONS)))
            hold = float(query.pop("hold_writes", HOLD_WRITES))
            ca_file = query.pop("ssl_ca_certs", None)
        except ValueError:
            raise ConfigError(
                f"store {url!r}: timeout, hold_writes and max_connections must be numbers"
            ) from None
        if query:
            raise ConfigError(f"store {url!r}: unknown option(s) {', '.join(sorted(query))}")
        if ca_file is not None and parts.scheme != "rediss":
            raise ConfigError(f"store {url!r}: ssl_ca_certs needs a rediss:// URL")
        options: dict[str, Any] = {
            # A backstop only: a script call is bounded by its Deadline (a socket timeout
            # as short would fail replies a busy loop reaches late, as asyncio.timeout did).
            "socket_timeout": _slow_timeout(timeout),
            "socket_connect_timeout": connect,
            "retry": Retry(NoBackoff(), 0),
            "max_connections": max_connections,
        }
        if parts.scheme == "redis+cluster":
            plain = urlunsplit(("redis", parts.netloc, parts.path, "", ""))
            client: Client = RedisCluster.from_url(plain, **options)
        else:
            client = _lean_connection(url, parts.scheme, connect, ca_file)
        return cls(client, timeout, hold)

    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Run any held writes, then ``ops``, in one script call (one per node on a cluster);
        budget checks this worker holds places for are answered from them."""
        ops, answered = self._answer_ahead(ops, now)
        # A flush timer still armed stays (it finds nothing and does nothing): cancelling
        # and re-arming one for every request cost more than the rest of the bookkeeping.
        deferred, self._pending = self._pending, []
        if not ops and not deferred:
            return [count for _, count in answered]
        items: list[Item] = [*deferred, *((op, None) for op in ops)]
        try:
            if not self._discovered:  # the slots, which calls are grouped by on a cluster
                await self._discover()
            self._calls_out += 1
            try:
                deadline = asyncio.get_running_loop().time() + self.timeout
                if isinstance(self.client, RespConnection):
                    raw = await self._run_lean(self.client, items, now, deadline)
                else:
                    raw = await self._run_items(items, now, deadline)
            finally:
                self._calls_out -= 1
        except (redis_errors.RedisError, OSError, TimeoutError) as exc:
            if self.cluster:
                # The cluster may have changed (a lost node, a moved slot): the next call
                # learns the slots again first if redis-py or a script saw it change.
                self._discovered = False
            raise StorageError(f"redis: {type(exc).__name__}: {exc}", _kind(exc)) from exc
        results = self._results(ops, raw[len(deferred) :], now)
        for position, answer in answered:  # in order, so each lands where its op was
            results.insert(position, answer)
        return results

    def _results(self, ops: Sequence[Op], replies: Sequence[Any], now: float) -> list[Result]:
        """The script's replies to ``ops`` as their results, keeping what it took ahead."""
        results: list[Result] = []
        for op, item in zip(ops, replies, strict=True):
            if isinstance(op, DistinctCount) and isinstance(item, list):
                count, taken = item  # a check that named its limit: {count, places taken}
                if taken > 1:
                    self._keep_ahead(op.key, int(count) + 1, int(taken) - 1)
                results.append(int(count))
            elif isinstance(op, RateHit) and op.cost < 0:  # asked for steps ahead
                state = _decode(op, item[:4])
                if item[4] > 1 and isinstance(state, RateState):
                    self._keep_steps(op, now + state.reset_after, int(item[4]) - 1)
                results.append(state)
            else:
                results.append(_decode(op, item))
        return results

    def _answer_ahead(
        self, ops: Sequence[Op], now: float
    ) -> tuple[list[Op], list[tuple[int, Result]]]:
        """``ops`` without the budget checks and rate-limit hits this worker holds places or
        steps for, and their answers by position. A budget or limit not checked here in quick
        succession lately gets one place or step a check (:data:`CHECKS_BEFORE_AHEAD`)."""
        clock = monotonic()
        sent: list[Op] = []
        answered: list[tuple[int, Result]] = []
        for position, op in enumerate(ops):
            if isinstance(op, DistinctCount) and op.reserve and op.limit is not None:
                key = op.key
                brisk = self._brisk(key, clock)
                ahead = self._ahead.get(key)
                if ahead is not None and clock < ahead.until:
                    answered.append((position, ahead.count))
                    ahead.count += 1
                    ahead.left -= 1
                    if not ahead.left:
                        del self._ahead[key]
                    continue
                # A negative limit tells the script: one place only (see lua/batch.lua).
                sent.append(op if brisk else DistinctCount(key, op.window, True, -op.limit))
                continue
            if isinstance(op, RateHit) and op.cost == 1:
                key = op.key
                brisk = self._brisk(key, clock)
                steps = self._steps.get(key)
                if steps is not None and clock < steps.until and steps.same(op):
                    answered.append((position, steps.hit(now)))
                    if not steps.left:
                        del self._steps[key]
                    continue
                # A negative cost asks the script for steps ahead (see lua/batch.lua).
                sent.append(RateHit(key, op.limit, op.period, -STEP_BLOCK) if brisk else op)
                continue
            sent.append(op)
        return sent, answered

    def _brisk(self, key: str, clock: float) -> bool:
        """Count a check of ``key`` toward its run; whether the run is brisk (see
        :class:`_Lately`)."""
        run = self._seen.pop(key, None)
        if run is None or run.until <= clock:
            run = _Lately(0, clock, clock)
            self._sweep_later()
        run.checks += 1
        run.until = clock + AHEAD_SECONDS
        self._seen[key] = run  # last, so the oldest stay first
        return run.brisk(clock)

    def _keep_steps(self, op: RateHit, tat: float, left: int) -> None:
        """Hold ``left`` steps of ``op``'s limit for this worker's next hits of it; ``tat``
        is the limit's arrival time after the hit that took them, as one step left it."""
        held = self._steps.pop(op.key, None)
        if held is not None and held.same(op):
            # Two hits met Redis at once: one pool, answered on from the later time, so its
            # answers count the earlier block's unused steps twice: stricter, never looser.
            tat, left = max(tat, held.tat), left + held.left
        elif held is not None:  # the limit changed under them: the older ones go back
            self._pending.append(
                (StepsBack(op.key, held.limit, held.period, held.left), time.time())
            )
            self._arm()
        self._steps[op.key] = _Steps(op.limit, op.period, tat, left, monotonic() + AHEAD_SECONDS)
        self._sweep_later()

    def _keep_ahead(self, key: str, count: int, left: int) -> None:
        """Hold ``left`` places on ``key`` for this worker's next checks of it."""
        held = self._ahead.pop(key, None)
        if held is not None:  # two checks met Redis at once: one pool, the later count
            count, left = max(count, held.count), left + held.left
        self._ahead[key] = _Ahead(count, left, monotonic() + AHEAD_SECONDS)
        self._sweep_later()

    def _sweep_later(self) -> None:
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(AHEAD_SECONDS / 4, self._sweep)

    def _sweep(self) -> None:
        """Give back the places held ahead whose time is up (as held writes), and forget
        budgets not checked lately; every quarter of :data:`AHEAD_SECONDS` while any are
        kept."""
        self._sweeper = None
        clock = monotonic()
        # Both are oldest first: an entry is re-inserted whenever it is renewed.
        self._give_back(list(takewhile(lambda key: self._ahead[key].until <= clock, self._ahead)))
        self._give_steps_back(
            list(takewhile(lambda key: self._steps[key].until <= clock, self._steps))
        )
        for key in list(takewhile(lambda key: self._seen[key].until <= clock, self._seen)):
            del self._seen[key]
        if self._ahead or self._steps or self._seen:
            self._sweep_later()

    def _give_back(self, keys: Sequence[str]) -> None:
        """Hold writes giving back the places held ahead on ``keys``."""
        if not keys:
            return
        now = time.time()
        for key in keys:
            self._pending.append((PlacesBack(key, self._ahead.pop(key).left), now))
        self._arm()

    def _give_steps_back(self, keys: Sequence[str]) -> None:
        """Hold writes giving back the rate-limit steps held ahead on ``keys``."""
        if not keys:
            return
        now = time.time()
        for key in keys:
            held = self._steps.pop(key)
            self._pending.append((StepsBack(key, held.limit, held.period, held.left), now))
        self._arm()

    async def write_later(self, ops: Sequence[Op], now: float) -> None:
        """Hold writes for the next call, or at most ``hold_writes`` seconds.

        Writes after a response ride along with the next request's reads, or go together
        with the others finished in the same turn of the event loop; while another call is
        out (the worker is busy), for up to :data:`BUSY_HOLD`. Held writes release
        budget places and count records, so until they land other workers see a budget as
        *more* spent, never less. A batch of :data:`MAX_HELD` goes at once.
        """
        self._pending.extend((op, now) for op in ops)
        if len(self._pending) >= MAX_HELD:
            await self.execute((), now)
        else:
            self._arm()

    def _arm(self) -> None:
        """Make sure held writes go within the hold (see :meth:`write_later`): a flush
        armed for no later than that serves; one armed for later is armed anew."""
        hold = self.hold_writes or (BUSY_HOLD if self._calls_out else 0.0)
        if self._timer is not None:
            if self._timer_hold <= hold:
                return  # armed earlier with a hold no longer than this: due no later
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_hold = hold
        if hold > 0:
            self._timer = loop.call_later(hold, self._flush_soon)
        else:
            self._timer = loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._timer = None
        if self._pending:
            task = asyncio.ensure_future(self._flush())
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        try:
            await self.execute((), time.time())
        except StorageError as exc:
            logger.warning("guard: held writes lost, Redis unavailable: %s", exc)

    async def forget(self, key_start: str) -> int:
        """Delete every key starting with ``key_start``: found with ``SCAN`` on one server,
        with ``CLUSTER GETKEYSINSLOT`` on the node that holds the actor's hash tag on a
        cluster; deleted with ``UNLINK``. Held writes go first, so none lands after."""
        self._give_back([key for key in self._ahead if key.startswith(key_start)])
        self._give_steps_back([key for key in self._steps if key.startswith(key_start)])
        for key in [key for key in self._seen if key.startswith(key_start)]:
            del self._seen[key]
        async with self._admin_call():
            await self.execute((), time.time())
            if isinstance(self.client, RedisCluster):
                return await self._forget_in_slot(self.client, key_start)
            return await self._forget_by_scan(key_start)

    async def stats(self) -> dict[str, float]:
        """The servers' ``evicted_keys``, ``used_memory`` and ``maxmemory`` (summed over a
        cluster's masters), from ``INFO``."""
        async with self._admin_call():
            if isinstance(self.client, RedisCluster):
                if not self._discovered:
                    await self._discover()
                replies = await self.client.info(target_nodes=RedisCluster.PRIMARIES)
                infos = list(replies.values())
            else:
                infos = [_parse_info(await self._command("INFO"))]
        fields = ("evicted_keys", "used_memory", "maxmemory")
        return {name: sum(float(info.get(name, 0)) for info in infos) for name in fields}

    @contextlib.asynccontextmanager
    async def _admin_call(self) -> AsyncIterator[None]:
        """An erasure's or a metrics read's calls: bounded by ADMIN_TIMEOUT, and every failure
        a StorageError. redis-py's asyncio clients can leak a closing transport's internals
        (an AttributeError or TypeError, as a script call can meet: see _run): a lost
        connection. The pipelined connection leaks nothing, so there one is a bug, raised."""
        try:
            async with asyncio.timeout(ADMIN_TIMEOUT):
                yield
        except (redis_errors.RedisError, OSError, TimeoutError) as exc:
            raise StorageError(f"redis: {type(exc).__name__}: {exc}", _kind(exc)) from exc
        except (AttributeError, TypeError) as exc:
            if isinstance(self.client, RespConnection):
                raise
            lost = f"redis: connection lost ({type(exc).__name__}: {exc})"
            raise StorageError(lost, "connection") from exc

    async def _forget_by_scan(self, key_start: str) -> int:
        pattern = _GLOB_SPECIAL.sub(r"\\\g<0>", key_start) + "*"
        cursor, deleted = b"0", 0
        while True:
            cursor, keys = await self._command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            if keys:
                deleted += int(await self._command("UNLINK", *keys))
            if int(cursor) == 0:
                return deleted

    async def _forget_in_slot(self, client: RedisCluster, key_start: str) -> int:
        if not self._discovered:
            await self._discover()
        node = client.get_node_from_key(key_start)
        slot = key_slot(key_start.encode())
        keys: list[bytes | str] = await client.execute_command(
            "CLUSTER GETKEYSINSLOT", slot, FORGET_MAX_KEYS, target_nodes=node
        )
        start = key_start.encode()
        doomed = [k for k in keys if (k if isinstance(k, bytes) else k.encode()).startswith(start)]
        return int(await client.unlink(*doomed)) if doomed else 0

    async def _command(self, *args: str | bytes | int) -> Any:
        """One command to a single server, on whichever client this store has."""
        if isinstance(self.client, RespConnection):
            return await self.client.call(*args)
        return await self.client.execute_command(*args)

    async def _discover(self) -> None:
        """Learn the cluster's slots (when redis-py has not, or has seen them change, or a
        script found a key of its call on another node), outside the per-request timeout
        (it is slower)."""
        assert isinstance(self.client, RedisCluster)
        async with asyncio.timeout(_slow_timeout(self.timeout)):
            await self.client.initialize()
            if self._stale_slots:
                await self.client.nodes_manager.initialize()
                self._stale_slots = False
        self._discovered = True

    async def _run(
        self,
        client: Any,
        items: Sequence[Item],
        now: float,
        deadline: float,
        node: ClusterNode | None = None,
    ) -> list[Any]:
        """One script call through redis-py's client (to ``node`` of a cluster), failed past
        ``deadline`` (the loop's clock) unless its reply is in by the time the loop gets
        there (see Deadline)."""
        keys, packed = self._encode(items, now)
        if node is None:
            command: tuple[Any, ...] = ("EVALSHA", SCRIPT_SHA, len(keys), *keys, packed)
            options: dict[str, Any] = {}
        else:
            # A script's KEYS must share a slot: the first routes the call (and redirects it,
            # should its slot have moved), the node's other key starts follow the argument.
            command = ("EVALSHA", SCRIPT_SHA, 1, keys[0], packed, *keys[1:])
            options = {"target_nodes": node}
        try:
            async with Deadline(deadline):
                try:
                    reply = await client.execute_command(*command, **options)
                except redis_errors.NoScriptError:
                    await client.script_load(SCRIPT)
                    reply = await client.execute_command(*command, **options)
        except redis_errors.ResponseError as exc:
            if node is not None and _NOT_HERE in str(exc):
                # A slot of the call's other keys has moved (redis-py follows only the
                # declared key's redirections): learn the slots again before the next call.
                self._stale_slots = True
            raise
        except (AttributeError, TypeError) as exc:
            # redis-py's asyncio clients can leak a closing transport's internals instead of
            # a ConnectionError ("'NoneType' object has no attribute 'writelines'", seen here
            # on the cluster client under overload; redis/redis-py#4287); they have dropped
            # the connection by then, so it is a lost connection like any other. (The
            # pipelined connection takes _run_lean, where such an error is a bug.)
            raise redis_errors.ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        return _unpacked(reply)

    async def _run_lean(
        self, client: RespConnection, items: Sequence[Item], now: float, deadline: float
    ) -> Any:
        """One script call on the pipelined connection, framed whole in one step and failed
        by the connection's own deadline (cheaper than a timeout scope a call)."""
        command = self._command_of(items, now)
        try:
            reply = await client.send(command, deadline)
        except redis_errors.NoScriptError:
            await client.script_load(SCRIPT, deadline)
            reply = await client.send(command, deadline)
        return _unpacked(reply)

    async def _run_items(self, items: list[Item], now: float, deadline: float) -> list[Any]:
        """One script call per node that holds the items' keys (one in all off a cluster),
        all in flight at once.

        A script may reach keys of every slot its node holds, so a request's dozen actors
        cost a call per node rather than per slot: on 3 masters, 3 calls at most instead of
        about 9, and the Redis CPU of one. (redis-py's cluster pipeline refuses EVALSHA, so
        the calls go out concurrently.)
        """
        if not isinstance(self.client, RedisCluster):  # one server: one call, nothing to undo
            return await self._run(self.client, items, now, deadline)
        slots = self.client.nodes_manager
        groups: dict[str, tuple[ClusterNode, list[int]]] = {}
        for index, (op, _) in enumerate(items):
            node = slots.get_node_from_slot(_slot(op))
            groups.setdefault(node.name, (node, []))[1].append(index)
        replies = await asyncio.gather(
            *(
                self._run(self.client, [items[i] for i in indexes], now, deadline, node)
                for node, indexes in groups.values()
            )
        )
        results: list[Any] = [None] * len(items)
        for (_, indexes), raw in zip(groups.values(), replies, strict=True):
            for index, item in zip(indexes, raw, strict=True):
                results[index] = item
        return results

    async def close(self) -> None:
        """Give back the places held ahead, send any held writes (and wait for those already
        on their way), then close."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self._give_back(list(self._ahead))
        self._give_steps_back(list(self._steps))
        if self._pending:
            await self._flush()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        await self.client.aclose()
