"""A run of people: visits arriving over time, played concurrently, counted per persona."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from guard.testing.people.person import Outcome, Person
from guard.testing.people.visits import Visit, plan_visits

OUTCOMES = (
    "sessions", "served", "challenged", "blocked", "throttled", "errors", "records", "pages",
)  # fmt: skip
"""The counts :func:`run_people` gives per persona."""


def run_people(
    base: str,
    *,
    sessions: int,
    seed: int,
    speed: float = 1.0,
    pace: float = 1.0,
    personas: Sequence[str] | None = None,
    threads: int = 16,
    deadline: float = 110.0,
    arrivals_per_minute: float = 12.0,
    shared_ids: Sequence[int] = range(100000, 101000),
) -> dict[str, dict[str, int]]:
    """Send ``sessions`` people to ``base`` and count how the guard treated them.

    Visits arrive as a Poisson process (``arrivals_per_minute`` of guard time) and run
    concurrently on ``threads`` threads; whatever is still going at ``deadline`` wall seconds
    stops there, and visits not begun by then are not counted.

    Args:
        base: the site's URL on loopback, e.g. ``http://127.0.0.1:8000``.
        sessions: how many visits.
        seed: the same seed gives the same people (timing aside).
        speed: the guard clock's speed (:class:`~guard.testing.people.AcceleratedClock`); 1
            for a real clock.
        pace: how long people stay on a page, against the published dwell times (0.1: ten
            times quicker readers); never under a second.
        personas: the personas to draw from (all of :data:`~guard.testing.people.PERSONAS` by
            default).
        threads: visits at once, at most.
        deadline: wall seconds the run may take.
        arrivals_per_minute: mean arrivals a minute of guard time.
        shared_ids: the records a shared link or a search result can point to.

    Returns:
        Per persona, the :data:`OUTCOMES` counts: ``sessions``; ``served`` (never challenged,
        refused or failed); ``challenged`` (met at least one challenge: a page solved, or a
        challenge refusal of a subresource); ``blocked`` (met a 403 that is not a challenge);
        ``throttled`` (a 429 that is not a challenge); ``errors`` (a 5xx or a failed
        connection); ``records`` (records read with the phone shown); ``pages`` (pages seen).

    Raises:
        ValueError: ``base`` is not on loopback, or a persona is unknown.
    """
    host = urlsplit(base).hostname or ""
    if not host.startswith("127.") and host not in {"localhost", "::1"}:
        raise ValueError("people only visit sites on loopback")
    visits = plan_visits(sessions, seed, personas, shared_ids=shared_ids)
    arrivals = random.Random(f"arrivals:{seed}")  # noqa: S311 - pacing, not a secret
    start = time.monotonic()
    stop_at = start + deadline
    offsets, clock = [], 0.0
    for _ in visits:
        offsets.append(clock)
        clock += arrivals.expovariate(arrivals_per_minute / 60.0)

    def play(visit: Visit, offset: float) -> Outcome | None:
        wait = start + offset / speed - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, max(stop_at - time.monotonic(), 0.0)))
        if time.monotonic() >= stop_at:
            return None
        return Person(visit, base, speed, stop_at, pace).run()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="person") as pool:
        outcomes = list(pool.map(play, visits, offsets))
    table = {name: dict.fromkeys(OUTCOMES, 0) for name in dict.fromkeys(v.persona for v in visits)}
    for outcome in outcomes:
        if outcome is None or not outcome.requests:
            continue
        row = table[outcome.persona]
        refused = outcome.challenged or outcome.blocked or outcome.throttled or outcome.errors
        row["sessions"] += 1
        row["served"] += not refused
        row["challenged"] += outcome.challenged
        row["blocked"] += outcome.blocked
        row["throttled"] += outcome.throttled
        row["errors"] += outcome.errors
        row["records"] += len(outcome.records)
        row["pages"] += outcome.pages
    return table
