"""guard: ASGI middleware that stops bulk harvesting of personal data."""

from __future__ import annotations

from guard.actions import Refusal, default_responder
from guard.config import GuardConfig, Rate, RouteClass, Thresholds
from guard.config_file import load_config
from guard.engine import Decision, Guard
from guard.errors import ConfigError, GuardError, StorageError
from guard.middleware import GuardMiddleware
from guard.policy import Policy, Verdict
from guard.types import Action

__all__ = [
    "Action",
    "ConfigError",
    "Decision",
    "Guard",
    "GuardConfig",
    "GuardError",
    "GuardMiddleware",
    "Policy",
    "Rate",
    "Refusal",
    "RouteClass",
    "StorageError",
    "Thresholds",
    "Verdict",
    "default_responder",
    "load_config",
]
__version__ = "0.1.0"
