"""The typed values a config holds (rates, route classes, thresholds) and their parsers.

Each parser takes the dotted key it reads (for the error message) and the raw value, as
TOML or an environment variable gives it, and returns the typed value or raises
:class:`~guard.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from guard.errors import ConfigError
from guard.types import ACTOR_KINDS, Action, ActorKind

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` events per ``period`` seconds, written ``"30/minute"`` or ``"100/2hours"``."""

    limit: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Read ``"N/unit"`` or ``"N/Kunits"`` (second, minute, hour, day)."""
        match = _RATE.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"expected a rate like '30/minute', got {text!r}")
        count, multiple, unit = match.groups()
        limit, period = int(count), _PERIODS[unit] * int(multiple or 1)
        if limit < 1 or period <= 0:
            raise ValueError(f"a rate needs a limit and a period of at least 1, got {text!r}")
        return cls(limit, period)

    def __str__(self) -> str:
        return f"{self.limit}/{self.period:g}s"


@dataclass(frozen=True, slots=True)
class RouteClass:
    """A group of routes that share limits: e.g. ``records`` pages, ``static`` assets.

    Paths are templates: ``/profile/{id}`` binds ``id`` (the record a harvest budget counts),
    and a trailing ``*`` matches any rest of the path.
    """

    name: str
    paths: tuple[str, ...]
    sensitive: bool = False
    static: bool = False
    shows_records: bool = False
    rates: Mapping[ActorKind, Rate] = field(default_factory=dict)
    budgets: Mapping[ActorKind, tuple[Rate, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Score cut-offs: at or above ``gray`` the ``gray_action`` applies, at ``block`` a 403."""

    gray: float = 0.6
    block: float = 0.9
    gray_action: Action = Action.CHALLENGE

    def __post_init__(self) -> None:
        if not 0.0 <= self.gray <= self.block <= 1.0:
            raise ConfigError(
                f"thresholds: expected 0 <= gray <= block <= 1, got gray={self.gray} "
                f"block={self.block}"
            )


