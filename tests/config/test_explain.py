"""guard check-config and guard init: the effective config with sources, a starter file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from guard.cli import main
from guard.config import GuardConfig, Rate
from guard.config.explain import rate_text, redacted_url
from guard.config.starter import starter_config
from guard.demo.config import demo_config


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the guard command; its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_config_marks_defaults_and_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each value says where it came from: the file, the environment or the default; the
    output is TOML, and secrets are never printed."""
    path = tmp_path / "guard.toml"
    path.write_text(
        '[guard]\nsecret = "a-very-secret-value-123"\n'
        '[guard.routes.profiles]\npaths = ["/profile/{id}"]\nsensitive = true\n'
    )
    monkeypatch.setenv("GUARD_MODE", "shadow")
    code, out, err = run(capsys, "check-config", str(path))
    assert code == 0
    assert "valid" in err
    assert 'mode = "shadow"  # environment' in out
    assert 'store = "memory://"  # default' in out
    assert 'paths = ["/profile/{id}"]  # file' in out
    assert 'budgets.ip = ["120/hour", "400/day"]  # default' in out
    assert "a-very-secret-value-123" not in out
    assert 'secret = "<set>"  # file' in out
    tomllib.loads(out)


def test_check_config_with_the_demo_shows_its_base(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--demo layers the demo's own config under the file, marked as base."""
    monkeypatch.delenv("GUARD_CONFIG", raising=False)
    code, out, _ = run(capsys, "check-config", "--demo")
    assert code == 0
    assert 'honeypot_paths = ["/resumes/all"]  # base' in out


def test_check_config_names_a_bad_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid file exits 2 naming the key."""
    path = tmp_path / "guard.toml"
    path.write_text('[guard]\nmode = "loud"\n')
    code, _, err = run(capsys, "check-config", str(path))
    assert code == 2
    assert "mode" in err


def test_init_writes_a_starter_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """guard init writes a commented config declaring the given record routes, in shadow
    mode with a fresh secret, and will not overwrite a file without --force."""
    out = tmp_path / "guard.toml"
    code, _, _ = run(
        capsys, "init", "--records", "/profile/{id}", "/api/people/{id}", "--out", str(out)
    )
    assert code == 0
    config = GuardConfig.from_mapping(tomllib.loads(out.read_text())["guard"])
    assert config.mode == "shadow"
    assert config.route_class("records").paths == ("/profile/{id}", "/api/people/{id}")
    assert config.secret is not None
    assert run(capsys, "init", "--out", str(out))[0] == 1
    assert run(capsys, "init", "--out", str(out), "--force")[0] == 0


def test_the_starter_without_records_declares_none() -> None:
    """Without --records the record class is an example, commented out."""
    config = GuardConfig.from_mapping(tomllib.loads(starter_config())["guard"])
    assert not any(route.sensitive for route in config.routes)


@pytest.mark.parametrize("text", ["30/minute", "100/2hours", "400/day", "5/second", "7/3days"])
def test_rates_print_as_they_parse(text: str) -> None:
    """A rate printed by check-config reads back as the same rate."""
    assert rate_text(Rate.parse(text)) == text


def test_the_demo_config_is_the_library_plus_its_declarations() -> None:
    """The demo declares its records, the pages that show them, its honeypot and robots
    rules; the rest are defaults."""
    config = demo_config()
    sensitive = config.route_class("sensitive")
    assert sensitive.paths == ("/resume/{id}", "/api/resumes/{id}")
    assert sensitive.budgets["ip"] == (Rate(120, 3600.0), Rate(400, 86400.0))
    assert sensitive.rates["ip"] == Rate(30, 60.0)
    assert config.route_class("listings").shows_records
    assert config.route_class("listings").paths == ("/", "/resumes", "/search")
    assert config.honeypot_paths == ("/resumes/all",)
    assert config.robots_disallow == ("/resume/", "/api/", "/resumes/all")
    assert config.route_class("static") == GuardConfig().route_class("static")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@10.0.0.5:6379/0", "redis://<set>@10.0.0.5:6379/0"),
        (
            "rediss://user:pw@cache.example/1?ssl_ca_certs=/ca.pem",
            "rediss://<set>@cache.example/1?ssl_ca_certs=/ca.pem",
        ),
        ("redis://[::1]:6380/0", "redis://[::1]:6380/0"),
        ("memory://", "memory://"),
    ],
)
def test_store_passwords_are_never_printed(url: str, shown: str) -> None:
    """check-config (and guard demo's banner) show a store URL without its credentials."""
    assert redacted_url(url) == shown


def test_check_config_hides_the_store_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis password in GUARD_STORE does not reach check-config's output."""
    monkeypatch.delenv("GUARD_CONFIG", raising=False)
    monkeypatch.setenv("GUARD_STORE", "redis://:hunter2-supersecret@10.0.0.5:6379/0")
    code, out, _ = run(capsys, "check-config")
    assert code == 0
    assert "hunter2" not in out
    assert 'store = "redis://<set>@10.0.0.5:6379/0"  # environment' in out
