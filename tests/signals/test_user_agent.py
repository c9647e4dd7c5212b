"""Tests for guard.signals.user_agent.UserAgentSignal, on Facts extracted from raw scopes."""

from __future__ import annotations

from typing import Any

import pytest

from guard.demo.config import demo_config
from guard.facts import FactExtractor
from guard.signals.base import Finding, Report
from guard.signals.user_agent import UserAgentSignal
from guard.signing import Signer
from guard.types import Action

NOW = 1_800_000_000.0
CONFIG = demo_config({})
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def findings(path: str, user_agent: bytes | None) -> list[Finding]:
    """What UserAgentSignal finds for a GET of ``path`` with ``user_agent`` (None: no header)."""
    headers = [] if user_agent is None else [(b"user-agent", user_agent)]
    scope: dict[str, Any] = {
        "type": "http",
        "path": path,
        "headers": headers,
        "client": ("203.0.113.1", 1),
    }
    facts = FactExtractor(CONFIG, Signer(b"k" * 32)).extract(scope, NOW)
    report = Report()
    UserAgentSignal(CONFIG.robots_disallow).judge(facts, (), report)
    return report.findings


@pytest.mark.parametrize("path", ["/", "/resume/1", "/api/resumes/1", "/static/app.css"])
def test_browser_raises_nothing(path: str) -> None:
    """A browser UA is no evidence by itself, on any route."""
    assert findings(path, CHROME.encode()) == []


@pytest.mark.parametrize(
    ("user_agent", "reason"),
    [
        (GOOGLEBOT.encode(), "declared_bot:googlebot"),
        (b"python-requests/2.32.3", "automation:python-requests"),
        (b"curl/8.5.0", "automation:curl"),
        (None, "missing"),
        (b"", "missing"),
        (b"\xff\xfe", "malformed"),
        (b"A" * 16384, "malformed:too-long"),
        (b"AcmeMonitor/1.0", "other:acmemonitor"),
    ],
)
def test_reason_names_kind_and_family(user_agent: bytes | None, reason: str) -> None:
    """Each non-browser UA yields one finding named kind:family."""
    [finding] = findings("/", user_agent)
    assert finding.reason == reason


@pytest.mark.parametrize("user_agent", [GOOGLEBOT.encode(), b"python-requests/2.32.3", None])
def test_sensitive_routes_weigh_more(user_agent: bytes | None) -> None:
    """The same UA weighs more on a record page than on a public page."""
    [public] = findings("/jobs", user_agent)
    [record] = findings("/resume/42", user_agent)
    assert record.weight > public.weight


def test_robots_disallowed_paths_count_as_protected() -> None:
    """A path robots.txt disallows is weighted like a sensitive route."""
    [listing] = findings("/jobs", GOOGLEBOT.encode())
    [disallowed] = findings("/api/jobs", GOOGLEBOT.encode())
    [record] = findings("/resume/1", GOOGLEBOT.encode())
    assert disallowed.weight == record.weight > listing.weight


def test_declared_bot_on_public_page_is_welcome() -> None:
    """A declared crawler on a public listing is nowhere near the gray threshold."""
    [finding] = findings("/jobs", GOOGLEBOT.encode())
    assert finding.weight < CONFIG.thresholds.gray / 2


@pytest.mark.parametrize("user_agent", [GOOGLEBOT.encode(), b"python-requests/2.32.3"])
def test_bots_and_libraries_on_records_reach_block(user_agent: bytes) -> None:
    """A declared crawler or HTTP library reading a record is blocked on this evidence alone."""
    [finding] = findings("/resume/1", user_agent)
    assert finding.weight >= CONFIG.thresholds.block


def test_findings_force_nothing() -> None:
    """UA findings feed the score only; they never force an action."""
    [finding] = findings("/resume/1", b"curl/8.5.0")
    assert finding.action is Action.ALLOW
    assert finding.retry_after is None
