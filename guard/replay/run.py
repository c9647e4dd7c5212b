"""Replaying a log through one guard, or through two configs side by side."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from guard.config import GuardConfig
from guard.learn.events import Event
from guard.observe.decision_log import DecisionLog
from guard.replay.actors import ActorTally
from guard.replay.judge import LogJudge

ActorKey = tuple[str, str]
"""An actor: the client address and its user agent."""


@dataclass(slots=True)
class Outcome:
    """What one config did to a log: per actor, and requests by action and reason."""

    actors: dict[ActorKey, ActorTally] = field(default_factory=dict)
    actions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class Replay:
    """A log replayed under a config (``outcome``) and maybe a second one (``compared``)."""

    outcome: Outcome
    compared: Outcome | None
    requests: int
    seconds: float
    headers_logged: bool = False

    @property
    def per_second(self) -> float:
        """Requests judged a second, under every config together."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def replay_events(
    events: Iterable[Event],
    config: GuardConfig,
    compare: GuardConfig | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    decisions: DecisionLog | None = None,
    headers_logged: bool = False,
) -> Replay:
    """Judge ``events`` (a log's requests, in log order) under ``config`` and, when given,
    under ``compare`` too, in one pass.

    Args:
        events: the requests, e.g. from :func:`guard.learn.accesslog.read_combined`.
        config: the guard's config as it serves.
        compare: a second config to judge the same requests under.
        progress: called with the count of requests judged so far, now and then.
        decisions: where to write every decision under ``config`` (a decision log).
        headers_logged: the events carry the request headers: the header signal runs.
    """
    return asyncio.run(
        _replay(
            events,
            config,
            compare,
            progress=progress,
            decisions=decisions,
            headers_logged=headers_logged,
        )
    )


async def _replay(
    events: Iterable[Event],
    config: GuardConfig,
    compare: GuardConfig | None,
    *,
    progress: Callable[[int], None] | None,
    decisions: DecisionLog | None,
    headers_logged: bool,
) -> Replay:
    judges = [(LogJudge(config, headers_logged), Outcome())]
    if compare is not None:
        judges.append((LogJudge(compare, headers_logged), Outcome()))
    began = time.perf_counter()
    count = 0
    try:
        for count, event in enumerate(events, 1):
            agent = event.header("user-agent") or ""
            for judge, outcome in judges:
                decision = await judge.judge(event)
                tally = outcome.actors.get((event.client_ip, agent))
                if tally is None:
                    tally = outcome.actors[(event.client_ip, agent)] = ActorTally(
                        event.client_ip, agent
                    )
                tally.count(decision, event.status, event.time)
                if decisions is not None and outcome is judges[0][1]:
                    decisions.write(decision.facts, decision.verdict, event.status)
                verdict = decision.verdict
                outcome.actions[verdict.action.label] += 1
                if verdict.reasons and verdict.action.label != "allow":
                    outcome.reasons[verdict.reasons[0]] += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
    finally:
        for judge, _ in judges:
            await judge.aclose()
    seconds = time.perf_counter() - began
    return Replay(judges[0][1], judges[1][1] if compare else None, count, seconds, headers_logged)
