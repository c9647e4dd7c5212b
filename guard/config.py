"""Validated configuration: what the guard protects, how hard, and where its state lives.

Build one with :func:`GuardConfig.from_mapping` (a dict, as read from TOML) or
:func:`guard.config_file.load_config` (a TOML file plus ``GUARD_*`` environment variables).
Every value is checked once here, so the request path never re-validates.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from guard.errors import ConfigError
from guard.types import ACTOR_KINDS, Action, ActorKind, Mode

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")


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
    """A group of routes that share limits: e.g. ``sensitive`` record pages, ``static`` assets.

    Paths are templates: ``/resume/{id}`` binds ``id`` (the record a harvest budget counts),
    and a trailing ``*`` matches any rest of the path.
    """

    name: str
    paths: tuple[str, ...]
    sensitive: bool = False
    static: bool = False
    rates: Mapping[ActorKind, Rate] = field(default_factory=dict)
    budgets: Mapping[ActorKind, tuple[Rate, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Score cut-offs: at or above ``gray`` the ``gray_action`` applies, at ``block`` a 403."""

    gray: float = 0.6
    block: float = 0.9
    gray_action: Action = Action.CHALLENGE


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """Everything the middleware needs, validated. Immutable; build a new one to change it."""

    mode: Mode = "enforce"
    store_url: str = "memory://"
    fail_closed: bool = False
    secret: bytes | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    client_ip_header: str = "x-forwarded-for"
    tls_fingerprint_header: str | None = None
    identity_cookie: str = "session"
    tracking_cookie: str = "__guard"
    allow: tuple[IPNetwork, ...] = ()
    deny: tuple[IPNetwork, ...] = ()
    routes: tuple[RouteClass, ...] = ()
    thresholds: Thresholds = Thresholds()
    bot_rate: Rate = Rate(60, 60.0)
    honeypot_paths: tuple[str, ...] = ()
    robots_disallow: tuple[str, ...] = ()
    decision_log: str | None = None
    log_allow_sample: float = 0.0
    hash_ips_in_log: bool = False
    tarpit_delay: float = 3.0
    tarpit_max_concurrent: int = 32
    key_prefix: str = "guard"
    model: str = "off"
    utc_offset_hours: float = 0.0
    previous_secrets: tuple[bytes, ...] = ()
    challenge_difficulty: int = 16
    clearance_ttl: float = 3600.0
    good_bots: str | None = None
    verify_bots: str = "ranges"
    admin_token: str | None = None

    def route_class(self, name: str) -> RouteClass:
        """The route class called ``name``; raises KeyError if there is none."""
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(name)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GuardConfig:
        """Build a config from nested mappings shaped like the TOML file (see README).

        Raises:
            ConfigError: naming the first bad key and what was expected.
        """
        return _Reader(data).config()


def _defaults() -> dict[str, Any]:
    """The shipped policy: tuned for a site whose sensitive pages are personal records."""
    return {
        "routes": {
            "sensitive": {
                "paths": ["/resume/{id}", "/api/resumes/{id}"],
                "sensitive": True,
                "rates": {
                    "ip": "30/minute",
                    "network": "120/minute",
                    "identity": "60/minute",
                    "fingerprint": "600/minute",
                    "newcomer": "30/minute",
                },
                "budgets": {
                    "ip": ["120/hour", "400/day"],
                    "network": ["300/hour"],
                    "identity": ["100/hour", "400/day"],
                    "fingerprint": ["2000/hour"],
                },
            },
            "static": {
                "paths": ["/static/*", "/favicon.ico"],
                "static": True,
                "rates": {"ip": "600/minute"},
            },
            "default": {"paths": ["*"], "rates": {"ip": "120/minute", "network": "600/minute"}},
        },
        "honeypot_paths": ["/resumes/all"],
        "robots_disallow": ["/resume/", "/api/", "/resumes/all"],
    }


DEFAULTS: Mapping[str, Any] = MappingProxyType(_defaults())


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two config tables: tables merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        both_tables = isinstance(old, Mapping) and isinstance(value, Mapping)
        merged[key] = merge(old, value) if both_tables else value  # type: ignore[arg-type]
    return merged


