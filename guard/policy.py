"""The live policy: mode, thresholds, weights and shadowed findings, and from findings to a
verdict.

One :class:`Policy` object per guard holds everything an operator may change while
serving. Every part that depends on those values (the engine, the challenge, the model and
strike signals, the facts) reads them from it at each request, so a change is seen
everywhere at once, and never copied at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from guard.config import Thresholds
from guard.config.values import parse_choice, parse_reasons, parse_weights
from guard.errors import ConfigError
from guard.scoring import Finding, combine
from guard.types import Action, Mode

MAX_REASONS = 5
MODES: tuple[Mode, ...] = ("enforce", "shadow", "off")


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
        incident: a short id for an enforced refusal or challenge, shown to the client and
            logged, so a person refused by mistake can quote it.
        shadowed: findings in the policy's ``shadow`` list: judged and logged, not counted.
    """

    action: Action
    score: float
    reasons: tuple[str, ...] = ()
    enforced: bool = True
    retry_after: float | None = None
    rate_policy: tuple[str, ...] = field(default=(), repr=False)
    exceeded_policy: str | None = field(default=None, repr=False)
    incident: str | None = None
    shadowed: tuple[str, ...] = ()

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
            "incident": self.incident,
            **({"shadowed": list(self.shadowed)} if self.shadowed else {}),
        }


class Policy:
    """The live policy. Change it while serving with :meth:`update` (or by assigning
    ``mode``, ``thresholds`` or ``weights``); each value is validated first.

    Args:
        mode: ``enforce``, ``shadow`` (judge and log, refuse nothing) or ``off``.
        thresholds: the score cut-offs.
        weights: finding weights by reason (``automation:curl``) or family (``automation``).
        shadow: reasons or families whose findings are judged and logged but not counted.
    """

    def __init__(
        self,
        mode: Mode = "enforce",
        thresholds: Thresholds | None = None,
        weights: Mapping[str, float] | None = None,
        shadow: Iterable[str] = (),
    ) -> None:
        self._mode: Mode = "enforce"
        self._thresholds = Thresholds()
        self._weights: Mapping[str, float] = MappingProxyType({})
        self._shadow: frozenset[str] = frozenset()
        self.update(
            mode=mode, thresholds=thresholds or Thresholds(), weights=weights or {}, shadow=shadow
        )

    @property
    def mode(self) -> Mode:
        """``enforce``, ``shadow`` or ``off``."""
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        self.update(mode=mode)

    @property
    def thresholds(self) -> Thresholds:
        """The score cut-offs."""
        return self._thresholds

    @thresholds.setter
    def thresholds(self, thresholds: Thresholds) -> None:
        self.update(thresholds=thresholds)

    @property
    def weights(self) -> Mapping[str, float]:
        """Finding weights that override the signals' own, by reason or reason family."""
        return self._weights

    @weights.setter
    def weights(self, weights: Mapping[str, float]) -> None:
        self.update(weights=weights)

    @property
    def shadow(self) -> frozenset[str]:
        """Reasons and families judged and logged but not counted (a signal on trial)."""
        return self._shadow

    @shadow.setter
    def shadow(self, shadow: Iterable[str]) -> None:
        self.update(shadow=shadow)

    @property
    def enforced(self) -> bool:
        """Whether verdicts are applied (and the guard sets its cookie): mode ``enforce``."""
        return self._mode == "enforce"

    def update(
        self,
        *,
        mode: Mode | None = None,
        thresholds: Thresholds | None = None,
        weights: Mapping[str, float] | None = None,
        shadow: Iterable[str] | None = None,
    ) -> None:
        """Change any of the values at once, all or nothing.

        Raises:
            ConfigError: a value is invalid; nothing is changed.
        """
        new_mode = self._mode if mode is None else parse_choice("mode", mode, MODES)
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise ConfigError(f"thresholds: expected Thresholds, got {thresholds!r}")
        new_weights = self._weights if weights is None else parse_weights("weights", weights)
        new_shadow = self._shadow if shadow is None else parse_reasons("shadow", list(shadow))
        self._mode = new_mode  # type: ignore[assignment]
        self._shadow = new_shadow
        self._thresholds = thresholds or self._thresholds
        self._weights = MappingProxyType(dict(new_weights))

    def weight(self, finding: Finding) -> float:
        """A finding's weight: the override for its reason or family, else its own."""
        weights = self._weights
        if not weights:
            return finding.weight
        found = weights.get(finding.reason)
        if found is None:
            found = weights.get(finding.reason.partition(":")[0], finding.weight)
        return found

    def combined(self, findings: Iterable[Finding]) -> float:
        """The score of ``findings`` with this policy's weights."""
        return combine(self.weight(f) for f in findings)

    def decide(
        self, findings: Sequence[Finding], rate_policy: Sequence[str] = (), cleared: bool = False
    ) -> Verdict:
        """The verdict for one request's findings: the most severe of what findings force
        and what the score earns.

        A score at the block threshold blocks only when hard evidence is part of it (see
        :class:`~guard.scoring.Finding`); on soft evidence alone it earns the gray action,
        so a person always has a way past. A ``cleared`` client (it solved a challenge
        lately, and its clearance still covers this request) is not sent to the gray zone
        again; hard evidence at the block threshold and whatever findings force (budgets,
        rate limits) still apply, so a bot that solves the challenge and harvests is stopped.
        """
        enforced = self._mode == "enforce"
        shadowed: tuple[str, ...] = ()
        if self._shadow and findings:
            shadowed = tuple(f.reason for f in findings if self._shadowed(f))[:MAX_REASONS]
            if shadowed:
                findings = [f for f in findings if not self._shadowed(f)]
        if not findings:
            return Verdict(
                Action.ALLOW, 0.0, (), enforced, None, tuple(rate_policy), shadowed=shadowed
            )
        t = self._thresholds
        weighed = [(self.weight(f), f) for f in findings]
        score = combine(w for w, _ in weighed)
        if score >= t.block and any(f.hard for f in findings):
            action = Action.BLOCK
        elif score >= t.gray and not cleared:
            action = t.gray_action
        else:
            action = Action.ALLOW
        action = max([action, *(f.action for f in findings)])
        ranked = sorted(weighed, key=lambda wf: (wf[1].action, wf[0]), reverse=True)
        retry = max((f.retry_after for f in findings if f.retry_after), default=None)
        # The RateLimit header pairs a policy with Retry-After: name the one that waits longest.
        limits = [f for f in findings if f.policy]
        exceeded = max(limits, key=lambda f: f.retry_after or 0.0).policy if limits else None
        return Verdict(
            action,
            score,
            tuple(f.reason for _, f in ranked[:MAX_REASONS]),
            enforced,
            retry,
            tuple(rate_policy),
            exceeded,
            shadowed=shadowed,
        )

    def _shadowed(self, finding: Finding) -> bool:
        reason = finding.reason
        return reason in self._shadow or reason.partition(":")[0] in self._shadow
