"""The score: how likely the client is automated, combined from the findings' weights."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from guard.types import Action


@dataclass(slots=True)
class Finding:
    """One piece of evidence about a request.

    Args:
        reason: a short code such as ``rate_limit:ip`` or ``sequential_ids``.
        weight: how strongly it suggests automation, from 0 to 1; weights combine into the
            score (the policy may override them by reason).
        action: the least the policy must do whatever the score (rate limits and budgets
            force a refusal; most findings force nothing).
        retry_after: seconds until the refusal would lift, when known.
        policy: for rate limits, the ``RateLimit-Policy`` item, e.g. ``"ip";q=30;w=60``.
        hard: evidence a person cannot produce by accident (a declared automation client on
            records, an impostor, a honeypot, robots.txt ignored, proven enumeration, a
            copied clearance). Only a score that includes hard evidence may block; soft
            evidence (headers, timing, the model, population signals) can only challenge.
    """

    reason: str
    weight: float
    action: Action = Action.ALLOW
    retry_after: float | None = None
    policy: str | None = None
    hard: bool = False


class Scorer(Protocol):
    """A model that turns behaviour features into a probability of automation."""

    def score(self, features: Mapping[str, float]) -> float:
        """A probability from 0 (a person) to 1 (a machine)."""
        ...


def combine(weights: Iterable[float]) -> float:
    """Noisy-OR: each finding is independent evidence, ``1 - prod(1 - w)``.

    Two 0.5 findings give 0.75, three give 0.875; a 0.95 finding alone gives 0.95. It never
    exceeds 1 and adding evidence never lowers it, so every reason moves the score one way.
    """
    doubt = 1.0
    for weight in weights:
        doubt *= 1.0 - min(max(weight, 0.0), 1.0)
    return 1.0 - doubt
