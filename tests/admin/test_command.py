"""`guard policy`: NAME=VALUE changes, and clear errors before anything is sent."""

from __future__ import annotations

import pytest

from guard.admin.command import parse_changes
from guard.cli import main


def test_changes_become_a_partial_document() -> None:
    """mode, thresholds.* and weights.* items become the document the API takes; numbers
    are numbers and none drops a weight."""
    items = ["mode=shadow", "thresholds.gray=0.5", "thresholds.gray_action=throttle"]
    more = ["weights.no_cookies=0.3", "weights.fast_pace=none", "shadow=model, campaign"]
    assert parse_changes([*items, *more]) == {
        "mode": "shadow",
        "shadow": ["model", "campaign"],
        "thresholds": {"gray": 0.5, "gray_action": "throttle"},
        "weights": {"no_cookies": 0.3, "fast_pace": None},
    }


@pytest.mark.parametrize(
    "item", ["mode", "gray=0.5", "mode.x=1", "shadow.x=1", "secret.key=1", "thresholds=1"]
)
def test_bad_items_are_refused(item: str) -> None:
    """Items that name no policy setting are refused with the item quoted."""
    with pytest.raises(ValueError, match=r"expected|unknown setting"):
        parse_changes([item])


def test_the_command_needs_a_token_and_a_change(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a token, or with set and nothing to set, it exits 2 and says why, sending
    nothing; an unreachable site is exit 1."""
    monkeypatch.delenv("GUARD_ADMIN_TOKEN", raising=False)
    assert main(["policy", "show", "--url", "http://127.0.0.1:9"]) == 2
    assert "no token" in capsys.readouterr().err
    monkeypatch.setenv("GUARD_ADMIN_TOKEN", "t" * 20)
    assert main(["policy", "set", "--url", "http://127.0.0.1:9"]) == 2
    assert "at least one" in capsys.readouterr().err
    assert main(["policy", "set", "bogus", "--url", "http://127.0.0.1:9"]) == 2
    assert main(["policy", "show", "--url", "http://127.0.0.1:9"]) == 1
    assert "could not reach" in capsys.readouterr().err
