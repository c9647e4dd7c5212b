"""Tests for guard.config_file: TOML files and GUARD_* environment overrides."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from guard.config import Rate
from guard.config_file import env_overrides, load_config
from guard.errors import ConfigError
from guard.types import Action

WITH_TABLE = """
[guard]
mode = "shadow"
trusted_proxies = ["10.0.0.0/8"]
secret = "0123456789abcdef0123"

[guard.thresholds]
gray = 0.5

[guard.routes.api]
paths = ["/api/v2/*"]
rates = { ip = "10/minute" }
"""

WITHOUT_TABLE = """
mode = "shadow"
trusted_proxies = ["10.0.0.0/8"]

[thresholds]
gray = 0.5

[routes.api]
paths = ["/api/v2/*"]
rates = { ip = "10/minute" }
"""


def write(tmp_path: Path, text: str, name: str = "guard.toml") -> Path:
    """Write ``text`` to a file in ``tmp_path`` and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text", [WITH_TABLE, WITHOUT_TABLE], ids=["guard-table", "top-level"])
def test_load_config_reads_toml_with_or_without_guard_table(tmp_path: Path, text: str) -> None:
    """Settings are read from a [guard] table or from the top level of the file."""
    config = load_config(write(tmp_path, text), env={})
    assert config.mode == "shadow"
    assert config.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)
    assert config.thresholds.gray == 0.5
    assert config.thresholds.block == 0.9
    assert config.route_class("api").rates == {"ip": Rate(10, 60.0)}
    assert config.routes[-1].name == "default"
    assert config.route_class("static").static


def test_guard_table_ignores_sibling_tables(tmp_path: Path) -> None:
    """Only the [guard] table is read, so a shared file may hold other tools' settings."""
    text = WITH_TABLE + '\n[tool.other]\ncolour = "blue"\n'
    config = load_config(write(tmp_path, text), env={})
    assert config.mode == "shadow"


def test_load_config_without_file_or_env_gives_defaults() -> None:
    """No path, no GUARD_CONFIG and no overrides give the shipped defaults."""
    config = load_config(None, env={})
    assert config.mode == "enforce"
    assert config.trusted_proxies == ()


def test_env_mode_overrides_file(tmp_path: Path) -> None:
    """GUARD_MODE wins over the file's mode."""
    config = load_config(write(tmp_path, WITH_TABLE), env={"GUARD_MODE": "off"})
    assert config.mode == "off"
    assert config.thresholds.gray == 0.5


def test_env_trusted_proxies_is_a_comma_list() -> None:
    """GUARD_TRUSTED_PROXIES is split on commas, blanks dropped and items stripped."""
    env = {"GUARD_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.0.0/16,,2001:db8::/32 "}
    config = load_config(env=env)
    assert config.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.0.0/16"),
        ipaddress.ip_network("2001:db8::/32"),
    )


def test_env_trusted_proxies_bad_item_is_named() -> None:
    """A bad network in GUARD_TRUSTED_PROXIES raises ConfigError naming the setting."""
    with pytest.raises(ConfigError, match="trusted_proxies: 'not-an-ip'"):
        load_config(env={"GUARD_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"})


def test_env_thresholds_merge_with_file_thresholds(tmp_path: Path) -> None:
    """GUARD_THRESHOLDS_* override single threshold keys and keep the file's others."""
    env = {"GUARD_THRESHOLDS_BLOCK": "0.8", "GUARD_THRESHOLDS_GRAY_ACTION": "tarpit"}
    config = load_config(write(tmp_path, WITH_TABLE), env=env)
    assert config.thresholds.gray == 0.5
    assert config.thresholds.block == 0.8
    assert config.thresholds.gray_action is Action.TARPIT


def test_env_thresholds_gray_is_validated() -> None:
    """GUARD_THRESHOLDS_GRAY is a number checked against block like a file value."""
    assert load_config(env={"GUARD_THRESHOLDS_GRAY": "0.7"}).thresholds.gray == 0.7
    with pytest.raises(ConfigError, match="must not exceed block"):
        load_config(env={"GUARD_THRESHOLDS_GRAY": "0.95"})
    with pytest.raises(ConfigError, match=r"thresholds\.gray"):
        load_config(env={"GUARD_THRESHOLDS_GRAY": "grey"})


