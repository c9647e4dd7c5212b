"""Property tests (hypothesis): whatever a client sends, and whatever a log or config holds,
nothing escapes the guard and its answers stay well-formed. Examples are derandomized, so a
run is the same every time; ``GUARD_FUZZ_EXAMPLES`` runs more of them (``GUARD_FUZZ_EXAMPLES=
5000 .venv/bin/python -m pytest tests/fuzz`` is the longer run, minutes rather than seconds).

The corpus is seeded from real inputs: the user agents of ``crawler-user-agents`` and of
current browsers, Chrome's headers, and the lines of a real Apache access log
(``tests/replay/data/apache_logs.gz``), each also cut, spliced and sprinkled with bytes."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import os
from pathlib import Path
from typing import Any

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import InvalidResponse

from guard.config import GuardConfig
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.errors import ConfigError, ModelError
from guard.facts.client import ClientAddressResolver
from guard.learn.accesslog import ReadStats, read_combined
from guard.middleware import GuardMiddleware
from guard.model.runtime import model_from_dict
from guard.policy import Verdict
from guard.replay.jsonlog import read_json_log
from guard.signals.profile import ClientProfile
from guard.signals.strikes import Strike
from guard.signing import Signer
from guard.store import memory
from guard.store.base import DistinctAdd, DistinctCount, Op, RateHit, ValueGet, ValuePut
from guard.store.resp import PythonReader
from guard.testing import ManualClock, call_asgi, chrome_headers
from guard.types import Action, Receive, Scope, Send
from tests.browser_agents import BROWSER_AGENTS
from tests.signals.twins import COMPILED, values
from tests.store.twins import Blob, both, twins

EXAMPLES = int(os.environ.get("GUARD_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REAL_AGENTS = sorted(
    {instance for entry in CRAWLER_USER_AGENTS_DATA for instance in entry.get("instances", [])[:2]}
    | set(BROWSER_AGENTS)
)
REAL_HEADERS = [
    (name.encode(), value.encode())
    for name, value in chrome_headers(referer="https://example.com/resumes").items()
]
with gzip.open(
    Path(__file__).resolve().parents[1] / "replay" / "data" / "apache_logs.gz", "rt"
) as _log:
    REAL_LOG_LINES = [line.rstrip("\n") for _, line in zip(range(2_000), _log, strict=False)]


def mutated(values: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """A real value as it is, cut, or with bytes spliced in."""
    return st.one_of(
        values,
        st.tuples(values, st.integers(0, 400)).map(lambda pair: pair[0][: pair[1]]),
        st.tuples(values, st.integers(0, 400), st.binary(min_size=1, max_size=40)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
        ),
    )


REAL_AGENT_BYTES = st.sampled_from([agent.encode("utf-8", "replace") for agent in REAL_AGENTS])
SEEDED_HEADERS = st.one_of(
    st.tuples(st.just(b"user-agent"), mutated(REAL_AGENT_BYTES)),
    st.sampled_from(REAL_HEADERS).flatmap(
        lambda pair: st.tuples(st.just(pair[0]), mutated(st.just(pair[1])))
    ),
)
HEADER_NAMES = st.sampled_from(
    [
        b"user-agent",
        b"accept",
        b"accept-language",
        b"cookie",
        b"x-forwarded-for",
        b"forwarded",
        b"referer",
        b"sec-fetch-site",
        b"sec-ch-ua",
        b"host",
        b"sec-fetch-dest",
        b"authorization",
    ]
) | st.binary(min_size=0, max_size=40)
HEADERS = st.lists(st.tuples(HEADER_NAMES, st.binary(max_size=2000)) | SEEDED_HEADERS, max_size=12)
PATHS = st.sampled_from(
    ["/", "/resume/100001", "/resumes", "/api/resumes/100002", "/jobs"]
) | st.text(max_size=300).map(lambda text: "/" + text)
CLIENTS = st.none() | st.tuples(
    st.sampled_from(["127.0.0.1", "198.51.100.7", "::1", "not-an-ip", ""]), st.integers(0, 65535)
)

APP = GuardMiddleware(
    create_demo_app(200),
    demo_config({"secret": "f" * 32, "trusted_proxies": ["127.0.0.1/32"]}),
    clock=ManualClock(),
)


@FUZZ
@given(
    headers=HEADERS,
    path=PATHS,
    method=st.sampled_from(["GET", "POST", "HEAD", "PATCH"]),
    client=CLIENTS,
)
def test_no_request_turns_into_a_server_error(
    headers: list[tuple[bytes, bytes]], path: str, method: str, client: tuple[str, int] | None
) -> None:
    """Any header bytes, path, method and peer: never a 5xx from the guard, and the verdict
    the app sees is well-formed."""
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope.get("guard"))
        await APP.app(scope, receive, send)

    guarded = GuardMiddleware(app, guard=APP.guard)
    reply = asyncio.run(call_asgi(guarded, path, method=method, headers=headers, client=client))
    assert reply.status < 500
    for verdict in seen:
        assert isinstance(verdict, Verdict)
        assert isinstance(verdict.action, Action)
        assert 0.0 <= verdict.score <= 1.0
        assert all(isinstance(reason, str) and reason for reason in verdict.reasons)


@FUZZ
@given(forwarded=st.text(max_size=300), peer=st.sampled_from(["127.0.0.1", "203.0.113.9"]))
def test_forwarding_headers_are_believed_only_from_proxies(forwarded: str, peer: str) -> None:
    """From an untrusted peer any X-Forwarded-For is ignored; from the proxy the answer is
    an address or None, never an exception."""
    resolver = ClientAddressResolver([ipaddress.ip_network("127.0.0.1/32")])
    found = resolver.resolve(peer, {"x-forwarded-for": forwarded})
    if peer == "203.0.113.9":
        assert found == ipaddress.ip_address(peer)
    else:
        assert found is None or isinstance(found, ipaddress.IPv4Address | ipaddress.IPv6Address)


LOG_LINES = st.text(max_size=400) | mutated(
    st.sampled_from([line.encode() for line in REAL_LOG_LINES])
).map(lambda raw: raw.decode("utf-8", "replace"))


@FUZZ
@given(lines=st.lists(LOG_LINES, max_size=20))
def test_log_readers_count_every_line_and_never_raise(lines: list[str]) -> None:
    """Combined, common and JSON log readers take any text: each line is an event or
    counted as malformed."""
    for reader in (read_combined, read_json_log):
        stats = ReadStats()
        events = list(reader(lines, stats=stats))
        assert stats.lines == len(lines)
        assert len(events) == stats.events
        assert stats.events + stats.malformed <= len(lines)


@FUZZ
@given(value=st.text(max_size=300), purpose=st.sampled_from(["clearance", "token", "admin"]))
def test_forged_signed_values_are_refused_quietly(value: str, purpose: str) -> None:
    """Arbitrary cookie and token text opens to nothing and verifies false, without raising."""
    signer = Signer(b"k" * 32, max_age=3600)
    assert signer.open(value, purpose=purpose) is None
    assert signer.verify(value, 1_800_000_000.0) is False


SETTINGS = st.dictionaries(
    st.sampled_from(
        [
            "mode",
            "thresholds",
            "weights",
            "shadow",
            "routes",
            "trusted_proxies",
            "store",
            "secret",
            "challenge_difficulty",
            "utc_offset_hours",
            "model",
        ]
    ),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=True)
        | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=4,
)


@FUZZ
@given(data=SETTINGS)
def test_bad_config_is_a_config_error(data: dict[str, object]) -> None:
    """Any mapping of values for known settings is a config or a ConfigError: nothing else."""
    with contextlib.suppress(ConfigError):
        GuardConfig.from_mapping(data)


@pytest.fixture(scope="module", autouse=True)
def close_app() -> object:
    """Close the shared guard's store at the end."""
    yield
    asyncio.run(APP.guard.aclose())


