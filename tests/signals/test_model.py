"""Tests for guard.signals.model: the model's probability as one finding on the policy's scale."""

from __future__ import annotations

import itertools
import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest

from guard.config import Thresholds
from guard.demo.config import demo_config
from guard.facts import FactExtractor, Facts
from guard.model.runtime import Model, model_from_dict
from guard.policy import Policy
from guard.signals.base import Report
from guard.signals.behaviour import PROFILE, BehaviourSignal
from guard.signals.model import BELOW_BLOCK, MIN_WEIGHT, ModelSignal, model_signal
from guard.signals.profile import ClientProfile
from guard.signing import Signer
from guard.testing import chrome_headers

NOW = 1_800_000_000.0
CONFIG = demo_config({})
EXTRACTOR = FactExtractor(CONFIG, Signer(b"0123456789abcdef0123456789abcdef", max_age=3600.0))
POLICY = Policy("enforce", Thresholds())  # gray 0.6, block 0.9
SHADOW = Policy("shadow", Thresholds())


def linear_document(
    coef: dict[str, float], intercept: float, challenge: float = 0.5, block: float = 0.9
) -> dict[str, Any]:
    """A linear model document: probability = logistic(intercept + sum coef[f] * f)."""
    return {
        "format": "guard-behaviour-model",
        "version": 1,
        "features": list(coef),
        "estimator": {
            "kind": "linear",
            "coef": list(coef.values()),
            "intercept": intercept,
            "mean": [0.0] * len(coef),
            "scale": [1.0] * len(coef),
        },
        "thresholds": {"challenge": challenge, "block": block},
    }


def linear_model(
    coef: dict[str, float], intercept: float, challenge: float = 0.5, block: float = 0.9
) -> Model:
    """The model of :func:`linear_document`, loaded through JSON text."""
    document = linear_document(coef, intercept, challenge, block)
    return model_from_dict(json.loads(json.dumps(document)))


def logit(p: float) -> float:
    """The log-odds of ``p``."""
    return math.log(p / (1.0 - p))


def constant_model(probability: float) -> Model:
    """A model that gives ``probability`` whatever the request (it reads is_record with a
    zero coefficient)."""
    return linear_model({"is_record": 0.0}, logit(probability))


def visit(
    paths: list[str], gap: float = 5.0, headers: dict[str, str] | None = None
) -> tuple[Facts, Report]:
    """One client requests ``paths``; the facts and report (with the real profile kept by
    BehaviourSignal) of the last request."""
    behaviour = BehaviourSignal(
        CONFIG.key_prefix,
        CONFIG.honeypot_paths,
        CONFIG.robots_disallow,
        policy=Policy("enforce"),
    )
    profile: ClientProfile | None = None
    sent = {"host": "jobs.example", **(headers or chrome_headers())}
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent.items()]
    for n, path in enumerate(paths):
        scope = {"type": "http", "method": "GET", "path": path, "headers": raw}
        facts = EXTRACTOR.extract(scope, NOW + n * gap)
        report = Report()
        behaviour.judge(facts, [profile], report)
        profile = report.read(PROFILE)
    return facts, report


def model_findings(report: Report) -> list[tuple[str, float]]:
    """The findings the model signal added."""
    return [(f.reason, f.weight) for f in report.findings if f.reason.startswith("model")]


# -- weight ---------------------------------------------------------------------------------

GRID = [i / 1000 for i in range(1001)]
CASES = [
    ((0.5, 0.9), Thresholds()),
    ((0.3, 0.7), Thresholds(gray=0.5, block=0.8)),
    ((0.02, 0.2), Thresholds(gray=0.6, block=0.9)),
    ((0.8, 0.95), Thresholds(gray=0.3, block=0.5)),
    ((0.5, 1.0), Thresholds(gray=0.6, block=0.9)),
]
CASE_IDS = ["defaults", "lower-policy", "rare-positives", "strict-model", "block-at-one"]


@pytest.mark.parametrize(("model_thresholds", "policy"), CASES, ids=CASE_IDS)
def test_weight_maps_model_thresholds_onto_the_policys(
    model_thresholds: tuple[float, float], policy: Thresholds
) -> None:
    """The model's challenge threshold weighs the policy's gray, its block threshold (and
    anything above) just under the policy's block, and zero weighs zero: alone, the model
    challenges but never blocks."""
    challenge, block = model_thresholds
    signal = ModelSignal(linear_model({}, 0.0, challenge, block), Policy("enforce", policy))
    top = policy.block - BELOW_BLOCK
    assert signal.weight(0.0) == 0.0
    assert signal.weight(challenge) == pytest.approx(policy.gray)
    assert signal.weight(block) == pytest.approx(top)
    assert signal.weight(1.0) == pytest.approx(top)
    assert max(signal.weight(p) for p in GRID) < policy.block


