"""Harvest budgets: how many distinct sensitive records each actor was served per window."""

from __future__ import annotations

from collections.abc import Sequence

from guard.config import GuardConfig, Rate
from guard.facts import Facts
from guard.signals.base import Report
from guard.store.base import (
    DISTINCT_BUCKETS,
    CounterAdd,
    DistinctAdd,
    DistinctCount,
    Op,
    Result,
    actor_key,
)
from guard.types import Action, ActorKind

_WINDOW_NAMES = {3600.0: "hour", 86400.0: "day", 60.0: "minute"}
IN_FLIGHT_TTL = 30.0
"""A reservation left by a crashed worker expires this many seconds after the last change."""


class HarvestBudgetSignal:
    """Refuses a sensitive record to an actor that has already been served its budget.

    Only records actually served (2xx) count; they are added after the response. So that
    concurrent requests cannot all pass the check before any of them is counted, each
    request first reserves a place in an atomic in-flight counter per actor, released after
    the response: an actor is refused when served + in flight reaches the budget. Counts are
    distinct records, so re-reading is free until the budget is spent. Windows slide in
    quarter steps.
    """

    def __init__(self, config: GuardConfig) -> None:
        self.prefix = config.key_prefix

    def _budgets(self, facts: Facts) -> list[tuple[str, ActorKind, Rate]]:
        if facts.route.record_id is None:
            return []
        return [
            (actor_key(self.prefix, kind, facts.actors[kind], "records"), kind, rate)
            for kind, rates in facts.route.route_class.budgets.items()
            if kind in facts.actors
            for rate in rates
        ]

    def _in_flight(self, facts: Facts, delta: int) -> list[Op]:
        kinds = dict.fromkeys(kind for _, kind, _ in self._budgets(facts))
        return [
            CounterAdd(
                actor_key(self.prefix, kind, facts.actors[kind], "inflight"), delta, IN_FLIGHT_TTL
            )
            for kind in kinds
        ]

    def plan(self, facts: Facts) -> Sequence[Op]:
        counts = [
            DistinctCount(f"{key}:{rate.period:g}", rate.period)
            for key, _, rate in self._budgets(facts)
        ]
        return [*counts, *self._in_flight(facts, +1)]

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        budgets = self._budgets(facts)
        in_flight = dict(
            zip(dict.fromkeys(k for _, k, _ in budgets), results[len(budgets) :], strict=True)
        )
        for (_, kind, rate), served in zip(budgets, results, strict=False):
            assert isinstance(served, int)
            reserved = in_flight[kind]
            others = (reserved if isinstance(reserved, int) else 1) - 1
            if served + others >= rate.limit:
                window = _WINDOW_NAMES.get(rate.period, f"{rate.period:g}s")
                report.add(
                    f"harvest_budget:{kind}:{window}",
                    0.5,
                    action=Action.BLOCK,
                    retry_after=rate.period / DISTINCT_BUCKETS,
                )

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        release = self._in_flight(facts, -1)
        record = facts.route.record_id
        if record is None or not 200 <= status < 300:
            return release
        return [
            *release,
            *(
                DistinctAdd(f"{key}:{rate.period:g}", record, rate.period)
                for key, _, rate in self._budgets(facts)
            ),
        ]
