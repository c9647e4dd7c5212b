"""The README's examples stay true: its config example loads, and it quotes the real decide()."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from guard import Guard, Rate, load_config

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_config_example_is_valid(tmp_path: Path) -> None:
    """The TOML example in the README loads, and its limits are the shipped defaults."""
    (example,) = re.findall(r"```toml\n(.*?)```", README.read_text(), re.DOTALL)
    path = tmp_path / "guard.toml"
    path.write_text(example.replace('secret = "..."', 'secret = "0123456789abcdef0123"'))
    config = load_config(path, env={})
    defaults = load_config(None, env={})
    assert config.routes == defaults.routes
    assert config.thresholds == defaults.thresholds
    assert config.route_class("sensitive").budgets["ip"] == (Rate(120, 3600.0), Rate(400, 86400.0))


def test_the_readme_quotes_the_real_decision_path() -> None:
    """The "How it works" section shows GuardMiddleware.decide exactly as it is."""
    assert inspect.getsource(Guard.decide) in README.read_text()
