"""The newcomer surge: many clients without the guard's cookie reading records at once.

One client reading a record on its first visit is a person following a link. Hundreds doing
so within a minute, when the site usually sees a few, is a scraper rotating addresses, each
fresh client reading a record or two. Going over the route class's ``newcomer`` rate starts a
surge, and the surge lasts until ``SURGE_HOLD`` seconds after the rate was last exceeded
(so a scraper cannot slip through each time the rate refills). During a surge the behaviour
signal weighs new clients reading records (``newcomer_surge``).
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.config import GuardConfig
from guard.facts import Facts
from guard.signals.base import BaseSignal, Evidence, Report
from guard.signals.rate_limit import RateRule
from guard.signals.strikes import Strike
from guard.store.base import Op, RateHit, RateState, Result, ValueGet, ValuePut, actor_key

SURGE_HOLD = 600.0
SURGE: Evidence[bool] = Evidence("newcomer_surge")
"""Whether newcomers are reading records faster than the ``newcomer`` rate (or were lately)."""


class NewcomerSurgeSignal(BaseSignal):
    """Counts record reads by newcomers sitewide and keeps the surge state in the store."""

    provides = (SURGE,)

    def __init__(self, config: GuardConfig) -> None:
        prefix = config.key_prefix
        self.rules: dict[str, tuple[str, RateRule]] = {}
        for route in config.routes:
            if "newcomer" in route.rates:
                rule = RateRule.of(route.name, "newcomer", route.rates["newcomer"])
                self.rules[route.name] = (actor_key(prefix, "newcomer", "all", rule.purpose), rule)
        self.surge_key = actor_key(prefix, "newcomer", "all", "surge")

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        found = self.rules.get(facts.route.route_class.name)
        if found is None or "newcomer" not in facts.actors:
            return ()
        key, rule = found
        return (RateHit(key, rule.rate.limit, rule.rate.period), ValueGet(self.surge_key, Strike))

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        if not results:
            return
        state, surge = results
        exceeded = isinstance(state, RateState) and not state.allowed
        recent = isinstance(surge, Strike) and facts.now - surge.at < SURGE_HOLD
        report.publish(SURGE, exceeded or recent)
        report.keep(self, exceeded)

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        if not report.kept(self):
            return ()
        return (ValuePut(self.surge_key, Strike(facts.now), SURGE_HOLD),)
