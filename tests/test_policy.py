"""Tests for guard.policy: from findings to a verdict."""

from __future__ import annotations

import pytest

from guard.config import Thresholds
from guard.errors import ConfigError
from guard.policy import MAX_REASONS, Policy, Verdict
from guard.signals.base import Finding
from guard.types import Action


@pytest.fixture
def policy() -> Policy:
    """An enforcing policy with the default thresholds (gray 0.6, block 0.9)."""
    return Policy("enforce", Thresholds())


def test_no_findings_allow(policy: Policy) -> None:
    """A request with no findings is allowed with score 0 and no reasons."""
    verdict = policy.decide([])
    assert verdict == Verdict(Action.ALLOW, 0.0, (), True, None, ())
    assert not verdict.refuses


@pytest.mark.parametrize(
    ("weights", "action"),
    [
        ([0.3], Action.ALLOW),
        ([0.59], Action.ALLOW),
        ([0.6], Action.CHALLENGE),
        ([0.5, 0.2], Action.CHALLENGE),
        ([0.89], Action.CHALLENGE),
        ([0.9], Action.BLOCK),
        ([0.5, 0.5, 0.5, 0.5], Action.BLOCK),
        ([0.95], Action.BLOCK),
    ],
)
def test_thresholds_map_score_to_action(
    policy: Policy, weights: list[float], action: Action
) -> None:
    """Below gray allows, from gray the gray action applies, from block (with hard
    evidence in the score) a block."""
    findings = [Finding(f"r{i}", w) for i, w in enumerate(weights)]
    findings[0].hard = True
    verdict = policy.decide(findings)
    assert verdict.action is action


@pytest.mark.parametrize("weights", [[0.9], [0.5, 0.5, 0.5, 0.5], [0.99, 0.99]])
def test_soft_evidence_alone_never_blocks(policy: Policy, weights: list[float]) -> None:
    """However much soft evidence combines (headers, timing, the model), it earns the
    gray action, which a person can get past, never a 403."""
    verdict = policy.decide([Finding(f"r{i}", w) for i, w in enumerate(weights)])
    assert verdict.score >= policy.thresholds.block
    assert verdict.action is Action.CHALLENGE


def test_hard_evidence_below_block_only_challenges(policy: Policy) -> None:
    """Hard evidence blocks only when the score reaches the block threshold."""
    verdict = policy.decide([Finding("robots_ignored", 0.7, hard=True)])
    assert verdict.action is Action.CHALLENGE


def test_a_clearance_covers_soft_evidence_but_not_hard(policy: Policy) -> None:
    """A cleared client is served despite soft evidence at any score; hard evidence at
    the block threshold and forced actions still refuse it."""
    soft = [Finding("model", 0.95), Finding("no_fetch_metadata", 0.4)]
    assert policy.decide(soft, cleared=True).action is Action.ALLOW
    hard = [Finding("honeypot", 0.95, hard=True)]
    assert policy.decide(hard, cleared=True).action is Action.BLOCK
    budget = [Finding("harvest_budget:ip:hour", 0.5, Action.BLOCK, 900.0)]
    assert policy.decide(budget, cleared=True).action is Action.BLOCK


def test_gray_action_is_configurable() -> None:
    """A gray score gets the configured gray action, e.g. a tarpit."""
    policy = Policy("enforce", Thresholds(gray=0.5, block=0.9, gray_action=Action.TARPIT))
    verdict = policy.decide([Finding("odd", 0.5)])
    assert verdict.action is Action.TARPIT
    assert not verdict.refuses


def test_thresholds_can_be_replaced_live(policy: Policy) -> None:
    """The next decision uses thresholds assigned after construction."""
    findings = [Finding("odd", 0.5)]
    assert policy.decide(findings).action is Action.ALLOW
    policy.thresholds = Thresholds(gray=0.4, block=0.45)
    assert policy.decide(findings).action is Action.CHALLENGE
    assert policy.decide([Finding("odd", 0.5, hard=True)]).action is Action.BLOCK


