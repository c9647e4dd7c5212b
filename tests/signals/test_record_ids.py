"""BehaviourSignal with odd record ids: Unicode digits, huge ids, ids beyond int64."""

from __future__ import annotations

from typing import Any

import pytest

from guard.demo.config import demo_config
from guard.facts import FactExtractor, Facts
from guard.policy import Policy
from guard.signals.base import Report
from guard.signals.behaviour import PROFILE, BehaviourSignal
from guard.signals.profile import ClientProfile, profile_type
from guard.signing import Signer

T0 = 1_800_000_000.0
CONFIG = demo_config({})
EXTRACTOR = FactExtractor(CONFIG, Signer(b"k" * 32))


def facts_for(path: str, now: float = T0, user_agent: str = "curl/8.5.0") -> Facts:
    """Facts of a GET of ``path`` by one client."""
    scope: dict[str, Any] = {
        "type": "http",
        "path": path,
        "client": ("203.0.113.1", 1),
        "headers": [(b"user-agent", user_agent.encode())],
    }
    return EXTRACTOR.extract(scope, now)


def signal() -> BehaviourSignal:
    """The behaviour signal as the default config builds it."""
    return BehaviourSignal(
        CONFIG.key_prefix,
        CONFIG.honeypot_paths,
        CONFIG.robots_disallow,
        policy=Policy("enforce"),
    )


def judge(facts: Facts, profile: ClientProfile | None = None) -> Report:
    """Run judge() as if the store returned ``profile``."""
    report = Report()
    signal().judge(facts, [profile], report)
    return report


def test_record_id_feeds_the_profile() -> None:
    """A numeric record id is counted and remembered."""
    report = judge(facts_for("/resume/123"))
    profile = report.read(PROFILE)
    assert profile is not None
    assert profile.records == 1
    assert profile.last_record == 123


def test_sequential_walk_is_reported() -> None:
    """Walking record ids one by one is reported as sequential_ids."""
    profile = profile_type()()
    reasons: list[str] = []
    for step in range(8):
        report = judge(facts_for(f"/resume/{1000 + step}", T0 + 5 * step), profile)
        reasons = [finding.reason for finding in report.findings]
    assert "sequential_ids" in reasons


def test_honeypot_is_reported() -> None:
    """Fetching the honeypot listing is strong evidence of a crawler."""
    report = judge(facts_for("/resumes/all"))
    assert [f.reason for f in report.findings] == ["honeypot"]


def test_non_numeric_record_id_is_not_a_number() -> None:
    """A slug record id is counted as a document but not as a numbered record."""
    report = judge(facts_for("/resume/abc"))
    profile = report.read(PROFILE)
    assert profile is not None
    assert profile.records == 0


@pytest.mark.parametrize("record", ["\u00b2", "9" * 4301])
def test_odd_record_ids_do_not_raise(record: str) -> None:
    """Record ids that are not plain ASCII numbers are simply not numbers."""
    report = judge(facts_for(f"/resume/{record}"))
    profile = report.read(PROFILE)
    assert profile is not None
    assert profile.records == 0


def test_huge_record_id_still_packs() -> None:
    """A 20-digit record id leaves a profile that can still be packed."""
    report = judge(facts_for("/resume/" + "9" * 20))
    profile = report.read(PROFILE)
    assert profile is not None
    assert len(profile.pack()) == 94 + 18
