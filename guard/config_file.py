"""Read a :class:`GuardConfig` from a TOML file and ``GUARD_*`` environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guard.config import LIST_KEYS, SCALAR_KEYS, THRESHOLD_KEYS, GuardConfig, merge
from guard.errors import ConfigError

_NOT_SETTINGS = frozenset({"GUARD_CONFIG"})


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> GuardConfig:
    """Load the TOML file at ``path`` (if any), then environment, then ``overrides``.

    Environment variables are ``GUARD_<KEY>`` for top-level keys (lists comma-separated, e.g.
    ``GUARD_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16``) and ``GUARD_THRESHOLDS_<KEY>``.
    ``GUARD_CONFIG`` names the file when ``path`` is None.

    Raises:
        ConfigError: the file is missing or not TOML, or a value is invalid.
    """
    env = os.environ if env is None else env
    path = path or env.get("GUARD_CONFIG")
    data: dict[str, Any] = {}
    if path:
        try:
            with Path(path).open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
        data = data.get("guard", data)
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path}: [guard] must be a table")
    return GuardConfig.from_mapping(merge(merge(data, env_overrides(env)), overrides or {}))


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The config table that ``GUARD_*`` variables describe; unknown names are an error."""
    table: dict[str, Any] = {}
    thresholds: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith("GUARD_") or name in _NOT_SETTINGS:
            continue
        key = name.removeprefix("GUARD_").lower()
        if key in LIST_KEYS:
            table[key] = [item.strip() for item in value.split(",") if item.strip()]
        elif key in SCALAR_KEYS:
            table[key] = value
        elif key.removeprefix("thresholds_") in THRESHOLD_KEYS and key.startswith("thresholds_"):
            thresholds[key.removeprefix("thresholds_")] = value
        else:
            raise ConfigError(f"environment variable {name}: not a guard setting")
    if thresholds:
        table["thresholds"] = thresholds
    return table
