"""``guard check-config``: the effective configuration as TOML, each value with its source."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from guard.config.settings import SETTINGS, GuardConfig
from guard.config.values import Rate, RouteClass, Thresholds
from guard.config_file import Layers

_HIDDEN = frozenset({"secret", "previous_secrets", "admin_token"})
_UNITS = ((86400.0, "day"), (3600.0, "hour"), (60.0, "minute"), (1.0, "second"))


def redacted_url(url: str) -> str:
    """``url`` with any password (and user name) replaced by ``<set>``, for printing."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"<set>@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


def rate_text(rate: Rate) -> str:
    """A rate as the config writes it: ``"30/minute"``, ``"100/2hours"``."""
    for seconds, unit in _UNITS:
        count = rate.period / seconds
        if count >= 1 and count == int(count):
            return f"{rate.limit}/{unit}" if count == 1 else f"{rate.limit}/{int(count)}{unit}s"
    return f"{rate.limit}/{rate.period:g}seconds"  # pragma: no cover - parse never gives this


def toml_value(value: Any) -> str:
    """One value in TOML syntax (strings, numbers, booleans, rates, lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Rate):
        return json.dumps(rate_text(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, bytes):
        value = value.decode()
    return json.dumps(str(value))


def explain(config: GuardConfig, layers: Layers) -> str:
    """The effective ``config`` as TOML; a comment after each value says where it came from
    (``default`` for the library's own). Secrets are shown as set or not, never printed."""
    lines = [
        "# The effective guard configuration. After each value: where it came from",
        "# (default = the library's own; base = the app's shipped config; file, environment).",
    ]
    tables: list[str] = []
    for name, setting in SETTINGS.items():
        value = getattr(config, name)
        source = layers.source(setting.key) or "default"
        if setting.shape == "table":
            tables.extend(_table(setting.key, value, layers))
        elif not value and value is not False and not isinstance(value, int | float):
            lines.append(f"# {setting.key} is not set  # {source}")
        elif setting.key in _HIDDEN:
            shown = ["<set>"] * len(value) if isinstance(value, tuple) else "<set>"
            lines.append(f"{setting.key} = {toml_value(shown)}  # {source}")
        elif value is None:
            lines.append(f"# {setting.key} is not set  # {source}")
        elif setting.key == "store":
            lines.append(f"{setting.key} = {toml_value(redacted_url(value))}  # {source}")
        else:
            lines.append(f"{setting.key} = {toml_value(_plain(value))}  # {source}")
    return "\n".join([*lines, *tables]) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [str(item) if not isinstance(item, str | Rate) else item for item in value]
    return value


def _table(key: str, value: Any, layers: Layers) -> list[str]:
    if isinstance(value, Thresholds):
        items = {"gray": value.gray, "block": value.block, "gray_action": value.gray_action.label}
        return ["", f"[{key}]", *_items(items, layers, key)]
    if isinstance(value, Mapping):
        return ["", f"[{key}]", *_items(dict(value), layers, key)]
    lines: list[str] = []
    for route in value:
        assert isinstance(route, RouteClass)
        lines.extend(["", f"[routes.{route.name}]"])
        shape = {"paths": list(route.paths), "sensitive": route.sensitive, "static": route.static}
        lines.extend(_items(shape, layers, "routes", route.name))
        for part in ("rates", "budgets"):
            for kind, rates in getattr(route, part).items():
                source = layers.source("routes", route.name, part, kind) or "default"
                shown = toml_value(rates if isinstance(rates, Rate) else list(rates))
                lines.append(f"{part}.{kind} = {shown}  # {source}")
    return lines


def _items(items: Mapping[str, Any], layers: Layers, *keys: str) -> list[str]:
    return [
        f"{name} = {toml_value(value)}  # {layers.source(*keys, name) or 'default'}"
        for name, value in items.items()
    ]
