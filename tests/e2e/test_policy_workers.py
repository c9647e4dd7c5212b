"""Two `guard demo` processes on one Redis: a policy change made on one, through the API or
`guard policy set`, is what the other answers and judges by within a second."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from guard.cli import main
from tests.conftest import SECRET
from tests.e2e.test_cli_demo import demo

pytestmark = pytest.mark.e2e
TOKEN = "e2e-admin-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
SCRIPT = {"user-agent": "python-requests/2.32.3"}


def test_a_put_on_one_worker_changes_the_other(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A script is refused a record by both workers; PUT mode=shadow on the first, and the
    second answers the new policy and serves the script within a second; `guard policy
    set` on the second turns enforcement back on for the first."""
    config = tmp_path / "admin.toml"
    config.write_text(
        f'secret = "{SECRET}"\nkey_prefix = "policy-e2e"\nadmin_token = "{TOKEN}"\nmodel = "off"\n'
    )
    with (
        demo("--config", str(config), "--redis-url", redis_url) as one,
        demo("--config", str(config), "--redis-url", redis_url) as two,
    ):
        assert httpx.get(f"{two}/resume/100001", headers=SCRIPT).status_code == 403
        changed = httpx.put(f"{one}/guard/api/policy", headers=AUTH, json={"mode": "shadow"})
        assert changed.status_code == 200
        began = time.monotonic()
        seen = httpx.get(f"{two}/guard/api/policy", headers=AUTH).json()
        assert (seen["mode"], seen["version"]) == ("shadow", 1)
        assert httpx.get(f"{two}/resume/100002", headers=SCRIPT).status_code == 200
        assert time.monotonic() - began < 1.0
        token = ["--url", two, "--token", TOKEN]
        assert main(["policy", "set", "mode=enforce", "thresholds.gray=0.55", *token]) == 0
        assert json.loads(capsys.readouterr().out)["thresholds"]["gray"] == 0.55
        deadline = time.monotonic() + 1.0
        status = 0
        while time.monotonic() < deadline and status != 403:
            status = httpx.get(f"{one}/resume/100003", headers=SCRIPT).status_code
            time.sleep(0.05)
        assert status == 403
        assert main(["policy", "show", *token[:2], "--token", "wrong-token-0123456789"]) == 1
        assert "401 unauthorized" in capsys.readouterr().err
