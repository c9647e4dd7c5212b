"""`guard demo` as a real process: the three modes and bad configuration."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from guard.testing import free_port

pytestmark = pytest.mark.e2e


def fetch(url: str) -> tuple[int, dict[str, str]]:
    """GET with urllib's own user agent, as a naive scraper would; status 0 if no server."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


@contextmanager
def demo(*args: str) -> Iterator[str]:
    """Run `guard demo` on a free port until the block ends; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "guard.cli",
        "demo",
        "--port",
        str(port),
        "--resumes",
        "50",
        *args,
    ]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while fetch(f"{base}/robots.txt")[0] == 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"guard demo did not start: {command}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(("mode", "status"), [("enforce", 403), ("shadow", 200), ("off", 200)])
def test_demo_modes(mode: str, status: int) -> None:
    """Enforce refuses a urllib scraper on a record; shadow and off serve it unchanged."""
    with demo("--mode", mode) as base:
        got, _ = fetch(f"{base}/resume/100001")
        page, page_headers = fetch(f"{base}/jobs")
    assert got == status
    assert page == 200
    assert ("set-cookie" in {k.lower() for k in page_headers}) == (mode == "enforce")


def test_demo_reads_a_config_file(tmp_path: Path) -> None:
    """--config applies the file: here a denylist that refuses loopback everywhere."""
    config = tmp_path / "guard.toml"
    config.write_text('deny = ["127.0.0.0/8"]\n')
    with demo("--config", str(config)) as base:
        assert fetch(f"{base}/jobs")[0] == 403


def test_demo_rejects_a_bad_config_clearly(tmp_path: Path) -> None:
    """A bad config stops the demo with exit code 2 and a message naming the key."""
    config = tmp_path / "guard.toml"
    config.write_text('[thresholds]\ngray = "high"\n')
    result = subprocess.run(
        [sys.executable, "-m", "guard.cli", "demo", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "thresholds.gray" in result.stderr
