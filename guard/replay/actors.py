"""What replay learned about each actor (a client address with its user agent)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from guard.engine import Decision
from guard.types import Action

TOP_REASONS = 5


@dataclass(slots=True)
class ActorTally:
    """One actor's requests and the guard's verdicts on them.

    Attributes:
        ip: the client address the log names.
        ua: its user agent ('' when the log has none).
        requests: requests judged.
        records: records the site served it (sensitive routes answered 2xx).
        first: the time of its first request (seconds since the epoch).
        last: the time of its last.
        action: the most severe action the guard chose for it.
        max_score: its highest score.
        challenged: requests the guard would have challenged.
        refused: requests it would have refused (429 or 403).
        reasons: how often each reason led a verdict other than allow.
    """

    ip: str
    ua: str
    requests: int = 0
    records: int = 0
    first: float = 0.0
    last: float = 0.0
    action: Action = Action.ALLOW
    max_score: float = 0.0
    challenged: int = 0
    refused: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def actor(self) -> str:
        """The actor's name: address and user agent."""
        return f"{self.ip} {self.ua or '-'}"

    def count(self, decision: Decision, status: int, when: float) -> None:
        """Add one judged request that the site answered with ``status``."""
        verdict, facts = decision.verdict, decision.facts
        if not self.requests:
            self.first = when
        self.requests += 1
        self.last = max(self.last, when)
        self.records += facts.route.route_class.sensitive and 200 <= status < 300
        self.action = max(self.action, verdict.action)
        self.max_score = max(self.max_score, verdict.score)
        self.challenged += verdict.action is Action.CHALLENGE
        self.refused += verdict.action >= Action.THROTTLE
        if verdict.action is not Action.ALLOW and verdict.reasons:
            self.reasons[verdict.reasons[0]] += 1

    def as_dict(self) -> dict[str, object]:
        """The JSON line ``guard replay --json`` writes for this actor."""
        return {
            "actor": self.actor,
            "ip": self.ip,
            "ua": self.ua,
            "requests": self.requests,
            "records": self.records,
            "first": _iso(self.first),
            "last": _iso(self.last),
            "action": self.action.label,
            "max_score": round(self.max_score, 4),
            "reasons": dict(self.reasons.most_common(TOP_REASONS)),
            "challenged": self.challenged,
            "refused": self.refused,
        }


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
