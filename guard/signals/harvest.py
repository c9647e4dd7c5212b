"""Harvest budgets: how many distinct sensitive records each actor was served per window."""

from __future__ import annotations

from collections.abc import Sequence

from guard.config import GuardConfig, Rate
from guard.facts import Facts
from guard.signals.base import BaseSignal, Report
from guard.store.base import DISTINCT_BUCKETS, DistinctAdd, DistinctCount, Op, Result, actor_key
from guard.types import Action, ActorKind

Budget = tuple[str, ActorKind, Rate]
"""A harvest budget that applies to a request: (store key, actor kind, limit per window)."""
_WINDOW_NAMES = {3600.0: "hour", 86400.0: "day", 60.0: "minute"}


class HarvestBudgetSignal(BaseSignal):
    """Refuses a sensitive record to an actor that has already been served its budget.

    Only records actually served (2xx) count; they are added after the response. So that
    concurrent requests cannot all pass the check before any of them is counted, the check
    also takes an in-flight place on each budget, given back after the response: an actor
    is refused when served + in flight reaches the budget. Counts are distinct records, so
    re-reading is free until the budget is spent. Windows slide in quarter steps.
    """

    def __init__(self, config: GuardConfig) -> None:
        self.prefix = config.key_prefix
        self.budgets = {
            route.name: tuple(
                (kind, rate, f"b{rate.period:g}")
                for kind, rates in route.budgets.items()
                for rate in rates
            )
            for route in config.routes
        }

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        if facts.route.record_id is None:
            return ()
        actors = facts.actors
        budgets = [
            (actor_key(self.prefix, kind, actors[kind], purpose), kind, rate)
            for kind, rate, purpose in self.budgets.get(facts.route.route_class.name, ())
            if kind in actors
        ]
        report.keep(self, budgets)
        return [
            DistinctCount(key, rate.period, reserve=True, limit=rate.limit)
            for key, _, rate in budgets
        ]

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        budgets: list[Budget] = report.kept(self) or []
        for (_, kind, rate), taken in zip(budgets, results, strict=True):
            assert isinstance(taken, int)
            if taken >= rate.limit:
                window = _WINDOW_NAMES.get(rate.period, f"{rate.period:g}s")
                report.add(
                    f"harvest_budget:{kind}:{window}",
                    0.5,
                    action=Action.BLOCK,
                    retry_after=rate.period / DISTINCT_BUCKETS,
                )

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        record = facts.route.record_id if 200 <= status < 300 else None
        budgets: list[Budget] = report.kept(self) or []
        return [DistinctAdd(key, record, rate.period, release=True) for key, _, rate in budgets]
