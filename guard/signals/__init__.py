"""Signals: cheap, explainable pieces of evidence that a client is automated."""

from __future__ import annotations

from guard.config import GuardConfig
from guard.signals.base import Finding, Report, Signal, StatelessSignal
from guard.signals.behaviour import BehaviourSignal
from guard.signals.harvest import HarvestBudgetSignal
from guard.signals.headers import HeaderSignal
from guard.signals.model import model_signal
from guard.signals.newcomer import NewcomerSurgeSignal
from guard.signals.rate_limit import RateLimitSignal
from guard.signals.strikes import AddressStrikeSignal
from guard.signals.user_agent import UserAgentSignal


def default_signals(config: GuardConfig) -> tuple[Signal, ...]:
    """The shipped signals, configured from ``config`` (the model last: it reads the others'
    findings and the behaviour profile)."""
    signals: tuple[Signal, ...] = (
        UserAgentSignal(config.robots_disallow),
        HeaderSignal(),
        RateLimitSignal(config),
        HarvestBudgetSignal(config),
        NewcomerSurgeSignal(config),  # before the behaviour signal, which weighs the surge
        BehaviourSignal(
            config.key_prefix,
            config.honeypot_paths,
            config.robots_disallow,
            cookies_tracked=config.mode == "enforce",
            utc_offset_hours=config.utc_offset_hours,
        ),
        AddressStrikeSignal(config.key_prefix, config.thresholds.block),
    )
    model = model_signal(config)
    return signals if model is None else (*signals, model)


__all__ = ["Finding", "Report", "Signal", "StatelessSignal", "default_signals"]
