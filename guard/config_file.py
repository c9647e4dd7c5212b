"""Read a :class:`GuardConfig` from a TOML file and ``GUARD_*`` environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.config import SETTINGS, GuardConfig, merge
from guard.errors import ConfigError

_NOT_SETTINGS = frozenset({"GUARD_CONFIG"})
_THRESHOLD_KEYS = frozenset({"gray", "block", "gray_action"})


@dataclass(frozen=True, slots=True)
class Layers:
    """The tables a config is built from, lowest first: base (e.g. the demo's), file,
    environment, overrides (e.g. command-line flags). Anything in none of them is a default."""

    base: Mapping[str, Any]
    file: Mapping[str, Any]
    env: Mapping[str, Any]
    overrides: Mapping[str, Any]
    path: str | None = None

    def merged(self) -> dict[str, Any]:
        """All layers merged, the later over the earlier."""
        return merge(merge(merge(self.base, self.file), self.env), self.overrides)

    def source(self, *keys: str) -> str | None:
        """Which layer last set the key at ``keys`` (a path into the tables); None: default."""
        found = None
        for name, table in (
            ("base", self.base),
            ("file", self.file),
            ("environment", self.env),
            ("override", self.overrides),
        ):
            value: Any = table
            for key in keys:
                value = value.get(key) if isinstance(value, Mapping) else None
            if value is not None:
                found = name
        return found


def load_layers(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: Mapping[str, Any] | None = None,
) -> Layers:
    """Read the layers :func:`load_config` merges, without validating them."""
    env = os.environ if env is None else env
    path = path or env.get("GUARD_CONFIG")
    return Layers(
        base or {},
        read_toml(path) if path else {},
        env_overrides(env),
        overrides or {},
        str(path) if path else None,
    )


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: Mapping[str, Any] | None = None,
) -> GuardConfig:
    """Load ``base``, then the TOML file at ``path`` (if any), then environment, then
    ``overrides``; what none of them sets keeps the library's default.

    Environment variables are ``GUARD_<KEY>`` for top-level keys (lists comma-separated, e.g.
    ``GUARD_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16``) and ``GUARD_THRESHOLDS_<KEY>``.
    ``GUARD_CONFIG`` names the file when ``path`` is None.

    Raises:
        ConfigError: the file is missing or not TOML, or a value is invalid.
    """
    return GuardConfig.from_mapping(load_layers(path, env, overrides, base).merged())


def read_toml(path: str | Path) -> dict[str, Any]:
    """A config file's table: its ``[guard]`` table if it has one, else the whole file."""
    try:
        with Path(path).open("rb") as handle:
            data: Any = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    data = data.get("guard", data)
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: [guard] must be a table")
    return data


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The config table that ``GUARD_*`` variables describe; unknown names are an error."""
    shapes = {s.key: s.shape for s in SETTINGS.values()}
    table: dict[str, Any] = {}
    thresholds: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith("GUARD_") or name in _NOT_SETTINGS:
            continue
        key = name.removeprefix("GUARD_").lower()
        sub = key.removeprefix("thresholds_")
        if shapes.get(key) == "list":
            table[key] = [item.strip() for item in value.split(",") if item.strip()]
        elif shapes.get(key) == "scalar":
            table[key] = value
        elif key.startswith("thresholds_") and sub in _THRESHOLD_KEYS:
            thresholds[sub] = value
        elif shapes.get(key) == "table":
            raise ConfigError(f"environment variable {name}: set [{key}] in the config file")
        else:
            raise ConfigError(f"environment variable {name}: not a guard setting")
    if thresholds:
        table["thresholds"] = thresholds
    return table
