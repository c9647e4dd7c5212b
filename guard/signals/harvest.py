"""Harvest budgets: how many distinct sensitive records each actor was served per window."""

from __future__ import annotations

from collections.abc import Sequence

from guard.config import GuardConfig, Rate
from guard.facts import Facts
from guard.signals.base import Report
from guard.store.base import DISTINCT_BUCKETS, DistinctAdd, DistinctCount, Op, Result, actor_key
from guard.types import Action, ActorKind

_WINDOW_NAMES = {3600.0: "hour", 86400.0: "day", 60.0: "minute"}


class HarvestBudgetSignal:
    """Refuses a sensitive record to an actor that has already been served its budget.

    Only records actually served (2xx) count, and only after the response, so a refused or
    missing record costs nothing. Counts are distinct records, so re-reading is free until
    the budget is spent. Windows slide in quarter steps.
    """

    def __init__(self, config: GuardConfig) -> None:
        self.prefix = config.key_prefix

    def _budgets(self, facts: Facts) -> list[tuple[str, ActorKind, Rate]]:
        if facts.route.record_id is None:
            return []
        return [
            (
                actor_key(self.prefix, kind, facts.actors[kind], f"records:{rate.period:g}"),
                kind,
                rate,
            )
            for kind, rates in facts.route.route_class.budgets.items()
            if kind in facts.actors
            for rate in rates
        ]

    def plan(self, facts: Facts) -> Sequence[Op]:
        return [DistinctCount(key, rate.period) for key, _, rate in self._budgets(facts)]

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        for (_, kind, rate), served in zip(self._budgets(facts), results, strict=True):
            assert isinstance(served, int)
            if served >= rate.limit:
                window = _WINDOW_NAMES.get(rate.period, f"{rate.period:g}s")
                report.add(
                    f"harvest_budget:{kind}:{window}",
                    0.5,
                    action=Action.BLOCK,
                    retry_after=rate.period / DISTINCT_BUCKETS,
                )

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        record = facts.route.record_id
        if record is None or not 200 <= status < 300:
            return ()
        return [DistinctAdd(key, record, rate.period) for key, _, rate in self._budgets(facts)]