def test_env_scalars_are_converted() -> None:
    """String env values become booleans, numbers and rates."""
    env = {
        "GUARD_FAIL_CLOSED": "true",
        "GUARD_TARPIT_DELAY": "2.5",
        "GUARD_BOT_RATE": "10/minute",
        "GUARD_HONEYPOT_PATHS": "/trap,/all",
    }
    config = load_config(env=env)
    assert config.fail_closed is True
    assert config.tarpit_delay == 2.5
    assert config.bot_rate == Rate(10, 60.0)
    assert config.honeypot_paths == ("/trap", "/all")


@pytest.mark.parametrize("name", ["GUARD_FOO", "GUARD_GRAY", "GUARD_THRESHOLDS_RED"])
def test_unknown_guard_env_var_is_rejected(name: str) -> None:
    """A GUARD_* variable that is not a setting raises ConfigError naming the variable."""
    with pytest.raises(ConfigError, match=f"environment variable {name}: not a guard setting"):
        load_config(env={name: "1"})


@pytest.mark.parametrize(
    ("name", "table"), [("GUARD_ROUTES", "routes"), ("GUARD_WEIGHTS", "weights")]
)
def test_a_table_in_the_environment_points_to_the_file(name: str, table: str) -> None:
    """A table setting cannot come from one variable: the error says where it goes."""
    with pytest.raises(ConfigError, match=rf"{name}: set \[{table}\] in the config file"):
        load_config(env={name: "1"})


def test_unrelated_env_vars_are_ignored() -> None:
    """Variables without the GUARD_ prefix are not settings and are not errors."""
    assert env_overrides({"PATH": "/bin", "HOME": "/root", "guard_mode": "off"}) == {}


def test_guard_config_env_names_the_file(tmp_path: Path) -> None:
    """GUARD_CONFIG supplies the path when none is given, and is not itself a setting."""
    path = write(tmp_path, WITH_TABLE)
    config = load_config(env={"GUARD_CONFIG": str(path)})
    assert config.mode == "shadow"


def test_explicit_path_wins_over_guard_config(tmp_path: Path) -> None:
    """An explicit path is used even when GUARD_CONFIG names another file."""
    path = write(tmp_path, WITH_TABLE)
    config = load_config(path, env={"GUARD_CONFIG": str(tmp_path / "absent.toml")})
    assert config.mode == "shadow"


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    """A missing file raises ConfigError whose message holds the path."""
    path = tmp_path / "nowhere" / "guard.toml"
    with pytest.raises(ConfigError, match=r"config file .*nowhere/guard\.toml") as info:
        load_config(path, env={})
    assert str(path) in str(info.value)


def test_missing_file_from_guard_config_names_the_path(tmp_path: Path) -> None:
    """A missing file named by GUARD_CONFIG raises ConfigError with that path."""
    path = tmp_path / "gone.toml"
    with pytest.raises(ConfigError) as info:
        load_config(env={"GUARD_CONFIG": str(path)})
    assert str(path) in str(info.value)


def test_directory_instead_of_file_is_a_config_error(tmp_path: Path) -> None:
    """A directory path is reported as a ConfigError, not an OSError."""
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert str(tmp_path) in str(info.value)


def test_invalid_toml_names_the_path(tmp_path: Path) -> None:
    """A file that is not TOML raises ConfigError with the path and 'not valid TOML'."""
    path = write(tmp_path, "[guard\nmode = ", name="broken.toml")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(path, env={})
    assert str(path) in str(info.value)


def test_invalid_value_in_file_names_the_key(tmp_path: Path) -> None:
    """A bad value read from the file is reported by its key."""
    path = write(tmp_path, '[guard]\nmode = "loud"\n')
    with pytest.raises(ConfigError, match=r"^mode: "):
        load_config(path, env={})


def test_guard_key_that_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    """`guard = "oops"` in the file raises ConfigError like any other invalid value."""
    path = write(tmp_path, 'guard = "oops"\n')
    with pytest.raises(ConfigError):
        load_config(path, env={})