REPLIES = st.recursive(
    st.binary(max_size=50) | st.integers(-(2**63), 2**63 - 1) | st.none(),
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=12,
)


def resp(reply: object) -> bytes:
    """``reply`` in RESP2, as Redis writes it."""
    if reply is None:
        return b"$-1\r\n"
    if isinstance(reply, bytes):
        return b"$%d\r\n%s\r\n" % (len(reply), reply)
    if isinstance(reply, int):
        return b":%d\r\n" % reply
    assert isinstance(reply, list)
    return b"*%d\r\n" % len(reply) + b"".join(resp(item) for item in reply)


@FUZZ
@given(replies=st.lists(REPLIES, min_size=1, max_size=5), cuts=st.lists(st.integers(1, 40)))
def test_the_fallback_resp_parser_reads_replies_however_they_arrive(
    replies: list[object], cuts: list[int]
) -> None:
    """Replies cut into any chunks come back whole and in order from the pure-Python parser
    (the one used when hiredis is missing)."""
    data = b"".join(resp(reply) for reply in replies)
    reader = PythonReader()
    got: list[object] = []
    pos = 0
    for size in [*cuts, len(data)]:
        reader.feed(data[pos : pos + size])
        pos += size
        while (reply := reader.gets()) is not False:
            got.append(reply)
    assert got == replies