@pytest.mark.parametrize(("model_thresholds", "policy"), CASES, ids=CASE_IDS)
def test_weight_is_monotone_and_within_zero_and_one(
    model_thresholds: tuple[float, float], policy: Thresholds
) -> None:
    """Over a grid of probabilities the weight never falls and stays in [0, 1]."""
    challenge, block = model_thresholds
    signal = ModelSignal(linear_model({}, 0.0, challenge, block), Policy("enforce", policy))
    weights = [signal.weight(p) for p in GRID]
    assert all(0.0 <= w <= 1.0 for w in weights)
    assert all(a <= b for a, b in itertools.pairwise(weights))
    below_block = [w for p, w in zip(GRID, weights, strict=True) if p <= block]
    assert all(a < b for a, b in itertools.pairwise(below_block))


def test_weight_with_equal_model_thresholds_steps_from_gray_to_block() -> None:
    """A model whose challenge and block thresholds coincide jumps from gray to just under
    block there, and stays."""
    signal = ModelSignal(linear_model({}, 0.0, 0.7, 0.7), POLICY)
    assert signal.weight(0.7 - 1e-9) == pytest.approx(POLICY.thresholds.gray)
    assert signal.weight(0.7) == pytest.approx(POLICY.thresholds.block - BELOW_BLOCK)
    assert signal.weight(0.85) == pytest.approx(POLICY.thresholds.block - BELOW_BLOCK)


# -- judge ----------------------------------------------------------------------------------


def test_static_assets_get_no_model_finding() -> None:
    """An asset request is never scored, however sure the model is."""
    facts, report = visit(["/", "/static/css/site.css"])
    ModelSignal(constant_model(0.999), POLICY).judge(facts, [], report)
    assert model_findings(report) == []


def test_without_a_profile_there_is_no_model_finding() -> None:
    """With no behaviour profile in the report (the behaviour signal did not run), no score."""
    facts, _ = visit(["/resume/100001"])
    report = Report()
    ModelSignal(constant_model(0.999), POLICY).judge(facts, [], report)
    assert report.findings == []


@pytest.mark.parametrize("probability", [1e-6, 0.01, 0.07])
def test_low_scores_add_no_finding(probability: float) -> None:
    """Probabilities whose weight is under MIN_WEIGHT add nothing."""
    signal = ModelSignal(constant_model(probability), POLICY)
    assert signal.weight(probability) < MIN_WEIGHT
    facts, report = visit(["/resume/100001"])
    signal.judge(facts, [], report)
    assert model_findings(report) == []


@pytest.mark.parametrize("probability", [0.09, 0.3, 0.49])
def test_scores_below_gray_add_a_plain_model_finding(probability: float) -> None:
    """A weight from MIN_WEIGHT up to the gray threshold is the finding 'model' alone."""
    signal = ModelSignal(constant_model(probability), POLICY)
    facts, report = visit(["/resume/100001"])
    signal.judge(facts, [], report)
    [(reason, weight)] = model_findings(report)
    assert reason == "model"
    assert weight == pytest.approx(POLICY.thresholds.gray * probability / 0.5)
    assert MIN_WEIGHT <= weight < POLICY.thresholds.gray


def test_a_score_at_gray_names_the_features() -> None:
    """A probability at the model's challenge threshold weighs exactly gray and names the
    features that raised it."""
    model = linear_model({"is_record": 2.0}, -2.0)
    facts, report = visit(["/resume/100001"])
    ModelSignal(model, POLICY).judge(facts, [], report)
    [(reason, weight)] = model_findings(report)
    assert reason == "model:is_record"
    assert weight == pytest.approx(POLICY.thresholds.gray)