def test_forced_action_wins_over_low_score(policy: Policy) -> None:
    """A rate limit forces a throttle and a budget forces a block whatever the score."""
    throttle = Finding("rate_limit:ip", 0.3, Action.THROTTLE, 2.0)
    block = Finding("harvest_budget:ip:hour", 0.5, Action.BLOCK, 900.0)
    assert policy.decide([throttle]).action is Action.THROTTLE
    assert policy.decide([throttle, block]).action is Action.BLOCK


def test_score_wins_over_milder_forced_action(policy: Policy) -> None:
    """A blocking score is not softened by a finding that only forces a throttle."""
    findings = [
        Finding("rate_limit:ip", 0.3, Action.THROTTLE, 2.0),
        Finding("honeypot", 0.95, hard=True),
    ]
    assert policy.decide(findings).action is Action.BLOCK


def test_reasons_ranked_by_action_then_weight(policy: Policy) -> None:
    """Reasons list forcing findings first, then the heaviest, at most MAX_REASONS."""
    findings = [
        Finding("light", 0.1),
        Finding("heavy", 0.7),
        Finding("rate_limit:ip", 0.3, Action.THROTTLE, 1.0),
        Finding("medium", 0.4),
        Finding("harvest_budget:ip:hour", 0.5, Action.BLOCK, 900.0),
        Finding("lighter", 0.05),
        Finding("mid", 0.35),
    ]
    verdict = policy.decide(findings)
    assert len(verdict.reasons) == MAX_REASONS == 5
    assert verdict.reasons == (
        "harvest_budget:ip:hour",
        "rate_limit:ip",
        "heavy",
        "medium",
        "mid",
    )


def test_retry_after_is_the_largest(policy: Policy) -> None:
    """retry_after is the longest wait any finding names; none named gives None."""
    findings = [
        Finding("rate_limit:ip", 0.3, Action.THROTTLE, 2.0),
        Finding("rate_limit:network", 0.3, Action.THROTTLE, 7.5),
        Finding("odd", 0.2),
    ]
    assert policy.decide(findings).retry_after == 7.5
    assert policy.decide([Finding("odd", 0.2)]).retry_after is None
    assert policy.decide([Finding("odd", 0.2, retry_after=0.0)]).retry_after is None


def test_score_is_the_combined_weight(policy: Policy) -> None:
    """The verdict's score is the noisy-OR of the weights."""
    assert policy.decide([Finding("a", 0.5), Finding("b", 0.5)]).score == pytest.approx(0.75)


def test_shadow_mode_is_not_enforced() -> None:
    """In shadow mode the verdict carries the action but does not refuse."""
    shadow = Policy("shadow", Thresholds())
    verdict = shadow.decide([Finding("honeypot", 0.95, hard=True)])
    assert verdict.action is Action.BLOCK
    assert verdict.enforced is False
    assert verdict.refuses is False


def test_refuses_only_enforced_throttle_or_block() -> None:
    """Only enforced throttles and blocks refuse the request."""
    assert Verdict(Action.THROTTLE, 0.0).refuses
    assert Verdict(Action.BLOCK, 1.0).refuses
    assert not Verdict(Action.TARPIT, 0.7).refuses
    assert not Verdict(Action.ALLOW, 0.0).refuses
    assert not Verdict(Action.BLOCK, 1.0, enforced=False).refuses


def test_rate_policy_is_passed_through(policy: Policy) -> None:
    """The rate policies of the request reach the verdict as a tuple."""
    items = ['"sensitive-ip";q=30;w=60', '"sensitive-network";q=120;w=60']
    assert policy.decide([], items).rate_policy == tuple(items)


def test_as_dict_is_json_ready(policy: Policy) -> None:
    """as_dict gives labels and rounded numbers for logs."""
    verdict = policy.decide([Finding("rate_limit:ip", 0.3333333, Action.THROTTLE, 2.0)])
    assert verdict.as_dict() == {
        "action": "throttle",
        "score": 0.3333,
        "reasons": ["rate_limit:ip"],
        "enforced": True,
        "retry_after": 2.0,
        "incident": None,
    }


