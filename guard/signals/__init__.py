"""Signals: cheap, explainable pieces of evidence that a client is automated."""

from __future__ import annotations

from guard.config import GuardConfig
from guard.policy import Policy
from guard.signals.base import (
    FINDINGS,
    BaseSignal,
    Evidence,
    Finding,
    Report,
    Signal,
    order_signals,
)
from guard.signals.behaviour import BehaviourSignal
from guard.signals.campaign import CampaignSignal
from guard.signals.discovery import DiscoverySignal
from guard.signals.exposure import Exposure
from guard.signals.harvest import HarvestBudgetSignal
from guard.signals.headers import HeaderSignal
from guard.signals.model import model_signal
from guard.signals.rate_limit import RateLimitSignal
from guard.signals.strikes import AddressStrikeSignal
from guard.signals.unlisted import UnlistedSignal
from guard.signals.user_agent import UserAgentSignal


def default_signals(config: GuardConfig, policy: Policy) -> tuple[Signal, ...]:
    """The built-in signals, configured from ``config`` and reading the live ``policy``
    (the model only when ``config.model`` asks for it and it loads)."""
    exposure = Exposure(config.key_prefix)
    signals: tuple[Signal, ...] = (
        UserAgentSignal(config.robots_disallow),
        HeaderSignal(),
        RateLimitSignal(config),
        HarvestBudgetSignal(config),
        BehaviourSignal(
            config.key_prefix,
            config.honeypot_paths,
            config.robots_disallow,
            policy,
            utc_offset_hours=config.utc_offset_hours,
        ),
        DiscoverySignal(config, exposure),
        CampaignSignal(config),
        UnlistedSignal(config, exposure),
        AddressStrikeSignal(config.key_prefix, policy),
    )
    model = model_signal(config, policy)
    return signals if model is None else (*signals, model)


__all__ = [
    "FINDINGS",
    "BaseSignal",
    "Evidence",
    "Finding",
    "Report",
    "Signal",
    "default_signals",
    "order_signals",
]