LIST_KEYS = frozenset(
    {"trusted_proxies", "allow", "deny", "honeypot_paths", "robots_disallow", "previous_secrets"}
)
"""Top-level keys whose values are lists (comma-separated in environment variables)."""
SCALAR_KEYS = frozenset(
    {
        "mode",
        "store",
        "fail_closed",
        "secret",
        "client_ip_header",
        "tls_fingerprint_header",
        "identity_cookie",
        "tracking_cookie",
        "bot_rate",
        "decision_log",
        "log_allow_sample",
        "hash_ips_in_log",
        "tarpit_delay",
        "tarpit_max_concurrent",
        "key_prefix",
        "model",
        "utc_offset_hours",
        "challenge_difficulty",
        "clearance_ttl",
        "good_bots",
        "verify_bots",
        "admin_token",
    }
)
"""Top-level keys with one value each."""
TABLE_KEYS = frozenset({"routes", "thresholds"})
THRESHOLD_KEYS = frozenset({"gray", "block", "gray_action"})


class _Reader:
    """Walks a mapping and turns each value into its typed form, naming the key on error."""

    _TOP_KEYS = LIST_KEYS | SCALAR_KEYS | TABLE_KEYS

    def __init__(self, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"config: expected a table, got {type(data).__name__}")
        self.data = merge(_defaults(), data)

    def config(self) -> GuardConfig:
        unknown = sorted(set(self.data) - self._TOP_KEYS)
        if unknown:
            raise ConfigError(f"config: unknown key(s) {', '.join(unknown)}")
        d = self.data
        mode = self._choice("mode", d.get("mode", "enforce"), ("enforce", "shadow", "off"))
        secret = d.get("secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
            raise ConfigError("secret: expected a string of at least 16 characters")
        sample = self._number("log_allow_sample", d.get("log_allow_sample", 0.0), 0.0, 1.0)
        return GuardConfig(
            mode=mode,  # type: ignore[arg-type]
            store_url=self._string("store", d.get("store", "memory://")),
            fail_closed=self._bool("fail_closed", d.get("fail_closed", False)),
            secret=secret.encode() if secret else None,
            trusted_proxies=self._networks("trusted_proxies", d.get("trusted_proxies", [])),
            client_ip_header=self._choice(
                "client_ip_header",
                str(d.get("client_ip_header", "x-forwarded-for")).lower(),
                ("x-forwarded-for", "forwarded", "x-real-ip"),
            ),
            tls_fingerprint_header=self._header_name(d.get("tls_fingerprint_header")),
            identity_cookie=self._string("identity_cookie", d.get("identity_cookie", "session")),
            tracking_cookie=self._string("tracking_cookie", d.get("tracking_cookie", "__guard")),
            allow=self._networks("allow", d.get("allow", [])),
            deny=self._networks("deny", d.get("deny", [])),
            routes=self._routes(d.get("routes", {})),
            thresholds=self._thresholds(d.get("thresholds", {})),
            bot_rate=self._rate("bot_rate", d.get("bot_rate", "60/minute")),
            honeypot_paths=self._strings("honeypot_paths", d.get("honeypot_paths", [])),
            robots_disallow=self._strings("robots_disallow", d.get("robots_disallow", [])),
            decision_log=d.get("decision_log") and self._string("decision_log", d["decision_log"]),
            log_allow_sample=sample,
            hash_ips_in_log=self._bool("hash_ips_in_log", d.get("hash_ips_in_log", False)),
            tarpit_delay=self._number("tarpit_delay", d.get("tarpit_delay", 3.0), 0.0, 30.0),
            tarpit_max_concurrent=int(
                self._number("tarpit_max_concurrent", d.get("tarpit_max_concurrent", 32), 1, 1e5)
            ),
            key_prefix=self._string("key_prefix", d.get("key_prefix", "guard")),
            model=self._string("model", d.get("model", "off")),
            utc_offset_hours=self._number(
                "utc_offset_hours", d.get("utc_offset_hours", 0.0), -14.0, 14.0
            ),
            previous_secrets=tuple(
                s.encode() for s in self._strings("previous_secrets", d.get("previous_secrets", []))
            ),
            challenge_difficulty=int(
                self._number("challenge_difficulty", d.get("challenge_difficulty", 16), 1, 28)
            ),
            clearance_ttl=self._number(
                "clearance_ttl", d.get("clearance_ttl", 3600), 60, 86400 * 7
            ),
            good_bots=d.get("good_bots") and self._string("good_bots", d["good_bots"]),
            verify_bots=self._choice(
                "verify_bots", d.get("verify_bots", "ranges"), ("ranges", "dns", "off")
            ),
            admin_token=self._admin_token(d.get("admin_token")),
        )

    def _routes(self, value: Any) -> tuple[RouteClass, ...]:
        if not isinstance(value, Mapping) or not value:
            raise ConfigError("routes: expected a table of route classes")
        routes = tuple(self._route(str(name), spec) for name, spec in value.items())
        # A catch-all must come last or it would shadow every class after it.
        return tuple(sorted(routes, key=lambda r: r.paths == ("*",)))

    def _route(self, name: str, spec: Any) -> RouteClass:
        where = f"routes.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: expected a table")
        unknown = set(spec) - {"paths", "sensitive", "static", "rates", "budgets"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        paths = self._strings(f"{where}.paths", spec.get("paths", []))
        if not paths or any(not (p.startswith("/") or p == "*") for p in paths):
            raise ConfigError(f"{where}.paths: expected paths starting with '/' (or '*')")
        rates = {
            kind: self._rate(f"{where}.rates.{kind}", text)
            for kind, text in self._by_kind(f"{where}.rates", spec.get("rates", {})).items()
        }
        budgets = {
            kind: tuple(
                self._rate(f"{where}.budgets.{kind}", t)
                for t in ([texts] if isinstance(texts, str) else texts)
            )
            for kind, texts in self._by_kind(f"{where}.budgets", spec.get("budgets", {})).items()
        }
        sensitive = self._bool(f"{where}.sensitive", spec.get("sensitive", False))
        if budgets and not sensitive:
            raise ConfigError(f"{where}.budgets: budgets count records; set sensitive = true")
        return RouteClass(
            name=name,
            paths=paths,
            sensitive=sensitive,
            static=self._bool(f"{where}.static", spec.get("static", False)),
            rates=MappingProxyType(rates),
            budgets=MappingProxyType(budgets),
        )

    def _by_kind(self, where: str, value: Any) -> dict[ActorKind, Any]:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table keyed by actor kind")
        bad = [k for k in value if k not in ACTOR_KINDS]
        if bad:
            kinds = ", ".join(ACTOR_KINDS)
            raise ConfigError(f"{where}: unknown actor kind {bad[0]!r}; expected one of {kinds}")
        return dict(value)

    def _thresholds(self, value: Any) -> Thresholds:
        if not isinstance(value, Mapping):
            raise ConfigError("thresholds: expected a table")
        gray = self._number("thresholds.gray", value.get("gray", 0.6), 0.0, 1.0)
        block = self._number("thresholds.block", value.get("block", 0.9), 0.0, 1.0)
        if gray > block:
            raise ConfigError(f"thresholds: gray ({gray}) must not exceed block ({block})")
        try:
            action = Action.parse(str(value.get("gray_action", "challenge")))
        except ValueError as exc:
            raise ConfigError(f"thresholds.gray_action: {exc}") from None
        return Thresholds(gray=gray, block=block, gray_action=action)

    @staticmethod
    def _rate(where: str, value: Any) -> Rate:
        try:
            return Rate.parse(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @staticmethod
    def _networks(where: str, value: Any) -> tuple[IPNetwork, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{where}: expected a list of IPs or CIDR networks")
        try:
            return tuple(ipaddress.ip_network(str(item).strip(), strict=False) for item in items)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @staticmethod
    def _strings(where: str, value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{where}: expected a list of strings")
        return tuple(items)

    @staticmethod
    def _string(where: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
        return value

    @staticmethod
    def _bool(where: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        }:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{where}: expected true or false, got {value!r}")

    @staticmethod
    def _number(where: str, value: Any, low: float, high: float) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        if isinstance(value, bool) or not low <= number <= high:
            raise ConfigError(f"{where}: expected a number from {low:g} to {high:g}, got {value!r}")
        return number

    @staticmethod
    def _admin_token(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or len(value) < 16:
            raise ConfigError("admin_token: expected a string of at least 16 characters")
        return value

    @staticmethod
    def _choice(where: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    @staticmethod
    def _header_name(value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9-]+", value):
            raise ConfigError(f"tls_fingerprint_header: expected a header name, got {value!r}")
        return value.lower()
