"""Rate limits on several keys at once: IP, network, fingerprint, identity (GCRA)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from guard.config import GuardConfig, Rate
from guard.facts import Facts
from guard.signals.base import Report
from guard.store.base import Op, RateHit, RateState, Result, actor_key
from guard.types import Action, ActorKind


class RateLimitSignal:
    """Spends one unit from every limit that applies to the request's route class.

    A rule applies when the request has that actor (no identity, no identity limit).
    Declared bots also meet ``bot_rate`` per IP on every route: polite crawling only.
    """

    def __init__(self, config: GuardConfig) -> None:
        self.prefix = config.key_prefix
        self.bot_rate = config.bot_rate

    def _rules(self, facts: Facts) -> list[tuple[str, ActorKind, Rate]]:
        route = facts.route.route_class
        rules: list[tuple[str, ActorKind, Rate]] = [
            (route.name, kind, rate) for kind, rate in route.rates.items() if kind in facts.actors
        ]
        if facts.agent.kind == "declared_bot":
            rules.append(("bot", "ip", self.bot_rate))
        return rules

    def plan(self, facts: Facts) -> Sequence[Op]:
        return [
            RateHit(
                actor_key(self.prefix, kind, facts.actors[kind], f"rate:{name}"),
                rate.limit,
                rate.period,
            )
            for name, kind, rate in self._rules(facts)
        ]

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        tightest: tuple[str, int, float] | None = None
        for (name, kind, rate), state in zip(self._rules(facts), results, strict=True):
            assert isinstance(state, RateState)
            label = f"{name}-{kind}"
            report.rate_policies.append(f'"{label}";q={rate.limit};w={math.ceil(rate.period)}')
            if not state.allowed:
                report.add(
                    f"rate_limit:{kind}", 0.3, action=Action.THROTTLE, retry_after=state.retry_after
                )
            if tightest is None or state.remaining < tightest[1]:
                tightest = (label, state.remaining, state.retry_after or state.reset_after)
        report.rate_remaining = tightest

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        return ()
