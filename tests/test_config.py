"""Tests for guard.config: Rate parsing and GuardConfig.from_mapping validation and merging."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from guard.config import DEFAULT_ROUTES, GuardConfig, Rate, Thresholds, merge
from guard.config.defaults import RECORD_LIMITS
from guard.errors import ConfigError
from guard.types import Action


def test_defaults_are_the_librarys_own() -> None:
    """An empty mapping yields the library's policy: enforce, memory store, a static and a
    catch-all class, no records, honeypots or robots rules (nothing of the demo's)."""
    config = GuardConfig.from_mapping({})
    assert config.mode == "enforce"
    assert config.store_url == "memory://"
    assert config.thresholds == Thresholds(0.6, 0.9, Action.CHALLENGE)
    assert [route.name for route in config.routes] == ["static", "default"]
    assert not any(route.sensitive or route.budgets for route in config.routes)
    assert config.route_class("static").static
    assert config.route_class("default").paths == ("*",)
    assert config.route_class("default").rates["ip"] == Rate(120, 60.0)
    assert config.honeypot_paths == config.robots_disallow == ()
    assert config.bot_rate == Rate(60, 60.0)


def test_one_source_of_defaults() -> None:
    """GuardConfig() and GuardConfig.from_mapping({}) are the same config."""
    assert GuardConfig() == GuardConfig.from_mapping({})


def test_defaults_mapping_is_read_only() -> None:
    """The exported DEFAULT_ROUTES cannot be changed by a caller by accident."""
    with pytest.raises(TypeError):
        DEFAULT_ROUTES["api"] = {}  # type: ignore[index]


def test_a_declared_record_class_gets_the_record_limits() -> None:
    """A class declared sensitive gets the library's record rates and budgets; its own
    values win per actor kind, and an empty budget list turns that budget off."""
    config = GuardConfig.from_mapping(
        {
            "routes": {
                "records": {
                    "paths": ["/profile/{id}"],
                    "sensitive": True,
                    "rates": {"ip": "5/minute"},
                    "budgets": {"fingerprint": []},
                }
            }
        }
    )
    records = config.route_class("records")
    assert records.rates["ip"] == Rate(5, 60.0)
    assert records.rates["network"] == Rate.parse(RECORD_LIMITS["rates"]["network"])
    assert records.budgets["ip"] == (Rate(120, 3600.0), Rate(400, 86400.0))
    assert records.budgets["fingerprint"] == ()


def test_route_class_lookup_raises_key_error_for_unknown_name() -> None:
    """route_class() names the missing class in a KeyError."""
    with pytest.raises(KeyError, match="nope"):
        GuardConfig.from_mapping({}).route_class("nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/minute", Rate(30, 60.0)),
        ("30/minutes", Rate(30, 60.0)),
        ("1/second", Rate(1, 1.0)),
        ("100/2hours", Rate(100, 7200.0)),
        ("5/3days", Rate(5, 3 * 86400.0)),
        (" 7 / hour ", Rate(7, 3600.0)),
        ("400/day", Rate(400, 86400.0)),
    ],
)
def test_rate_parse_accepts_count_per_unit_forms(text: str, expected: Rate) -> None:
    """Rate.parse reads 'N/unit' and 'N/Kunits' with optional plural and spaces."""
    assert Rate.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "30", "30/", "/minute", "30/min", "30/fortnight", "-1/minute", "1.5/minute", "0/minute"],
)
def test_rate_parse_rejects_malformed_text(text: str) -> None:
    """Rate.parse raises ValueError quoting the bad text."""
    with pytest.raises(ValueError, match="rate"):
        Rate.parse(text)


def test_rate_parse_rejects_non_strings() -> None:
    """A number where a rate string belongs is a ValueError, not a TypeError."""
    with pytest.raises(ValueError, match="30/minute"):
        Rate.parse(30)  # type: ignore[arg-type]


def test_rate_parse_rejects_zero_period() -> None:
    """A zero-length period ('30/0minutes') is rejected instead of yielding period 0."""
    with pytest.raises(ValueError, match="rate"):
        Rate.parse("30/0minutes")


