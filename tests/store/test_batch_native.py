"""The Redis script call encoded in C (guard/store/_batch.c) against the Python encoder.

The same (op, moment) pairs must give the same KEYS and, byte for byte, the same
MessagePack argument and the same whole EVALSHA command in RESP: random batches over tagged,
untagged and odd keys, members in any text (lone surrogates too), held writes with their own
moments, and the batches real requests make (tests/store/test_contract.py then runs every
store operation on Redis through the C encoder, the default).
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard import native
from guard.signals.strikes import Strike
from guard.store import redis as redis_store
from guard.store.base import DistinctAdd, DistinctCount, Op, RateHit, ValueGet, ValuePut
from guard.store.redis import Item, PlacesBack, StepsBack, command_python, encode_python
from tests.store.twins import Blob

if redis_store.native_batch is None:
    WHY = native.MISSING.get("guard.store._batch")
    if os.environ.get("CI"):
        pytest.fail(f"the native script-call encoder was not built: {WHY}")
    pytest.skip(f"the native script-call encoder is not built: {WHY}", True)
C: Any = redis_store.native_batch

KEYS = st.sampled_from(
    [
        "guard:{ip:198.51.100.7}:r:sensitive",
        "guard:{ip:198.51.100.7}:b3600",
        "guard:{network:198.51.100.0/24}:b3600",
        "guard:{global:all}:cr",
        "plain-key",
        "a{}b}c",
        "{x}",
        "}{y}",
        "{only",
        "",
    ]
) | st.text(max_size=30)
MOMENTS = st.none() | st.floats(1e9, 2e9)
WINDOWS = st.sampled_from([60.0, 3600.0, 86400]) | st.floats(0.01, 1e7)
OPS = st.one_of(
    st.builds(
        RateHit,
        KEYS,
        st.integers(1, 2**40),
        st.floats(0.001, 1e7) | st.integers(1, 10**6),
        st.integers(-9, 9),
    ),
    st.builds(DistinctCount, KEYS, WINDOWS, st.booleans(), st.none() | st.integers(1, 2**40)),
    st.builds(PlacesBack, KEYS, st.integers(1, 2**20)),
    st.builds(
        StepsBack,
        KEYS,
        st.integers(1, 2**40),
        st.floats(0.001, 1e7) | st.integers(1, 10**6),
        st.integers(1, 64),
    ),
    st.builds(DistinctAdd, KEYS, st.none() | st.text(max_size=40), WINDOWS, st.booleans()),
    st.builds(ValueGet, KEYS, st.just(Strike)),
    st.builds(
        ValuePut,
        KEYS,
        st.builds(Strike, st.floats(allow_nan=False)) | st.builds(Blob, st.binary(max_size=70000)),
        st.floats(0.0, 1e7) | st.integers(0, 10**6),
    ),
)


def same(items: list[Item], now: float) -> None:
    """Both encoders give the same KEYS and argument, and the same whole RESP command (or
    both refuse a key that is not UTF-8, such as one with a lone surrogate)."""
    assert C.encode(items, now) == encode_python(items, now)
    try:
        framed = command_python(items, now)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            C.command(items, now)
        return
    assert C.command(items, now) == framed


@settings(max_examples=int(os.environ.get("GUARD_FUZZ_EXAMPLES", "300")), derandomize=True)
@given(items=st.lists(st.tuples(OPS, MOMENTS), max_size=40), now=st.floats(1e9, 2e9))
def test_the_c_encodes_as_the_python_does(items: list[Item], now: float) -> None:
    """Any operations, keys and moments: the same KEYS and the same bytes."""
    same(items, now)


def test_members_with_lone_surrogates_pass_as_in_python() -> None:
    """A path's undecodable bytes (surrogate escapes) are sent, not refused."""
    item: tuple[Op, float | None] = (DistinctAdd("guard:{ip:x}:b60", "\udcff-\ud800", 60.0), None)
    same([item], 1_800_000_000.5)


def test_a_requests_batch_encodes_alike() -> None:
    """What a guarded request sends: rates, reserving counts, reads, and the held writes of
    the request before, each with its own moment."""
    rng = random.Random(3)
    now = 1_800_000_000.25
    ip, net, fp = "{ip:198.18.20.1}", "{network:198.18.20.0/24}", "{fingerprint:e7d2}"
    held: list[Item] = [
        (DistinctAdd(f"guard:{actor}:b3600", "107178", 3600.0, release=True), now - 0.4)
        for actor in (ip, net, fp)
    ]
    held.append((PlacesBack(f"guard:{ip}:b86400", 7), now - 2.0))
    held.append((StepsBack(f"guard:{net}:r:sensitive", 600, 60.0, 5), now - 2.0))
    ops: list[Op] = [
        *(RateHit(f"guard:{actor}:r:sensitive", 600, 60.0) for actor in (ip, net)),
        RateHit(f"guard:{fp}:r:sensitive", 600, 60.0, -8),  # steps ahead
        *(
            DistinctCount(f"guard:{actor}:b3600", 3600.0, reserve=True, limit=120)
            for actor in (ip, net, fp)
        ),
        DistinctCount("guard:{global:all}:cr", 60.0),
        ValueGet("guard:{client:6b66}:p", Strike),
        ValuePut("guard:{client:6b66}:p", Blob(rng.randbytes(300)), 21600.0),
    ]
    same([*held, *((op, None) for op in ops)], now)


def test_what_cannot_be_sent_fails_in_both() -> None:
    """An operation of no known kind is refused by both encoders."""
    stray: Any = ("not an op", None)
    with pytest.raises(TypeError):
        C.encode([stray], 1.0)
    with pytest.raises(TypeError):
        C.command([stray], 1.0)
    with pytest.raises((TypeError, AttributeError)):
        encode_python([stray], 1.0)
