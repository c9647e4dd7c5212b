"""Rate limits on several keys at once: IP, network, fingerprint, identity (GCRA)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from guard.config import GuardConfig, Rate
from guard.facts import Facts
from guard.signals.base import BaseSignal, Evidence, Report
from guard.store.base import Op, RateHit, RateState, Result, actor_key
from guard.types import Action, ActorKind

RATE_POLICIES: Evidence[tuple[str, ...]] = Evidence("rate_policies")
"""The ``RateLimit-Policy`` items of the limits that applied to the request."""


@dataclass(frozen=True, slots=True)
class RateRule:
    """One limit of one route class on one actor kind, with its strings built once."""

    kind: ActorKind
    rate: Rate
    purpose: str
    policy: str

    @classmethod
    def of(cls, name: str, kind: ActorKind, rate: Rate) -> RateRule:
        label = f"{name}-{kind}"
        return cls(kind, rate, f"r:{name}", f'"{label}";q={rate.limit};w={math.ceil(rate.period)}')


class RateLimitSignal(BaseSignal):
    """Spends one unit from every limit that applies to the request's route class.

    A rule applies when the request has that actor (no identity, no identity limit).
    Declared bots also meet ``bot_rate`` per IP on every route: polite crawling only.
    """

    provides = (RATE_POLICIES,)

    def __init__(self, config: GuardConfig) -> None:
        self.prefix = config.key_prefix
        self.rules = {
            route.name: tuple(
                RateRule.of(route.name, kind, rate) for kind, rate in route.rates.items()
            )
            for route in config.routes
        }
        self.bot_rule = RateRule.of("bot", "ip", config.bot_rate)

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        actors = facts.actors
        rules = [r for r in self.rules.get(facts.route.route_class.name, ()) if r.kind in actors]
        if facts.agent.kind == "declared_bot":
            rules.append(self.bot_rule)
        report.keep(self, rules)
        return [
            RateHit(
                actor_key(self.prefix, r.kind, actors[r.kind], r.purpose),
                r.rate.limit,
                r.rate.period,
            )
            for r in rules
        ]

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        rules: list[RateRule] = report.kept(self) or []
        report.publish(RATE_POLICIES, tuple(rule.policy for rule in rules))
        for rule, state in zip(rules, results, strict=True):
            assert isinstance(state, RateState)
            if not state.allowed:
                report.add(
                    f"rate_limit:{rule.kind}",
                    0.3,
                    action=Action.THROTTLE,
                    retry_after=state.retry_after,
                    policy=rule.policy,
                )
