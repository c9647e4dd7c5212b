"""guard: ASGI middleware that stops bulk harvesting of personal data."""

from __future__ import annotations

from guard.config import GuardConfig, Rate, RouteClass, Thresholds
from guard.config_file import load_config
from guard.errors import ConfigError, GuardError, StorageError
from guard.middleware import GuardMiddleware
from guard.policy import Verdict
from guard.types import Action

__all__ = [
    "Action",
    "ConfigError",
    "GuardConfig",
    "GuardError",
    "GuardMiddleware",
    "Rate",
    "RouteClass",
    "StorageError",
    "Thresholds",
    "Verdict",
    "load_config",
]
__version__ = "0.1.0"
