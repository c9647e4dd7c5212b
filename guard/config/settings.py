"""GuardConfig: every setting, its default, its parser and its documentation, in one place.

The dataclass's fields are the schema: :meth:`GuardConfig.from_mapping` reads each key with
its field's parser, keys left out keep the field's default, the ``GUARD_*`` environment
variables are named after the same keys, and ``docs/configuration.md`` is generated from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import partial
from types import MappingProxyType
from typing import Any, Literal

from guard.config.defaults import DEFAULT_ROUTES, merge, with_record_limits
from guard.config.values import (
    IPNetwork,
    Rate,
    RouteClass,
    Thresholds,
    parse_bool,
    parse_choice,
    parse_header_name,
    parse_networks,
    parse_number,
    parse_optional_string,
    parse_rate,
    parse_reasons,
    parse_routes,
    parse_secret,
    parse_string,
    parse_strings,
    parse_thresholds,
    parse_weights,
)
from guard.errors import ConfigError
from guard.types import Mode

Shape = Literal["scalar", "list", "table"]


@dataclass(frozen=True, slots=True)
class Setting:
    """What the schema knows of one key: its TOML name, parser, shape and documentation."""

    key: str
    doc: str
    form: str
    parse: Callable[[str, Any], Any]
    shape: Shape = "scalar"
    live: bool = False


def _setting(
    default: Any,
    key: str,
    form: str,
    doc: str,
    parse: Callable[[str, Any], Any],
    *,
    shape: Shape = "scalar",
    live: bool = False,
    factory: Callable[[], Any] | None = None,
) -> Any:
    meta = {"setting": Setting(key, doc, form, parse, shape, live)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _number(low: float, high: float) -> Callable[[str, Any], float]:
    return partial(parse_number, low=low, high=high)


def _integer(low: int, high: int) -> Callable[[str, Any], int]:
    return lambda where, value: int(parse_number(where, value, low, high))


def _choice(*choices: str) -> Callable[[str, Any], str]:
    return partial(parse_choice, choices=choices)


def _secrets(where: str, value: Any) -> tuple[bytes, ...]:
    return tuple(parse_secret(where, s) or b"" for s in parse_strings(where, value))


def _token(where: str, value: Any) -> str | None:
    return None if parse_secret(where, value) is None else str(value)


def _default_routes() -> tuple[RouteClass, ...]:
    return parse_routes("routes", DEFAULT_ROUTES)


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """Everything the guard needs, validated. Immutable: what changes while serving (mode,
    thresholds, weights) is the live :class:`~guard.policy.Policy` built from it."""

    mode: Mode = _setting(
        "enforce",
        "mode",
        "enforce | shadow | off",
        "enforce refuses; shadow judges and logs but refuses nothing; off does nothing.",
        _choice("enforce", "shadow", "off"),
        live=True,
    )
    thresholds: Thresholds = _setting(
        Thresholds(),
        "thresholds",
        "table: gray, block, gray_action",
        "Score cut-offs: from `gray` (0.6) the `gray_action` (challenge) applies, from "
        "`block` (0.9) a 403. gray_action is one of tarpit, challenge, throttle, block.",
        parse_thresholds,
        shape="table",
        live=True,
    )
    weights: Mapping[str, float] = _setting(
        None,
        "weights",
        "table: reason = weight",
        "Override a finding's weight (0 to 1) by its reason (`no_cookies`) or the reason's "
        "family (`automation` covers `automation:curl`).",
        parse_weights,
        shape="table",
        live=True,
        factory=lambda: MappingProxyType({}),
    )
    shadow: frozenset[str] = _setting(
        frozenset(),
        "shadow",
        "list of reasons",
        "Findings judged and logged but not counted, by reason (`unlisted_record`) or family "
        "(`model`): try a signal in shadow while the rest enforce. The log names them.",
        parse_reasons,
        shape="list",
        live=True,
    )
    routes: tuple[RouteClass, ...] = _setting(
        None,
        "routes",
        "tables: routes.<name>",
        "Route classes: `paths` (templates; `{id}` names the record, a trailing `*` matches "
        "the rest), `sensitive` (records: budgets count them), `static`, `shows_records` "
        "(its pages list records: the guard notes which records each client was shown), "
        "`rates` and `budgets` by actor kind (ip, network, fingerprint, identity, client, "
        "global). Merged into the defaults below.",
        parse_routes,
        shape="table",
        factory=_default_routes,
    )
    honeypot_paths: tuple[str, ...] = _setting(
        (),
        "honeypot_paths",
        "list of paths",
        "Paths linked invisibly on your pages: only a crawler follows them.",
        parse_strings,
        shape="list",
    )
    robots_disallow: tuple[str, ...] = _setting(
        (),
        "robots_disallow",
        "list of path prefixes",
        "Prefixes your robots.txt disallows: a client that read robots.txt and goes there "
        "anyway is caught, and declared bots are judged strictly there.",
        parse_strings,
        shape="list",
    )
    store_url: str = _setting(
        "memory://",
        "store",
        "URL",
        "Where state lives: memory:// (one process), redis://, rediss://, redis+cluster://.",
        parse_string,
    )
    fail_closed: bool = _setting(
        False,
        "fail_closed",
        "bool",
        "When the store is down: false serves (fail open), true answers 503.",
        parse_bool,
    )
    secret: bytes | None = _setting(
        None,
        "secret",
        "string, 16+ characters",
        "Signs cookies, clearances and tokens; the same on every worker. Unset: a random "
        "key per process (cookies do not survive restarts).",
        parse_secret,
    )
    previous_secrets: tuple[bytes, ...] = _setting(
        (),
        "previous_secrets",
        "list of strings",
        "Rotated-out secrets that still verify, so rotating logs nobody out.",
        _secrets,
        shape="list",
    )
    trusted_proxies: tuple[IPNetwork, ...] = _setting(
        (),
        "trusted_proxies",
        "list of IPs/CIDRs",
        "Proxies whose forwarding header is believed; from anyone else it is ignored.",
        parse_networks,
        shape="list",
    )
    client_ip_header: str = _setting(
        "x-forwarded-for",
        "client_ip_header",
        "x-forwarded-for | forwarded | x-real-ip",
        "The header trusted proxies put the client's address in.",
        lambda where, value: parse_choice(
            where, str(value).lower(), ("x-forwarded-for", "forwarded", "x-real-ip")
        ),
    )
    tls_fingerprint_header: str | None = _setting(
        None,
        "tls_fingerprint_header",
        "header name",
        "A header in which a trusted proxy passes the client's JA3/JA4 TLS fingerprint.",
        parse_header_name,
    )
    identity_cookie: str = _setting(
        "session",
        "identity_cookie",
        "cookie name",
        "The cookie that names an account, for per-account budgets (or pass `identity=`).",
        parse_string,
    )
    tracking_cookie: str = _setting(
        "__guard",
        "tracking_cookie",
        "cookie name",
        "The guard's own signed cookie, which tells returning browsers from cookie-less clients.",
        parse_string,
    )
    allow: tuple[IPNetwork, ...] = _setting(
        (), "allow", "list of IPs/CIDRs", "Never judged.", parse_networks, shape="list"
    )
    deny: tuple[IPNetwork, ...] = _setting(
        (), "deny", "list of IPs/CIDRs", "Always refused (403).", parse_networks, shape="list"
    )
    bot_rate: Rate = _setting(
        Rate(60, 60.0),
        "bot_rate",
        "rate",
        "The per-IP rate for clients that say they are bots, on every route.",
        parse_rate,
    )
    good_bots: str | None = _setting(
        None,
        "good_bots",
        "path",
        "A search-engine range list from `guard update-bots` (default: the shipped one).",
        parse_optional_string,
    )
    verify_bots: str = _setting(
        "ranges",
        "verify_bots",
        "ranges | dns | off",
        "How a claimed search engine is verified: its published ranges, reverse DNS, or not.",
        _choice("ranges", "dns", "off"),
    )
    model: str = _setting(
        "off",
        "model",
        "off | shipped | path",
        "The behaviour model: off (rules only), the shipped one, or a model file of yours.",
        parse_string,
    )
    utc_offset_hours: float = _setting(
        0.0,
        "utc_offset_hours",
        "number -14..14",
        "The site's time zone, for night-time activity.",
        _number(-14.0, 14.0),
    )
    campaign_floor: int = _setting(
        12,
        "campaign_floor",
        "integer 1..1000000",
        "Networks whose new clients read records within a minute that always count as "
        "normal; above it and above `campaign_factor` times the site's learned baseline for "
        "the hour, a campaign is under way.",
        _integer(1, 1_000_000),
    )
    campaign_factor: float = _setting(
        4.0,
        "campaign_factor",
        "number 1..1000",
        "How many times the site's usual number of new record readers (learned online, by "
        "hour of day) makes a campaign.",
        _number(1.0, 1000.0),
    )
    challenge_difficulty: int = _setting(
        16,
        "challenge_difficulty",
        "integer 1..28",
        "Leading zero bits of the proof of work at the gray threshold (16: about a second "
        "in a browser; one more bit per 0.1 of score above it, up to four).",
        _integer(1, 28),
    )
    clearance_ttl: float = _setting(
        3600.0,
        "clearance_ttl",
        "seconds 60..604800",
        "How long a solved challenge keeps a browser out of the gray zone.",
        _number(60, 86400 * 7),
    )
    clearance_records: int = _setting(
        24,
        "clearance_records",
        "integer 1..10000",
        "What a solved challenge covers: a record read costs 1, one the client was never "
        "shown costs 4 (during a campaign a clearance covers 4). Then soft evidence counts "
        "again.",
        _integer(1, 10_000),
    )
    tarpit_delay: float = _setting(
        3.0,
        "tarpit_delay",
        "seconds 0..30",
        "How long the tarpit action holds a request.",
        _number(0.0, 30.0),
    )
    tarpit_max_concurrent: int = _setting(
        32,
        "tarpit_max_concurrent",
        "integer",
        "Requests held at once; beyond it a tarpit becomes a 429.",
        _integer(1, 100_000),
    )
    decision_log: str | None = _setting(
        None,
        "decision_log",
        "path or -",
        "Append every refusal (and a sample of allows) as JSON lines here; - is stderr.",
        parse_optional_string,
    )
    log_allow_sample: float = _setting(
        0.0,
        "log_allow_sample",
        "number 0..1",
        "The share of allowed requests logged too.",
        _number(0.0, 1.0),
    )
    log_addresses: str = _setting(
        "full",
        "log_addresses",
        "full, truncated or hashed",
        "How the decision log and dashboard show client addresses: as they are, cut to "
        "their /24 or /48, or as keyed hashes.",
        _choice("full", "truncated", "hashed"),
    )
    hash_ips_in_log: bool = _setting(
        False,
        "hash_ips_in_log",
        "bool",
        'The older spelling of log_addresses = "hashed" (true wins over log_addresses).',
        parse_bool,
    )
    key_prefix: str = _setting(
        "guard", "key_prefix", "string", "Prefix of every store key.", parse_string
    )
    admin_token: str | None = _setting(
        None,
        "admin_token",
        "string, 16+ characters",
        "Bearer token for the admin endpoints (/guard/metrics, /guard/api/policy); unset, they "
        "do not exist.",
        _token,
    )

    def route_class(self, name: str) -> RouteClass:
        """The route class called ``name``; raises KeyError if there is none."""
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(name)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GuardConfig:
        """Build a config from a mapping shaped like the TOML file; absent keys keep their
        defaults, and ``routes`` tables merge into :data:`DEFAULT_ROUTES`.

        Raises:
            ConfigError: naming the first bad key and what was expected.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"config: expected a table, got {type(data).__name__}")
        known = {s.key: (name, s) for name, s in SETTINGS.items()}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"config: unknown key(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            name, setting = known[key]
            if key == "routes":
                if not isinstance(value, Mapping):
                    raise ConfigError("routes: expected a table of route classes")
                value = with_record_limits(merge(DEFAULT_ROUTES, value))  # noqa: PLW2901
            values[name] = setting.parse(key, value)
        return cls(**values)


SETTINGS: Mapping[str, Setting] = MappingProxyType(
    {f.name: f.metadata["setting"] for f in fields(GuardConfig)}
)
"""Each GuardConfig field's :class:`Setting`, in the order the fields are declared."""