def test_rate_str_shows_limit_and_seconds() -> None:
    """str(Rate) is compact and unambiguous for logs."""
    assert str(Rate.parse("100/2hours")) == "100/7200s"


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"bogus": 1}, "bogus"),
        ({"bogus": 1, "also_bad": 2}, "also_bad"),
        ({"routes": {"api": {"paths": ["/api/*"], "colour": "red"}}}, "colour"),
        ({"routes": {"api": {"paths": ["/api/*"], "rates": {"user": "1/hour"}}}}, "'user'"),
    ],
)
def test_unknown_keys_are_rejected_by_name(mapping: dict[str, Any], named: str) -> None:
    """Unknown top-level keys, route keys and actor kinds raise ConfigError naming them."""
    with pytest.raises(ConfigError, match=named):
        GuardConfig.from_mapping(mapping)


def test_non_mapping_config_is_rejected() -> None:
    """A config that is not a table raises ConfigError."""
    with pytest.raises(ConfigError, match="expected a table"):
        GuardConfig.from_mapping(["mode", "enforce"])  # type: ignore[arg-type]


def test_threshold_gray_above_block_is_rejected() -> None:
    """thresholds.gray above thresholds.block is a ConfigError naming both values."""
    with pytest.raises(ConfigError, match=r"gray \(0\.95\) must not exceed block \(0\.9\)"):
        GuardConfig.from_mapping({"thresholds": {"gray": 0.95}})


def test_threshold_gray_equal_to_block_is_allowed() -> None:
    """A gray band of zero width is legal: every score is either allowed or blocked."""
    config = GuardConfig.from_mapping({"thresholds": {"gray": 0.8, "block": 0.8}})
    assert config.thresholds.gray == config.thresholds.block == 0.8


@pytest.mark.parametrize(
    ("thresholds", "named"),
    [
        ({"gray": 1.5}, "thresholds.gray"),
        ({"block": -0.1}, "thresholds.block"),
        ({"gray": "high"}, "thresholds.gray"),
        ({"gray": True}, "thresholds.gray"),
        ({"gray_action": "explode"}, "thresholds.gray_action"),
    ],
)
def test_threshold_values_are_range_checked(thresholds: dict[str, Any], named: str) -> None:
    """Thresholds must be numbers in [0, 1] and gray_action a known action."""
    with pytest.raises(ConfigError, match=named):
        GuardConfig.from_mapping({"thresholds": thresholds})


def test_gray_action_is_parsed() -> None:
    """thresholds.gray_action accepts an action name in any case."""
    config = GuardConfig.from_mapping({"thresholds": {"gray_action": "TarPit"}})
    assert config.thresholds.gray_action is Action.TARPIT


@pytest.mark.parametrize("key", ["allow", "deny", "trusted_proxies"])
def test_bad_cidr_is_rejected_naming_the_key(key: str) -> None:
    """An invalid network in allow, deny or trusted_proxies names the key and the value."""
    with pytest.raises(ConfigError, match=rf"^{key}: '10\.0\.0\.0/33'"):
        GuardConfig.from_mapping({key: ["192.0.2.0/24", "10.0.0.0/33"]})


def test_networks_accept_ipv4_ipv6_hosts_and_single_strings() -> None:
    """Networks may be IPv4 or IPv6 CIDRs or bare hosts; a lone string is a one-item list."""
    config = GuardConfig.from_mapping(
        {"allow": ["192.0.2.7", "2001:db8::/32", "198.51.100.9/24"], "deny": "203.0.113.0/24"}
    )
    assert config.allow == (
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
        ipaddress.ip_network("198.51.100.0/24"),
    )
    assert config.deny == (ipaddress.ip_network("203.0.113.0/24"),)


def test_budgets_on_non_sensitive_route_are_rejected() -> None:
    """Budgets count records, so a route class with budgets must be sensitive."""
    mapping = {"routes": {"search": {"paths": ["/search"], "budgets": {"ip": ["10/hour"]}}}}
    with pytest.raises(ConfigError, match=r"routes\.search\.budgets.*sensitive = true"):
        GuardConfig.from_mapping(mapping)


def test_budgets_on_a_class_not_marked_sensitive_are_rejected() -> None:
    """Budgets without `sensitive = true` are an error, not silently ignored."""
    routes = {"x": {"paths": ["/x/{id}"], "sensitive": False, "budgets": {"ip": "1/hour"}}}
    with pytest.raises(ConfigError, match=r"routes\.x\.budgets"):
        GuardConfig.from_mapping({"routes": routes})


