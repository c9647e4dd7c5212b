"""The model signal: the trained behaviour model's probability, as one weighted finding."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from guard.config import GuardConfig
from guard.errors import ModelError
from guard.facts import Facts
from guard.model.features import features
from guard.model.runtime import Model, load_model
from guard.policy import Policy
from guard.signals.base import FINDINGS, BaseSignal, Report
from guard.signals.behaviour import PROFILE
from guard.store.base import Result

logger = logging.getLogger("guard")

MIN_WEIGHT = 0.1
"""Weaker model findings are left out: they would only crowd the reasons of ordinary verdicts."""
BELOW_BLOCK = 0.05
"""The model alone stops this far short of the block threshold: on its own it challenges
(people pass, scripts do not), and it blocks only with some other evidence beside it."""


class ModelSignal(BaseSignal):
    """Scores each request for a sensitive record with the behaviour model, over the
    client's profile. Other pages are not scored: what the guard protects is records, and a
    script fetching the job list is nobody's business but the rate limits'.

    The model's probability maps onto the policy's scale so that its own thresholds line
    up with the policy's: the model's challenge threshold becomes the gray threshold, and
    from its block threshold up the weight stays just under the policy's block threshold, so
    that the model alone challenges and blocks only with another finding beside it (with
    the defaults, any finding of 0.34 or more). It then combines with the rule findings like
    any other evidence. It reads the behaviour profile and the other signals' findings.

    Args:
        model: the loaded model.
        policy: the live policy (thresholds and mode, read at each request).
    """

    reads = (PROFILE, FINDINGS)

    def __init__(self, model: Model, policy: Policy) -> None:
        self.model = model
        self.policy = policy

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        profile = report.read(PROFILE)
        if profile is None or not facts.route.route_class.sensitive:
            return
        vector = features(facts, profile, report, self.policy.enforced)
        weight = self.weight(self.model.score(vector))
        if weight < MIN_WEIGHT:
            return
        top = self.model.explain(vector) if weight >= self.policy.thresholds.gray else []
        report.add("model:" + "+".join(top) if top else "model", weight)

    def weight(self, probability: float) -> float:
        """The finding weight for a model probability (piecewise linear, never falling)."""
        c, b = self.model.challenge, self.model.block
        thresholds = self.policy.thresholds
        gray = thresholds.gray
        top = max(thresholds.block - BELOW_BLOCK, gray)
        if probability < c:
            return gray * probability / c
        if probability < b:
            return gray + (top - gray) * (probability - c) / (b - c)
        return top


def model_signal(config: GuardConfig, policy: Policy) -> ModelSignal | None:
    """The model signal ``config.model`` asks for: None when it is ``off`` or will not load
    (then the guard runs on its rules alone, and says so loudly)."""
    if config.model == "off":
        return None
    try:
        model = load_model(None if config.model == "shipped" else config.model)
    except ModelError as exc:
        logger.error("guard: behaviour model unavailable, running on rules alone: %s", exc)
        return None
    return ModelSignal(model, policy)