def test_a_high_score_names_features_strongest_first() -> None:
    """Above gray the finding is 'model:' with the pushing features joined by '+', strongest
    first, and the weight on the policy's scale."""
    model = linear_model({"is_record": 1.0, "record_share": 3.0, "statics_per_page": 2.0}, -1.0)
    signal = ModelSignal(model, POLICY)
    facts, report = visit([f"/resume/{100001 + n}" for n in range(6)])
    signal.judge(facts, [], report)
    probability = 1 / (1 + math.exp(-(1.0 + 3.0 - 1.0)))
    [(reason, weight)] = model_findings(report)
    assert reason == "model:record_share+is_record"
    assert weight == pytest.approx(signal.weight(probability))
    assert weight >= POLICY.thresholds.gray


def test_the_model_reads_the_real_profile() -> None:
    """The same model scores a client by its behaviour: a sequential reader is named, a
    client on its first listing page is not."""
    model = linear_model({"sequential_share": 6.0, "record_share": 2.0}, -5.0)
    signal = ModelSignal(model, POLICY)
    facts, report = visit([f"/resume/{100001 + n}" for n in range(8)])
    signal.judge(facts, [], report)
    assert [reason for reason, _ in model_findings(report)] == [
        "model:sequential_share+record_share"
    ]
    facts, report = visit(["/resumes"])
    signal.judge(facts, [], report)
    assert model_findings(report) == []


def test_untracked_cookies_do_not_count_against_a_client() -> None:
    """In shadow mode (cookies not tracked) a client that returns no cookie is not scored
    for it; when they are tracked it is."""
    document = linear_document({"cookie_share": -6.0}, -3.0)
    document["estimator"]["mean"] = [1.0]  # z = -3 - 6 * (cookie_share - 1)
    model = model_from_dict(document)
    facts, report = visit([f"/resume/{100001 + 3 * n}" for n in range(5)])
    ModelSignal(model, POLICY).judge(facts, [], report)
    assert [reason for reason, _ in model_findings(report)] == ["model:cookie_share"]
    facts, report = visit([f"/resume/{100001 + 3 * n}" for n in range(5)])
    ModelSignal(model, SHADOW).judge(facts, [], report)
    assert model_findings(report) == []


# -- model_signal(config) -------------------------------------------------------------------


def test_model_off_gives_no_signal_and_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """model = "off" turns the model off quietly."""
    with caplog.at_level(logging.DEBUG, logger="guard"):
        assert model_signal(demo_config({"model": "off"}), Policy("enforce")) is None
    assert caplog.records == []


@pytest.mark.parametrize(
    "content",
    ["{corrupt", "[]", json.dumps({**linear_document({"rate_10s": 1.0}, 0.0), "version": 9})],
    ids=["not-json", "not-an-object", "wrong-version"],
)
def test_a_bad_model_file_gives_no_signal_and_logs_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    """A model file that will not load leaves the guard on its rules, with an ERROR log
    naming the file."""
    path = tmp_path / "behaviour.json"
    path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger="guard"):
        assert model_signal(demo_config({"model": str(path)}), Policy("enforce")) is None
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.name == "guard"
    assert "running on rules alone" in record.getMessage()
    assert str(path) in record.getMessage()


def test_a_missing_model_file_gives_no_signal_and_logs_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A model path with no file behind it logs an ERROR and gives no signal."""
    path = tmp_path / "absent.json"
    with caplog.at_level(logging.DEBUG, logger="guard"):
        assert model_signal(demo_config({"model": str(path)}), Policy("enforce")) is None
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert str(path) in caplog.records[0].getMessage()


@pytest.mark.parametrize(("mode", "tracked"), [("enforce", True), ("shadow", False)])
def test_a_good_model_file_gives_a_configured_signal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: str, tracked: bool
) -> None:
    """A valid file gives a ModelSignal with the policy's thresholds, tracking cookies only
    when the guard enforces."""
    path = tmp_path / "behaviour.json"
    path.write_text(json.dumps(linear_document({"rate_10s": 1.0}, 0.0, 0.4, 0.8)), "utf-8")
    config = demo_config(
        {"model": str(path), "mode": mode, "thresholds": {"gray": 0.5, "block": 0.85}}
    )
    with caplog.at_level(logging.DEBUG, logger="guard"):
        signal = model_signal(config, Policy(config.mode, config.thresholds))
    assert caplog.records == []
    assert signal is not None
    assert signal.model.features == ("rate_10s",)
    assert (signal.model.challenge, signal.model.block) == (0.4, 0.8)
    assert signal.policy.thresholds == config.thresholds
    assert signal.policy.enforced is tracked
