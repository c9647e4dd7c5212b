"""The demo's policy: the library's defaults plus what the job board declares in guard.toml."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guard.config import GuardConfig
from guard.config_file import load_config, read_toml

DEMO_CONFIG = Path(__file__).with_name("guard.toml")
"""The demo's own config file, shipped with it."""


def demo_config(
    settings: Mapping[str, Any] | None = None,
    *,
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> GuardConfig:
    """The demo's config with ``path`` (a user's file, else the one ``GUARD_CONFIG`` names),
    ``env`` (``GUARD_*``; none when omitted) and then ``settings`` on top.

    Raises:
        ConfigError: a value is invalid.
    """
    return load_config(path, {} if env is None else env, settings, base=read_toml(DEMO_CONFIG))