@FUZZ
@given(data=st.binary(max_size=200))
def test_the_fallback_resp_parser_refuses_garbage_cleanly(data: bytes) -> None:
    """Bytes that are not RESP give a protocol error (or wait for more), nothing else."""
    reader = PythonReader()
    reader.feed(data)
    with contextlib.suppress(InvalidResponse, ValueError):
        for _ in range(50):
            if reader.gets() is False:
                break


MODEL_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "format",
                    "version",
                    "features",
                    "estimator",
                    "calibration",
                    "thresholds",
                    "trees",
                    "kind",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(document=MODEL_DOCUMENTS)
def test_a_corrupt_model_document_is_a_model_error(document: object) -> None:
    """Any JSON-shaped document is a model or a ModelError, never another exception."""
    with contextlib.suppress(ModelError):
        model_from_dict(document)


STORE_KEYS = st.sampled_from(["a", "b", "guard:{ip:1.2.3.4}:r", "c"])
WINDOWS = st.sampled_from([1.0, 60.0, 3600, 86400.0]) | st.floats(0.001, 1e6)
STORE_OPS = st.one_of(
    st.builds(RateHit, STORE_KEYS, st.integers(1, 10**9), st.floats(0.001, 1e7), st.integers(1, 5)),
    st.builds(DistinctCount, STORE_KEYS, WINDOWS, st.booleans()),
    st.builds(DistinctAdd, STORE_KEYS, st.none() | st.text(max_size=20), WINDOWS, st.booleans()),
    st.builds(ValueGet, STORE_KEYS, st.sampled_from([Strike, Blob])),
    st.builds(
        ValuePut,
        STORE_KEYS,
        st.builds(Strike, st.floats(allow_nan=False)) | st.builds(Blob, st.binary(max_size=700)),
        st.floats(0.0, 1e6),
    ),
)


@pytest.mark.skipif(memory.native_ops is None, reason="the native memory store is not built")
@FUZZ
@given(
    batches=st.lists(
        st.tuples(st.floats(0.0, 5000.0), st.lists(STORE_OPS, min_size=1, max_size=6)),
        max_size=12,
    ),
    budget=st.sampled_from([None, 16, 30]),
)
def test_the_native_memory_store_matches_its_python_twin(
    batches: list[tuple[float, list[Op]]], budget: int | None
) -> None:
    """Any operations, keys colliding, any moments and budgets: the C operations give the
    Python ones' results and leave the same entries (tests/store/test_native.py replays
    traffic)."""

    async def run() -> None:
        stores = twins(budget)
        now = 1_800_000_000.0
        for step, ops in batches:
            now += step
            await both(stores, ops, now)

    asyncio.run(run())