def parse_rate(where: str, value: Any) -> Rate:
    """A rate such as ``"30/minute"``."""
    try:
        return Rate.parse(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_networks(where: str, value: Any) -> tuple[IPNetwork, ...]:
    """A list of IP addresses or CIDR networks (one string is a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"{where}: expected a list of IPs or CIDR networks")
    try:
        return tuple(ipaddress.ip_network(str(item).strip(), strict=False) for item in items)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_strings(where: str, value: Any) -> tuple[str, ...]:
    """A list of strings (one string is a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(items)


def parse_string(where: str, value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def parse_optional_string(where: str, value: Any) -> str | None:
    """A non-empty string, or nothing (an empty string means nothing)."""
    return None if value is None or value == "" else parse_string(where, value)


def parse_bool(where: str, value: Any) -> bool:
    """``true`` or ``false`` (or, from the environment, 1/0, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def parse_number(where: str, value: Any, low: float, high: float) -> float:
    """A number from ``low`` to ``high``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise ConfigError(f"{where}: expected a number from {low:g} to {high:g}, got {value!r}")
    return number


def parse_choice(where: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def parse_secret(where: str, value: Any) -> bytes | None:
    """A key of at least 16 characters, as bytes."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) < 16:
        raise ConfigError(f"{where}: expected a string of at least 16 characters")
    return value.encode()


def parse_header_name(where: str, value: Any) -> str | None:
    """An HTTP header name, lower-cased; empty means none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ConfigError(f"{where}: expected a header name, got {value!r}")
    return value.lower()


def parse_thresholds(where: str, value: Any) -> Thresholds:
    """The ``[thresholds]`` table."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table")
    unknown = sorted(set(value) - {"gray", "block", "gray_action"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    default = Thresholds()
    gray = parse_number(f"{where}.gray", value.get("gray", default.gray), 0.0, 1.0)
    block = parse_number(f"{where}.block", value.get("block", default.block), 0.0, 1.0)
    if gray > block:
        raise ConfigError(f"{where}: gray ({gray}) must not exceed block ({block})")
    try:
        action = Action.parse(str(value.get("gray_action", default.gray_action.label)))
    except ValueError as exc:
        raise ConfigError(f"{where}.gray_action: {exc}") from None
    return Thresholds(gray=gray, block=block, gray_action=action)


_REASON = re.compile(r"[a-z][a-z0-9_]*(:[A-Za-z0-9_.-]+)*")


def parse_reasons(where: str, value: Any) -> frozenset[str]:
    """A list of reason codes or families (``model``, ``automation:curl``)."""
    reasons = parse_strings(where, value)
    for reason in reasons:
        if not _REASON.fullmatch(reason):
            raise ConfigError(f"{where}: {reason!r} is not a reason code like 'no_cookies'")
    return frozenset(reasons)


def parse_weights(where: str, value: Any) -> Mapping[str, float]:
    """The ``[weights]`` table: a finding's reason (or its family) -> weight from 0 to 1."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table of reason = weight")
    weights: dict[str, float] = {}
    for reason, weight in value.items():
        if not isinstance(reason, str) or not _REASON.fullmatch(reason):
            raise ConfigError(f"{where}: {reason!r} is not a reason code like 'no_cookies'")
        weights[reason] = parse_number(f"{where}.{reason}", weight, 0.0, 1.0)
    return weights


def parse_routes(where: str, value: Any) -> tuple[RouteClass, ...]:
    """The ``[routes.<name>]`` tables, the catch-all class last."""
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"{where}: expected a table of route classes")
    routes = tuple(_route(f"{where}.{name}", str(name), spec) for name, spec in value.items())
    # A catch-all must come last or it would shadow every class after it.
    return tuple(sorted(routes, key=lambda r: r.paths == ("*",)))


def _route(where: str, name: str, spec: Any) -> RouteClass:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: expected a table")
    unknown = set(spec) - {"paths", "sensitive", "static", "shows_records", "rates", "budgets"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "paths" not in spec:
        raise ConfigError(f"{where}.paths: required (a new route class needs its paths)")
    paths = parse_strings(f"{where}.paths", spec["paths"])
    if not paths or any(not (p.startswith("/") or p == "*") for p in paths):
        raise ConfigError(f"{where}.paths: expected paths starting with '/' (or '*')")
    rates = {
        kind: parse_rate(f"{where}.rates.{kind}", text)
        for kind, text in _by_kind(f"{where}.rates", spec.get("rates", {})).items()
    }
    budgets = {
        kind: tuple(
            parse_rate(f"{where}.budgets.{kind}", t)
            for t in ([texts] if isinstance(texts, str) else texts)
        )
        for kind, texts in _by_kind(f"{where}.budgets", spec.get("budgets", {})).items()
    }
    sensitive = parse_bool(f"{where}.sensitive", spec.get("sensitive", False))
    if budgets and not sensitive:
        raise ConfigError(f"{where}.budgets: budgets count records; set sensitive = true")
    return RouteClass(
        name=name,
        paths=paths,
        sensitive=sensitive,
        static=parse_bool(f"{where}.static", spec.get("static", False)),
        shows_records=parse_bool(f"{where}.shows_records", spec.get("shows_records", False)),
        rates=MappingProxyType(rates),
        budgets=MappingProxyType(budgets),
    )


def _by_kind(where: str, value: Any) -> dict[ActorKind, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table keyed by actor kind")
    if "newcomer" in value:
        raise ConfigError(
            f"{where}.newcomer: the newcomer rate is gone; campaigns rotating addresses are "
            "now told from the site's own baseline (see campaign_floor and campaign_factor)"
        )
    bad = [k for k in value if k not in ACTOR_KINDS]
    if bad:
        kinds = ", ".join(ACTOR_KINDS)
        raise ConfigError(f"{where}: unknown actor kind {bad[0]!r}; expected one of {kinds}")
    return dict(value)