def test_exceeded_policy_comes_from_the_rate_finding(policy: Policy) -> None:
    """The verdict names the RateLimit-Policy item of the limit that refused, if any."""
    item = '"sensitive-network";q=120;w=60'
    finding = Finding("rate_limit:network", 0.3, Action.THROTTLE, 1.0, item)
    assert policy.decide([finding, Finding("odd", 0.4)]).exceeded_policy == item
    assert policy.decide([Finding("odd", 0.4)]).exceeded_policy is None


def test_weights_override_a_reason_or_its_family(policy: Policy) -> None:
    """A weight set for a reason wins over its family's, which wins over the signal's own;
    the reasons are ranked by the weights used."""
    findings = [Finding("automation:curl", 0.95, hard=True), Finding("no_cookies", 0.5)]
    assert policy.decide(findings).action is Action.BLOCK
    policy.weights = {"automation": 0.1}
    verdict = policy.decide(findings)
    assert verdict.action is Action.ALLOW
    assert verdict.reasons == ("no_cookies", "automation:curl")
    policy.weights = {"automation": 0.1, "automation:curl": 0.7}
    assert policy.decide(findings).score == pytest.approx(1 - 0.3 * 0.5)


@pytest.mark.parametrize(
    "change",
    [
        {"mode": "loud"},
        {"weights": {"no_cookies": 2.0}},
        {"weights": {"Not A Reason": 0.5}},
        {"thresholds": (0.5, 0.9)},
        {"mode": "shadow", "weights": {"x": -1}},
        {"shadow": ["not a reason"]},
        {"mode": "shadow", "shadow": ["model", "Bad!"]},
    ],
)
def test_a_bad_update_changes_nothing(policy: Policy, change: dict[str, object]) -> None:
    """An invalid value raises ConfigError and leaves every value as it was."""
    policy.update(weights={"no_cookies": 0.2})
    before = (policy.mode, policy.thresholds, dict(policy.weights), policy.shadow)
    with pytest.raises(ConfigError):
        policy.update(**change)  # type: ignore[arg-type]
    assert (policy.mode, policy.thresholds, dict(policy.weights), policy.shadow) == before


def test_shadowed_findings_are_logged_not_counted(policy: Policy) -> None:
    """A finding whose reason or family is in ``shadow`` neither scores nor forces: the
    verdict is what the other findings earn, and names the shadowed ones."""
    honeypot = Finding("honeypot", 0.95, hard=True)
    model = Finding("model:rate_10s+gap_cv", 0.7)
    limit = Finding("rate_limit:ip", 0.3, Action.THROTTLE, 2.0)
    policy.update(shadow=["model", "rate_limit:ip"])
    verdict = policy.decide([model, limit])
    assert (verdict.action, verdict.score, verdict.reasons) == (Action.ALLOW, 0.0, ())
    assert verdict.shadowed == ("model:rate_10s+gap_cv", "rate_limit:ip")
    assert verdict.as_dict()["shadowed"] == ["model:rate_10s+gap_cv", "rate_limit:ip"]
    both = policy.decide([honeypot, model])
    assert (both.action, both.reasons, both.shadowed) == (
        Action.BLOCK,
        ("honeypot",),
        ("model:rate_10s+gap_cv",),
    )
    policy.update(shadow=[])
    assert policy.decide([model, limit]).action is Action.THROTTLE
    assert "shadowed" not in policy.decide([model]).as_dict()


def test_thresholds_validate_themselves() -> None:
    """Thresholds with gray above block cannot be built, so cannot be set live."""
    with pytest.raises(ConfigError, match="gray"):
        Thresholds(gray=0.95, block=0.9)


def test_mode_decides_whether_verdicts_are_enforced(policy: Policy) -> None:
    """Shadow mode marks verdicts as not enforced; back to enforce, they are again."""
    findings = [Finding("honeypot", 0.95, hard=True)]
    policy.mode = "shadow"
    assert not policy.decide(findings).enforced
    policy.mode = "enforce"
    assert policy.decide(findings).refuses
