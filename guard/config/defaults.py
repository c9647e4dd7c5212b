"""The library's own defaults that are tables: its route classes and what a record class
gets. The scalar settings' defaults are their fields' in :mod:`guard.config.settings`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from guard.config.values import parse_bool

DEFAULT_ROUTES: Mapping[str, Any] = MappingProxyType(
    {
        "static": {
            "paths": ["/static/*", "/favicon.ico"],
            "static": True,
            "rates": {"ip": "600/minute"},
        },
        "default": {"paths": ["*"], "rates": {"ip": "120/minute", "network": "600/minute"}},
    }
)
"""The library's route classes, which a config's ``[routes.*]`` tables merge into. Nothing
is a record until a site declares it (``sensitive = true``); assets are also recognised by
file type and ``Sec-Fetch-Dest`` (see :mod:`guard.facts.routes`)."""


RECORD_LIMITS: Mapping[str, Any] = MappingProxyType(
    {
        "rates": {
            "ip": "30/minute",
            "network": "120/minute",
            "identity": "60/minute",
            "fingerprint": "600/minute",
        },
        "budgets": {
            "ip": ["120/hour", "400/day"],
            "network": ["300/hour"],
            "identity": ["100/hour", "400/day"],
            "fingerprint": ["2000/hour"],
        },
    }
)
"""What a route class declared ``sensitive = true`` gets unless it says otherwise (per actor
kind): a person reads a few records a minute and a few hundred a day at most; a harvester
wants thousands. An empty list (``budgets.fingerprint = []``) turns one budget off."""


def with_record_limits(routes: Mapping[str, Any]) -> dict[str, Any]:
    """``routes`` with :data:`RECORD_LIMITS` merged under every sensitive class."""
    return {
        name: merge(RECORD_LIMITS, spec)
        if isinstance(spec, Mapping)
        and parse_bool(f"routes.{name}.sensitive", spec.get("sensitive", False))
        else spec
        for name, spec in routes.items()
    }


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two config tables: tables merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        both_tables = isinstance(old, Mapping) and isinstance(value, Mapping)
        merged[key] = merge(old, value) if both_tables else value  # type: ignore[arg-type]
    return merged
