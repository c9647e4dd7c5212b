"""Clearance replay: one clearance cookie presented from many networks is revoked.

A clearance is bound to the network group it was earned in, so elsewhere it is simply not
honoured. A cookie that shows up from several networks at all has been copied out of the
browser that earned it (shared among a scraper's workers): it is revoked everywhere, its
own network included, and its bearer is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.challenge import Challenges
from guard.facts import Facts
from guard.signals.base import BaseSignal, Evidence, Report
from guard.store.base import DistinctAdd, DistinctCount, Op, Result, actor_key

MAX_NETWORKS = 3
"""A clearance seen from this many networks is revoked (a phone moving between Wi-Fi and
mobile data shows two)."""
REPLAYED = 0.6
CLEARANCE_REVOKED: Evidence[bool] = Evidence("clearance_revoked")
"""Whether the request's clearance cookie was seen from too many networks."""


class ClearanceReplaySignal(BaseSignal):
    """Counts the networks each clearance cookie arrives from.

    Args:
        challenges: the challenge service that signed the clearances.
        prefix: the store key prefix.
    """

    provides = (CLEARANCE_REVOKED,)

    def __init__(self, challenges: Challenges, prefix: str) -> None:
        self.challenges = challenges
        self.prefix = prefix

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        clearance = self.challenges.clearance_id(facts)
        if clearance is None:
            return ()
        key = actor_key(self.prefix, "global", "all", f"k:{clearance}")
        window = self.challenges.clearance_ttl
        return (
            DistinctAdd(key, facts.actors["network"], window),
            DistinctCount(key, window),
        )

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        if len(results) == 2 and isinstance(results[1], int) and results[1] >= MAX_NETWORKS:
            report.publish(CLEARANCE_REVOKED, True)
            report.add("clearance_replayed", REPLAYED)
