"""Policy: from findings to a verdict (score, action, reasons)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from guard.config import Thresholds
from guard.scoring import combine
from guard.signals.base import Finding
from guard.types import Action

MAX_REASONS = 5


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision on one request; the app finds it in ``scope["guard"]``.

    Args:
        action: what the policy chose.
        score: the combined score from 0 to 1.
        reasons: the strongest findings' codes, strongest first.
        enforced: False in shadow mode, or when the guard could not decide (fail-open):
            the action is then logged but not applied.
        retry_after: seconds until a refusal would lift, when known.
    """

    action: Action
    score: float
    reasons: tuple[str, ...] = ()
    enforced: bool = True
    retry_after: float | None = None
    rate_policy: tuple[str, ...] = field(default=(), repr=False)
    exceeded_policy: str | None = field(default=None, repr=False)

    @property
    def refuses(self) -> bool:
        """Whether the request is refused (enforced throttle or block)."""
        return self.enforced and self.action >= Action.THROTTLE

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view for logs and APIs."""
        return {
            "action": self.action.label,
            "score": round(self.score, 4),
            "reasons": list(self.reasons),
            "enforced": self.enforced,
            "retry_after": self.retry_after,
        }


class Policy:
    """Chooses the action: the most severe of what findings force and what the score earns.

    ``thresholds`` may be replaced while serving (``policy.thresholds = Thresholds(...)``);
    the next request uses the new values.
    """

    def __init__(self, thresholds: Thresholds, enforced: bool) -> None:
        self.thresholds = thresholds
        self.enforced = enforced

    def decide(
        self, findings: Sequence[Finding], rate_policy: Sequence[str] = (), cleared: bool = False
    ) -> Verdict:
        """The verdict for one request's findings.

        A ``cleared`` client (it solved a challenge lately) is not sent to the gray zone
        again; a score at the block threshold and whatever findings force (budgets, rate
        limits) still apply, so a bot that solves the challenge and harvests is still stopped.
        """
        if not findings:
            return Verdict(Action.ALLOW, 0.0, (), self.enforced, None, tuple(rate_policy))
        t = self.thresholds
        score = combine(f.weight for f in findings)
        if score >= t.block:
            action = Action.BLOCK
        elif score >= t.gray and not cleared:
            action = t.gray_action
        else:
            action = Action.ALLOW
        action = max([action, *(f.action for f in findings)])
        ranked = sorted(findings, key=lambda f: (f.action, f.weight), reverse=True)
        retry = max((f.retry_after for f in findings if f.retry_after), default=None)
        # The RateLimit header pairs a policy with Retry-After: name the one that waits longest.
        limits = [f for f in findings if f.policy]
        exceeded = max(limits, key=lambda f: f.retry_after or 0.0).policy if limits else None
        return Verdict(
            action,
            score,
            tuple(f.reason for f in ranked[:MAX_REASONS]),
            self.enforced,
            retry,
            tuple(rate_policy),
            exceeded,
        )