RECORDS = st.none() | st.integers(0, 40) | st.integers(0, 10**18 - 1)
RECORD_IDS = st.sampled_from(["1", "2", "3", "42", "abc", "é", "\ud800"]) | st.text(max_size=8)
PATHS = st.sampled_from(["", "/", "/resume/1", "/resume/2", "/a\ud800", "/é"]) | st.text(
    max_size=12
)
COUNTS = st.integers(0, 2**33)
PROFILE_STARTS = st.fixed_dictionaries(
    {},
    optional={
        "first_seen": st.floats(1e9, 2e9),
        "requests": COUNTS,
        "documents": COUNTS,
        "records": COUNTS,
        "sequential_steps": COUNTS,
        "cookie_returns": COUNTS,
        "doc_gap_count": COUNTS,
        "client_errors": COUNTS,
        "last_record": st.integers(-1, 10**18),
        "paths_seen": st.integers(0, 2**64 - 1),
        "doc_gap_mean": st.floats(0.0, 1e6),
        "doc_gap_m2": st.floats(0.0, 1e12),
        "rate_fast": st.floats(0.0, 100.0),
    },
)
PROFILE_STEPS = st.one_of(
    st.tuples(
        st.just("observe"),
        st.floats(-5.0, 600.0),
        st.fixed_dictionaries(
            {
                "static": st.booleans(),
                "record": RECORDS,
                "tracked": st.booleans(),
                "robots": st.booleans(),
                "honeypot": st.booleans(),
            },
            optional={
                "path": PATHS,
                "referrer": st.integers(0, 2),
                "head": st.booleans(),
                "api": st.booleans(),
                "local_hour": st.integers(0, 23),
            },
        ),
    ),
    st.tuples(st.just("status"), st.integers(100, 599)),
    st.tuples(st.just("show"), RECORD_IDS),
    st.tuples(st.just("read"), RECORD_IDS, RECORDS),
    st.tuples(st.just("was_shown"), RECORD_IDS),
    st.tuples(st.just("swap")),
)


@pytest.mark.skipif(COMPILED is None, reason="the compiled profile is not built")
@FUZZ
@given(start=PROFILE_STARTS, steps=st.lists(PROFILE_STEPS, max_size=60))
def test_the_compiled_profile_matches_its_python_twin(
    start: dict[str, Any], steps: list[tuple[Any, ...]]
) -> None:
    """From any state (counters past what their packed fields hold, times far apart), any
    history of requests, statuses, records shown and read, clocks going back, odd paths and
    ids: the compiled profile and ledger hold the Python ones' fields, answer the same, and
    pack the same bytes, which each twin reads back as the other wrote them."""
    assert COMPILED is not None
    python, c = ClientProfile(**start), COMPILED.ClientProfile(**start)
    now = 1_800_000_000.0
    for name, *args in steps:
        answers = []
        for profile in (python, c):
            if name == "observe":
                step, flags = args
                profile.observe(now + step, **flags)
            elif name == "status":
                profile.observe_status(*args)
            elif name == "swap":  # each reads what the other stored
                python, c = (
                    ClientProfile.unpack(c.pack()),
                    COMPILED.ClientProfile.unpack(python.pack()),
                )
                break
            else:
                answers.append(getattr(profile.ledger, name)(*args))
        if name == "observe":
            now += max(args[0], 0.0)
        if answers:
            assert answers[0] == answers[1]
        assert values(c) == values(python)
        assert (c.ledger.shown, c.ledger.cold, c.ledger.streak) == (
            python.ledger.shown,
            python.ledger.cold,
            python.ledger.streak,
        )
        assert c.pack() == python.pack()
        assert repr(c) == repr(python)
        assert (c.doc_gap_cv, c.distinct_paths) == (python.doc_gap_cv, python.distinct_paths)
