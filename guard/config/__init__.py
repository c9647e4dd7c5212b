"""Validated configuration: what the guard protects, how hard, and where its state lives.

Build one with :meth:`GuardConfig.from_mapping` (a dict, as read from TOML) or
:func:`guard.config_file.load_config` (a TOML file plus ``GUARD_*`` environment variables).
Every value is checked once here, so the request path never re-validates.
"""

from __future__ import annotations

from guard.config.defaults import DEFAULT_ROUTES, RECORD_LIMITS, merge
from guard.config.settings import SETTINGS, GuardConfig, Setting
from guard.config.values import IPNetwork, Rate, RouteClass, Thresholds

__all__ = [
    "DEFAULT_ROUTES",
    "RECORD_LIMITS",
    "SETTINGS",
    "GuardConfig",
    "IPNetwork",
    "Rate",
    "RouteClass",
    "Setting",
    "Thresholds",
    "merge",
]
