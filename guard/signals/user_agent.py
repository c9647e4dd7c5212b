"""User-agent signals: declared crawlers, automation libraries, missing or malformed UAs."""

from __future__ import annotations

from collections.abc import Sequence

from guard.facts import Facts
from guard.signals.base import BaseSignal, Report
from guard.store.base import Result

# (weight on sensitive or robots-disallowed routes, weight elsewhere). A declared crawler
# or an HTTP library is welcome on public listings but has no business reading records.
_WEIGHTS = {
    "declared_bot": (0.95, 0.1),
    "automation": (0.95, 0.5),
    "missing": (0.9, 0.7),
    "malformed": (0.7, 0.6),
    "other": (0.5, 0.2),
}
_ADMITTED = frozenset({"declared_bot", "automation", "missing"})
"""Kinds that are hard evidence on protected routes: no person's browser sends them."""

IMPOSTOR = 0.95
"""A UA claiming a known search engine from an address it does not use: refused anywhere."""


class UserAgentSignal(BaseSignal):
    """Scores what the User-Agent header admits to."""

    def __init__(self, robots_disallow: Sequence[str]) -> None:
        self.robots_disallow = tuple(robots_disallow)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        agent = facts.agent
        weights = _WEIGHTS.get(agent.kind)
        if weights is None:
            return
        protected = facts.route.route_class.sensitive or facts.path.startswith(self.robots_disallow)
        if facts.good_bot is not None and not facts.verified_bot:
            # It names a search engine from an address that engine does not use: it lies.
            report.add(f"impostor:{facts.good_bot}", IMPOSTOR, hard=True)
            return
        reason = f"{agent.kind}:{agent.family}" if agent.family else agent.kind
        # Saying "I am a crawler" (or a library, or nothing) on a record is no accident.
        hard = protected and agent.kind in _ADMITTED
        report.add(reason, weights[0] if protected else weights[1], hard=hard)
