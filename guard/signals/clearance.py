"""Clearances: what a solved challenge covers, and clearances copied between networks.

A solved challenge lowers suspicion; it never erases evidence. A clearance covers a bounded
number of records (``clearance_records``; fewer when it was earned during a campaign): each
record read costs one, and one the client was never shown costs ``COLD_COST``. Once it is
spent, the client's soft evidence counts again, and if that earns a challenge the client
solves another. So a farm solving challenges pays proof of work for every few records,
while a person reading what the site shows them rarely meets a second challenge.

A clearance is bound to the network group it was earned in, so elsewhere it is simply not
honoured. A cookie that shows up from several networks at all has been copied out of the
browser that earned it (shared among a scraper's workers), or that browser travelled far:
it is revoked everywhere, its own network included, and its bearers must earn another.
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.challenge import Challenges
from guard.facts import Facts
from guard.signals.base import BaseSignal, Evidence, Report
from guard.signals.discovery import DISCOVERY
from guard.store.base import (
    DistinctAdd,
    DistinctCount,
    Op,
    RateHit,
    RateState,
    Result,
    actor_key,
)

MAX_NETWORKS = 3
"""A clearance seen from this many networks is revoked (a phone moving between Wi-Fi and
mobile data shows two)."""
REPLAYED = 0.6
COLD_COST = 4
REFILL = 8
"""What a clearance covers refills over ``REFILL`` times its lifetime: barely at all."""
"""What reading a record the client was never shown costs a clearance (a shown one: 1)."""
CLEARED: Evidence[bool] = Evidence("cleared")
"""Whether the request's clearance is valid, bound to this client, not copied, and still
covers this request."""


class ClearanceSignal(BaseSignal):
    """Spends the request's clearance on records and counts the networks it arrives from.

    Args:
        challenges: the challenge service that signed the clearances.
        prefix: the store key prefix.
    """

    reads = (DISCOVERY,)
    provides = (CLEARED,)

    def __init__(self, challenges: Challenges, prefix: str) -> None:
        self.challenges = challenges
        self.prefix = prefix

    def _key(self, clearance: str) -> str:
        return actor_key(self.prefix, "global", "all", f"k:{clearance}")

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        clearance = self.challenges.clearance_id(facts)
        if clearance is None:
            return ()
        key, window = self._key(clearance), self.challenges.clearance_ttl
        ops: list[Op] = [
            DistinctAdd(key, facts.actors["network"], window),
            DistinctCount(key, window),
        ]
        record = facts.route.record_id is not None and facts.route.route_class.sensitive
        if record and self.challenges.cleared(facts):
            covers = max(self.challenges.covers(facts), 1)
            ops.append(RateHit(key + ":r", covers, window * REFILL))
        return ops

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        if len(results) < 2:
            report.publish(CLEARED, False)
            return
        cleared = self.challenges.cleared(facts)
        if isinstance(results[1], int) and results[1] >= MAX_NETWORKS:
            report.publish(CLEARED, False)
            # Soft: a laptop that earned it may have moved twice; copies earn nothing more.
            report.add("clearance_replayed", REPLAYED)
            return
        if len(results) == 3:
            hit = results[2]
            cost = COLD_COST if report.read(DISCOVERY) is False else 1
            # The first unit was spent in the batch; the rest of a cold read's cost must be
            # left too, or the clearance does not cover it.
            left = isinstance(hit, RateState) and hit.allowed and hit.remaining >= cost - 1
            cleared = cleared and left
            report.keep(self, left and cost > 1)  # a cold read covered: charge the rest
        report.publish(CLEARED, cleared)

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        clearance = self.challenges.clearance_id(facts)
        if not report.kept(self) or clearance is None or not 200 <= status < 400:
            return ()  # a read refused (or failed) reads nothing: no more is charged
        covers = max(self.challenges.covers(facts), 1)
        key = self._key(clearance) + ":r"
        return (RateHit(key, covers, self.challenges.clearance_ttl * REFILL, COLD_COST - 1),)
