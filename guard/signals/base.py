"""What every signal shares: findings, the per-request report, and the Signal protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from guard.store.base import Op, Result
from guard.types import Action

if TYPE_CHECKING:
    from guard.config import Rate
    from guard.facts import Facts
    from guard.signals.profile import ClientProfile
    from guard.signals.rate_limit import RateRule
    from guard.types import ActorKind


@dataclass(slots=True)
class Finding:
    """One piece of evidence about a request.

    Args:
        reason: a short code such as ``rate_limit:ip`` or ``sequential_ids``.
        weight: how strongly it suggests automation, from 0 to 1; weights combine into the
            score.
        action: the least the policy must do whatever the score (rate limits and budgets
            force a refusal; most findings force nothing).
        retry_after: seconds until the refusal would lift, when known.
        policy: for rate limits, the ``RateLimit-Policy`` item, e.g. ``"ip";q=30;w=60``.
    """

    reason: str
    weight: float
    action: Action = Action.ALLOW
    retry_after: float | None = None
    policy: str | None = None


Budget = tuple[str, "ActorKind", "Rate"]
"""A harvest budget that applies to a request: (store key, actor kind, limit per window)."""


@dataclass(slots=True)
class Report:
    """What the signals found about one request, and what they keep until after it.

    Signals plan, judge and settle one request at different times (the store call and the
    app run in between), so what they work out once for a request lives here.
    """

    findings: list[Finding] = field(default_factory=list)
    profile: ClientProfile | None = None
    rate_rules: list[RateRule] = field(default_factory=list)
    rate_policies: list[str] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    newcomer_surge: bool = False
    newcomer_exceeded: bool = False
    clearance_revoked: bool = False

    def add(self, reason: str, weight: float, **kwargs: object) -> None:
        """Record a finding."""
        self.findings.append(Finding(reason, weight, **kwargs))  # type: ignore[arg-type]


class Signal(Protocol):
    """A source of evidence. The middleware batches every signal's ops into one store call."""

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        """The store reads and atomic updates this signal needs before judging."""
        ...

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        """Add findings to ``report`` from the facts and the results of :meth:`plan`."""
        ...

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        """The writes to make once the response status is known (after the response)."""
        ...


class StatelessSignal:
    """A signal that needs no store: only :meth:`judge` to write."""

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        return ()

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        return ()
