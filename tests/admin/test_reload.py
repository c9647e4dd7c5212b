"""Live reload of the config file: its live settings apply when it changes; an invalid file
or a setting that needs a restart is logged and the running policy kept."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from guard.admin import reload as reload_module
from guard.demo.app import create_demo_app
from guard.engine import Guard
from guard.middleware import GuardMiddleware
from guard.testing import call_asgi, chrome_headers

pytestmark = pytest.mark.anyio
SCRIPT = {"user-agent": "python-requests/2.32.3"}
BASE = (
    'secret = "reload-secret-0123456789"\n'
    '[routes.records]\npaths = ["/resume/{id}"]\nsensitive = true\n'
)


def write(path: Path, text: str) -> None:
    """Rewrite the file so that its modification time surely moves on."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look at the file on every request (the half-second pause is for production)."""
    monkeypatch.setattr(reload_module, "POLL_SECONDS", 0.0)


async def test_a_changed_file_changes_the_running_guard(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """mode and thresholds edited in the file reach the verdicts at the next request,
    audit-logged and counted as a ``file`` policy change."""
    config = tmp_path / "guard.toml"
    write(config, BASE)
    app = GuardMiddleware(create_demo_app(100), guard=Guard.from_config(config))
    assert (await call_asgi(app, "/resume/100001", headers=SCRIPT)).status == 403
    write(config, 'mode = "shadow"\n' + BASE + "[thresholds]\ngray = 0.5\n")
    with caplog.at_level(logging.INFO, logger="guard.audit"):
        assert (await call_asgi(app, "/resume/100002", headers=SCRIPT)).status == 200
    assert (app.guard.policy.mode, app.guard.policy.thresholds.gray) == ("shadow", 0.5)
    (entry,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "guard.audit"]
    assert entry["event"] == "config_reloaded"
    assert (entry["before"]["mode"], entry["after"]["mode"]) == ("enforce", "shadow")
    assert b'guard_policy_changes_total{origin="file"} 1.0' in app.guard.metrics.render()


async def test_an_invalid_file_keeps_the_running_policy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file that no longer validates is reported, and the guard keeps enforcing as before;
    fixed, it applies."""
    config = tmp_path / "guard.toml"
    write(config, BASE)
    app = GuardMiddleware(create_demo_app(100), guard=Guard.from_config(config))
    write(config, BASE + "[thresholds]\ngray = 2\n")
    with caplog.at_level(logging.ERROR, logger="guard"):
        assert (await call_asgi(app, "/resume/100001", headers=SCRIPT)).status == 403
    assert "changed but is invalid; the running policy stays" in caplog.text
    write(config, BASE + "[thresholds]\ngray = 0.4\n")
    await call_asgi(app, "/jobs", headers=chrome_headers())
    assert app.guard.policy.thresholds.gray == 0.4


async def test_settings_that_need_a_restart_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Changing routes in the file applies nothing of them until a restart, and says so."""
    config = tmp_path / "guard.toml"
    write(config, BASE)
    app = GuardMiddleware(create_demo_app(100), guard=Guard.from_config(config))
    write(config, BASE.replace("/resume/{id}", "/profile/{id}"))
    with caplog.at_level(logging.WARNING, logger="guard"):
        await call_asgi(app, "/jobs", headers=chrome_headers())
    assert "changed routes, which apply only after a restart" in caplog.text