def test_budget_may_be_a_single_string() -> None:
    """A budget given as one string instead of a list becomes a one-rate tuple."""
    mapping = {
        "routes": {
            "profiles": {"paths": ["/p/{id}"], "sensitive": True, "budgets": {"ip": "5/hour"}}
        }
    }
    route = GuardConfig.from_mapping(mapping).route_class("profiles")
    assert route.budgets["ip"] == (Rate(5, 3600.0),)


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"paths": []}, r"routes\.x\.paths"),
        ({"paths": ["no-slash"]}, r"routes\.x\.paths"),
        ({"paths": [3]}, r"routes\.x\.paths"),
        ({"paths": ["/x"], "rates": {"ip": "lots"}}, r"routes\.x\.rates\.ip"),
        ({"paths": ["/x"], "rates": ["30/minute"]}, r"routes\.x\.rates"),
        ({"paths": ["/x"], "static": "maybe"}, r"routes\.x\.static"),
        ("not a table", r"routes\.x"),
    ],
)
def test_route_errors_name_the_route_key(spec: object, named: str) -> None:
    """Every route validation error names the dotted key that is wrong."""
    with pytest.raises(ConfigError, match=named):
        GuardConfig.from_mapping({"routes": {"x": spec}})


def test_user_routes_deep_merge_with_defaults() -> None:
    """A user route class is added beside the shipped ones, which keep their settings."""
    config = GuardConfig.from_mapping(
        {"routes": {"api": {"paths": ["/api/v2/*"], "rates": {"ip": "10/minute"}}}}
    )
    names = [route.name for route in config.routes]
    assert set(names) == {"static", "api", "default"}
    assert config.route_class("api").rates == {"ip": Rate(10, 60.0)}
    assert config.route_class("static").rates == {"ip": Rate(600, 60.0)}


def test_overriding_one_rate_keeps_sibling_rates() -> None:
    """Changing the default class's IP rate leaves its other rates and paths in place."""
    config = GuardConfig.from_mapping({"routes": {"default": {"rates": {"ip": "5/minute"}}}})
    default = config.route_class("default")
    assert default.rates["ip"] == Rate(5, 60.0)
    assert default.rates["network"] == Rate(600, 60.0)
    assert default.paths == ("*",)


def test_catch_all_route_is_sorted_last() -> None:
    """The '*' class comes after every other class, even ones the user adds after it."""
    config = GuardConfig.from_mapping(
        {
            "routes": {
                "zzz": {"paths": ["/zzz"]},
                "default": {"paths": ["*"], "rates": {"ip": "1/second"}},
                "aaa": {"paths": ["/aaa/*"]},
            }
        }
    )
    assert config.routes[-1].name == "default"
    assert config.routes[-1].paths == ("*",)
    assert [route.name for route in config.routes[:-1]] == ["static", "zzz", "aaa"]


def test_merge_replaces_lists_and_merges_tables() -> None:
    """merge() recurses into tables but replaces scalars and lists wholesale."""
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = merge(base, {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"mode": "loud"}, "mode"),
        ({"secret": "short"}, "secret"),
        ({"secret": 1234567890123456789}, "secret"),
        ({"fail_closed": "perhaps"}, "fail_closed"),
        ({"log_allow_sample": 2}, "log_allow_sample"),
        ({"tarpit_delay": 31}, "tarpit_delay"),
        ({"tarpit_max_concurrent": 0}, "tarpit_max_concurrent"),
        ({"store": ""}, "store"),
        ({"tls_fingerprint_header": "x ja3"}, "tls_fingerprint_header"),
        ({"honeypot_paths": [1, 2]}, "honeypot_paths"),
        ({"bot_rate": "often"}, "bot_rate"),
        ({"routes": "everything"}, "routes"),
    ],
)
def test_scalar_errors_name_the_key(mapping: dict[str, Any], named: str) -> None:
    """Bad scalar values raise ConfigError whose message starts with the key."""
    with pytest.raises(ConfigError, match=rf"^{named}"):
        GuardConfig.from_mapping(mapping)


def test_scalars_accept_strings_as_from_the_environment() -> None:
    """Booleans and numbers given as strings (as env vars are) are converted."""
    config = GuardConfig.from_mapping(
        {
            "fail_closed": "yes",
            "hash_ips_in_log": "0",
            "tarpit_delay": "1.5",
            "tarpit_max_concurrent": "8",
            "secret": "0123456789abcdef",
            "tls_fingerprint_header": "X-JA4",
            "mode": "shadow",
        }
    )
    assert config.fail_closed is True
    assert config.hash_ips_in_log is False
    assert config.tarpit_delay == 1.5
    assert config.tarpit_max_concurrent == 8
    assert config.secret == b"0123456789abcdef"
    assert config.tls_fingerprint_header == "x-ja4"
    assert config.mode == "shadow"
