"""The proof of work: find a counter whose SHA-256 with the token starts with zero bits."""

from __future__ import annotations

import hashlib

MAX_COUNTER = 2**40


def leading_zero_bits(digest: bytes) -> int:
    """How many bits at the start of ``digest`` are zero."""
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solves(token: str, counter: int, difficulty: int) -> bool:
    """Whether ``SHA-256(token + ":" + counter)`` has ``difficulty`` leading zero bits."""
    if not 0 <= counter < MAX_COUNTER:
        return False
    digest = hashlib.sha256(f"{token}:{counter}".encode("ascii", "replace")).digest()
    return leading_zero_bits(digest) >= difficulty


def solve(token: str, difficulty: int) -> int:
    """The first counter that solves ``token`` (what the page's script does; for tests)."""
    counter = 0
    while not solves(token, counter, difficulty):
        counter += 1
    return counter
