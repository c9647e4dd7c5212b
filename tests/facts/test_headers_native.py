"""Header decoding in C (guard/facts/_headers.c) against the Python it twins.

The C handles the common case and hands anything unusual back, so for every input the
facts' names and headers must be what the Python alone gives; and the common case (a real
browser's request) must really be taken by the C.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard import native
from guard.facts import MAX_HEADER_VALUE, _decode_headers, _natively_decoded, native_headers
from guard.testing import chrome_headers

if native_headers is None:
    WHY = native.MISSING.get("guard.facts._headers")
    if os.environ.get("CI"):
        pytest.fail(f"the native header decoding was not built: {WHY}")
    pytest.skip(f"the native header decoding is not built: {WHY}", True)
C = native_headers
assert C is not None

NAMES = st.sampled_from([b"host", b"user-agent", b"accept", b"cookie", b"X-Up", b"a_b"]) | (
    st.binary(max_size=12)
)
VALUES = st.binary(max_size=40) | st.sampled_from([b"v" * MAX_HEADER_VALUE, b"v" * 9000])
PAIRS = st.tuples(NAMES, VALUES)
ITEMS = PAIRS | PAIRS.map(list) | st.tuples(NAMES) | st.just((b"k", "text")) | st.none()
RAW = st.lists(ITEMS, max_size=10) | st.lists(PAIRS, max_size=10).map(tuple)


@settings(max_examples=int(os.environ.get("GUARD_FUZZ_EXAMPLES", "300")), derandomize=True)
@given(raw=RAW)
def test_the_c_decodes_as_the_python_does(raw: object) -> None:
    """Any items, names (capitals, repeats, bytes past ASCII, none at all) and values (past
    the limit): the same names, in the same order, and the same values."""
    assert _natively_decoded(raw) == _decode_headers(raw)


def test_a_browsers_request_is_decoded_by_the_c() -> None:
    """Chrome's navigation headers take the C path and come out as the Python's."""
    raw = [(name.encode(), value.encode("latin-1")) for name, value in chrome_headers().items()]
    decoded = C.decode(raw, MAX_HEADER_VALUE)
    assert decoded is not None
    assert decoded == _decode_headers(raw)


@pytest.mark.parametrize(
    "raw",
    [
        [(b"Host", b"x")],  # capitals: the careful path lowers them
        [(b"a", b"1"), (b"a", b"2")],  # a repeat
        [(b"123", b"x")],  # no letter: "123".islower() is False
        [(b"\xe9t\xe9", b"x")],  # past ASCII
        [(b"a", b"v" * (MAX_HEADER_VALUE + 1))],  # cut by the careful path
        [[b"a", b"1"]],  # a list, not a tuple
        [],
    ],
)
def test_the_c_hands_unusual_headers_back(raw: object) -> None:
    assert C.decode(raw, MAX_HEADER_VALUE) is None
    assert _natively_decoded(raw) == _decode_headers(raw)
