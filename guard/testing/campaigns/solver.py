"""The native proof-of-work solver a harvesting campaign uses.

It is written here from the challenge page's published format (SHA-256 of
``token:counter`` with ``difficulty`` leading zero bits), as a solving farm would write its
own; :func:`~guard.testing.campaigns.run_campaign` runs it in worker processes so its CPU
time is measured apart from the server's. It stays a module-level function, importable by
its qualified name, so those processes can unpickle it.
"""

from __future__ import annotations

import hashlib
import sys
import time


def solve_challenge(token: str, difficulty: int) -> tuple[int, float]:
    """The first counter whose ``SHA-256(token + ":" + counter)`` starts with ``difficulty``
    zero bits, and the CPU seconds the search took (``time.process_time``)."""
    start = time.process_time()
    prefix = hashlib.sha256(f"{token}:".encode("ascii", "replace"))
    shift = 64 - min(difficulty, 64)
    counter = 0
    while True:
        attempt = prefix.copy()
        attempt.update(str(counter).encode())
        digest = attempt.digest()
        if int.from_bytes(digest[:8], "big") >> shift == 0 and (
            difficulty <= 64 or int.from_bytes(digest, "big") >> (256 - difficulty) == 0
        ):
            return counter, time.process_time() - start
        counter += 1


if __name__ == "__main__":
    print(solve_challenge(sys.argv[1], int(sys.argv[2]))[0])
