"""Tests for guard.model.runtime: exported models score as scikit-learn does, and hostile or
broken model files fail with a ModelError that names the problem."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from guard.errors import ModelError
from guard.learn.export import export_model
from guard.model.features import FEATURES, INDEX
from guard.model.runtime import (
    MAX_DEPTH,
    MAX_NODES,
    Model,
    load_model,
    model_from_dict,
    shipped_model_path,
)

Document = dict[str, Any]
Matrix = np.ndarray[Any, np.dtype[np.float64]]
IDENTITY: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
ESTIMATORS: dict[str, Callable[[], object]] = {
    "gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0),
    "forest": lambda: RandomForestClassifier(n_estimators=20, max_depth=10, random_state=0),
    "linear": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
}


def float32_rows(rng: np.random.Generator, rows: int, columns: int = len(FEATURES)) -> Matrix:
    """Normal data that float32 represents exactly, as scikit-learn's trees compare it."""
    return rng.normal(size=(rows, columns)).astype(np.float32).astype(np.float64)


def round_trip(document: Document) -> Model:
    """Load ``document`` as a file would deliver it: through JSON text."""
    return model_from_dict(json.loads(json.dumps(document)))


def trained(
    kind: str, x: Matrix, y: np.ndarray[Any, Any], names: tuple[str, ...] = FEATURES
) -> tuple[Any, Model]:
    """A fitted estimator of ``kind`` and the runtime model exported from it."""
    estimator: Any = ESTIMATORS[kind]()
    # One OpenMP thread: on a small, busy machine spinning threads make a fit 100 times slower.
    with threadpool_limits(limits=1):
        estimator.fit(x, y)
    document = export_model(estimator, names, IDENTITY, (0.5, 0.9), {"seed": 7})
    return estimator, round_trip(document)


def leaf_tree(value: float = 0.25) -> Document:
    """A tree that is one leaf."""
    return {"feature": [0], "threshold": [0.0], "left": [-1], "right": [-1], "value": [value]}


def stump(low: float = 0.1, high: float = 0.9) -> Document:
    """One split on the model's first feature at 0.5: ``low`` at or below, ``high`` above."""
    return {
        "feature": [0, 0, 0],
        "threshold": [0.5, 0.0, 0.0],
        "left": [1, -1, -1],
        "right": [2, -1, -1],
        "value": [(low + high) / 2, low, high],
    }


def comb(splits: int) -> Document:
    """A tree ``splits`` splits deep: split k sends values <= k left to a leaf worth k and
    larger values on to split k + 1; the last leaf is worth ``splits``."""
    size = 2 * splits + 1
    tree: Document = {
        "feature": [0] * size,
        "threshold": [0.0] * size,
        "left": [-1] * size,
        "right": [-1] * size,
        "value": [0.0] * size,
    }
    for k in range(splits):
        inner = 2 * k
        tree["threshold"][inner] = float(k)
        tree["left"][inner], tree["right"][inner] = inner + 1, inner + 2
        tree["value"][inner + 1] = float(k)
    tree["value"][size - 1] = float(splits)
    return tree


def trees_document(
    *trees: Document, features: tuple[str, ...] = ("rate_10s",), aggregate: str = "mean"
) -> Document:
    """A tree model document over ``features`` with identity calibration."""
    return {
        "format": "guard-behaviour-model",
        "version": 1,
        "features": list(features),
        "estimator": {"kind": "trees", "aggregate": aggregate, "base": 0.0, "trees": list(trees)},
        "thresholds": {"challenge": 0.5, "block": 0.9},
    }


def linear_document(
    features: tuple[str, ...], coef: list[float], intercept: float = 0.0
) -> Document:
    """A linear model document with unit scale and zero mean, so z = intercept + coef . v."""
    return {
        "format": "guard-behaviour-model",
        "version": 1,
        "features": list(features),
        "estimator": {
            "kind": "linear",
            "coef": coef,
            "intercept": intercept,
            "mean": [0.0] * len(features),
            "scale": [1.0] * len(features),
        },
        "thresholds": {"challenge": 0.5, "block": 0.9},
    }


def vector(**values: float) -> list[float]:
    """A full feature vector: zeros except the named features."""
    row = [0.0] * len(FEATURES)
    for name, value in values.items():
        row[INDEX[name]] = value
    return row


def logit(p: float) -> float:
    """The log-odds of ``p``: the linear input whose logistic output is ``p``."""
    return math.log(p / (1.0 - p))


# -- scoring agrees with scikit-learn -------------------------------------------------------


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_score_equals_sklearn_predict_proba(kind: str) -> None:
    """An exported model's score equals scikit-learn's predict_proba on every row."""
    rng = np.random.default_rng(7)
    x = float32_rows(rng, 800)
    noise = rng.normal(scale=0.7, size=len(x))
    y = x[:, 3] + 0.6 * x[:, 9] - 0.4 * x[:, 0] * x[:, 11] + noise > 0
    estimator, model = trained(kind, x, y)
    held_out = float32_rows(rng, 300)
    expected = estimator.predict_proba(held_out)[:, 1]
    actual = np.array([model.score(row.tolist()) for row in held_out])
    assert np.abs(actual - expected).max() <= 1e-9
    assert 0.05 < actual.mean() < 0.95  # the rows are not all one class


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_a_feature_subset_in_another_order_reads_the_right_columns(kind: str) -> None:
    """A model trained on three features, listed out of FEATURES order, scores full vectors
    as scikit-learn scores those three columns."""
    names = ("statics_per_page", "header_anomaly", "rate_10s")
    columns = [INDEX[name] for name in names]
    rng = np.random.default_rng(11)
    full = float32_rows(rng, 700)
    y = full[:, columns[0]] - 0.8 * full[:, columns[2]] + rng.normal(scale=0.5, size=700) > 0
    estimator, model = trained(kind, full[:, columns], y, names)
    held_out = float32_rows(rng, 300)
    expected = estimator.predict_proba(held_out[:, columns])[:, 1]
    actual = np.array([model.score(row.tolist()) for row in held_out])
    assert model.features == names
    assert np.abs(actual - expected).max() <= 1e-9


def test_export_keeps_thresholds_and_meta() -> None:
    """The thresholds and training metadata survive export and loading."""
    rng = np.random.default_rng(3)
    x = float32_rows(rng, 200)
    _, model = trained("linear", x, x[:, 0] > 0)
    assert (model.challenge, model.block) == (0.5, 0.9)
    assert model.meta == {"seed": 7}


def test_logistic_outputs_saturate_without_overflow() -> None:
    """Huge negative or positive inputs give 0 and 1, for linear and boosted models alike."""
    linear = round_trip(linear_document(("rate_10s",), [1.0]))
    boosted = round_trip(
        trees_document(stump(-1.0, 1.0), features=("rate_10s",), aggregate="logistic_sum")
    )
    boosted_far = round_trip(
        trees_document(stump(-1000.0, 1000.0), features=("rate_10s",), aggregate="logistic_sum")
    )
    assert linear.score(vector(rate_10s=-1000.0)) == 0.0
    assert linear.score(vector(rate_10s=1000.0)) == 1.0
    assert boosted.score(vector(rate_10s=1.0)) == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert boosted_far.score(vector(rate_10s=0.0)) == 0.0
    assert boosted_far.score(vector(rate_10s=1.0)) == 1.0


def test_forest_score_is_the_mean_of_its_trees() -> None:
    """With aggregate 'mean' the score is the average of the leaves the vector reaches."""
    model = round_trip(trees_document(stump(0.1, 0.9), stump(0.3, 0.5), leaf_tree(0.2)))
    assert model.score(vector(rate_10s=0.0)) == pytest.approx((0.1 + 0.3 + 0.2) / 3)
    assert model.score(vector(rate_10s=0.5)) == pytest.approx((0.1 + 0.3 + 0.2) / 3)
    assert model.score(vector(rate_10s=0.6)) == pytest.approx((0.9 + 0.5 + 0.2) / 3)


def test_the_deepest_allowed_tree_loads_and_scores_every_leaf() -> None:
    """A tree MAX_DEPTH levels deep (counting its root) compiles and reaches each leaf."""
    model = round_trip(trees_document(comb(MAX_DEPTH - 1)))
    for k in range(MAX_DEPTH):
        assert model.score(vector(rate_10s=k - 0.5)) == k


# -- calibration ----------------------------------------------------------------------------


def calibrated(xs: list[float], ys: list[float]) -> Model:
    """A model whose raw output is the logistic of rate_10s, calibrated through (xs, ys)."""
    document = linear_document(("rate_10s",), [1.0])
    document["calibration"] = {"x": xs, "y": ys}
    return round_trip(document)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0.05, 0.1),  # below the first point: clipped to its y
        (0.2, 0.1),
        (0.35, 0.2),  # halfway between (0.2, 0.1) and (0.5, 0.3)
        (0.5, 0.3),
        (0.65, 0.6),  # halfway between (0.5, 0.3) and (0.8, 0.9)
        (0.8, 0.9),
        (0.97, 0.9),  # above the last point: clipped to its y
    ],
)
def test_calibration_interpolates_between_points_and_clips_at_the_ends(
    raw: float, expected: float
) -> None:
    """Calibration is piecewise linear through its points and flat outside them."""
    model = calibrated([0.2, 0.5, 0.8], [0.1, 0.3, 0.9])
    assert model.score(vector(rate_10s=logit(raw))) == pytest.approx(expected, abs=1e-9)


def test_empty_calibration_is_the_identity() -> None:
    """Without calibration points the score is the raw model output."""
    model = calibrated([], [])
    for raw in (0.01, 0.3, 0.77, 0.999):
        assert model.score(vector(rate_10s=logit(raw))) == pytest.approx(raw, abs=1e-12)


def test_a_vertical_step_in_calibration_takes_the_upper_value() -> None:
    """Two points at the same x make a step: from that x on, the upper y applies."""
    model = calibrated([0.0, 0.5, 0.5, 1.0], [0.0, 0.2, 0.8, 1.0])
    assert model.score(vector(rate_10s=logit(0.25))) == pytest.approx(0.1)
    assert model.score(vector(rate_10s=0.0)) == pytest.approx(0.8)
    assert model.score(vector(rate_10s=logit(0.75))) == pytest.approx(0.9)


# -- explanations ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_explain_names_the_driving_feature_first(kind: str) -> None:
    """When one feature decides the target, explain() names it first for positive rows."""
    rng = np.random.default_rng(5)
    x = float32_rows(rng, 800)
    _, model = trained(kind, x, x[:, INDEX["rate_10s"]] > 0)
    positives = [row.tolist() for row in float32_rows(rng, 200) if row[INDEX["rate_10s"]] > 0.5]
    assert len(positives) > 40
    for row in positives:
        assert model.explain(row)[0] == "rate_10s"


def test_explain_names_only_positive_contributions_of_a_linear_model() -> None:
    """Features that pushed the score down or not at all are never named; top limits the list."""
    model = round_trip(
        linear_document(("rate_10s", "rate_5m", "error_share", "head_share"), [2.0, -1.0, 0.0, 0.5])
    )
    row = vector(rate_10s=1.0, rate_5m=1.0, error_share=1.0, head_share=1.0)
    assert model.explain(row) == ["rate_10s", "head_share"]
    assert model.explain(row, top=1) == ["rate_10s"]
    assert model.explain(vector(rate_10s=-1.0, rate_5m=1.0, head_share=-1.0)) == []


def test_explain_names_only_positive_contributions_of_a_tree() -> None:
    """A split that lowers the expected output is not named; one that raises it is."""
    model = round_trip(trees_document(stump(0.1, 0.9), features=("error_share",)))
    assert model.explain(vector(error_share=1.0)) == ["error_share"]
    assert model.explain(vector(error_share=0.0)) == []


def test_explain_sums_a_feature_over_trees_and_ranks_by_total() -> None:
    """Contributions add up per feature across trees, and the larger total comes first."""
    small = stump(0.4, 0.6)  # +0.1 above the split
    large = stump(0.25, 0.75)  # +0.25 above the split, on the second feature
    large["feature"][0] = 1
    model = round_trip(trees_document(small, small, large, features=("rate_10s", "rate_5m")))
    # rate_10s: 2 x 0.1 / 3 trees; rate_5m: 0.25 / 3. Then 3 x 0.1 / 4 against 0.25 / 4.
    assert model.explain(vector(rate_10s=1.0, rate_5m=1.0)) == ["rate_5m", "rate_10s"]
    triple = round_trip(
        trees_document(small, small, small, large, features=("rate_10s", "rate_5m"))
    )
    assert triple.explain(vector(rate_10s=1.0, rate_5m=1.0)) == ["rate_10s", "rate_5m"]


# -- loading files --------------------------------------------------------------------------


def test_a_file_loads_the_same_as_its_document(tmp_path: Path) -> None:
    """load_model on a written file gives the model model_from_dict gives for its content."""
    rng = np.random.default_rng(9)
    x = float32_rows(rng, 300)
    estimator: Any = ESTIMATORS["forest"]()
    estimator.fit(x, x[:, 2] - x[:, 5] > 0)
    document = export_model(estimator, FEATURES, ([0.0, 1.0], [0.0, 1.0]), (0.4, 0.8), {"n": 1})
    path = tmp_path / "behaviour.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    from_file, from_text_path = load_model(path), load_model(str(path))
    from_dict = model_from_dict(document)
    rows = float32_rows(rng, 100).tolist()
    assert [from_file.score(r) for r in rows] == [from_dict.score(r) for r in rows]
    assert [from_text_path.score(r) for r in rows] == [from_dict.score(r) for r in rows]
    assert (from_file.features, from_file.challenge, from_file.block, from_file.meta) == (
        FEATURES,
        0.4,
        0.8,
        {"n": 1},
    )


def test_shipped_model_path_is_a_path_to_behaviour_json() -> None:
    """The shipped model's location is a Path named behaviour.json."""
    path = shipped_model_path()
    assert isinstance(path, Path)
    assert path.name == "behaviour.json"


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    """A path with no file behind it raises ModelError naming the path."""
    missing = tmp_path / "absent.json"
    with pytest.raises(ModelError, match=r"cannot read model .*absent\.json"):
        load_model(missing)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b'{"format": "guard-behaviour-model",', b"\xff\xfe\x00garbage"],
    ids=["syntax", "empty", "truncated", "not-utf8"],
)
def test_unreadable_file_is_a_model_error(tmp_path: Path, content: bytes) -> None:
    """Text that is not JSON (or not UTF-8) raises ModelError saying it cannot be read."""
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=r"cannot read model .*broken\.json"):
        load_model(path)


def test_an_invalid_document_in_a_file_names_the_file_and_the_problem(tmp_path: Path) -> None:
    """A file that parses but is no model raises ModelError naming both file and problem."""
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(ModelError, match=r"model .*list\.json: the file must be an object"):
        load_model(path)


# -- invalid documents ----------------------------------------------------------------------


def valid_tree_model() -> Document:
    """A valid two-feature tree model to break one field at a time."""
    return trees_document(stump(), leaf_tree(), features=("rate_10s", "rate_5m"))


def valid_linear_model() -> Document:
    """A valid two-feature linear model to break one field at a time."""
    return linear_document(("rate_10s", "rate_5m"), [1.0, 2.0], 0.5)


def first_tree(document: Document) -> Document:
    """The first tree of a tree model document."""
    tree: Document = document["estimator"]["trees"][0]
    return tree


Breaker = Callable[[Document], object]


def set_in(path: tuple[str | int, ...], value: object) -> Breaker:
    """A breaker that sets the field at ``path`` (keys and list indexes) to ``value``."""

    def breaker(document: Document) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return breaker


TREE0 = ("estimator", "trees", 0)
INVALID_TREE_MODELS: dict[str, tuple[Breaker, str]] = {
    "format": (set_in(("format",), "sklearn-pickle"), "not a guard-behaviour-model version 1"),
    "version": (set_in(("version",), 2), "not a guard-behaviour-model version 1"),
    "no-version": (lambda d: d.pop("version"), "not a guard-behaviour-model version 1"),
    "unknown-feature": (
        set_in(("features", 1), "mouse_wiggles"),
        "needs features this guard does not compute: mouse_wiggles",
    ),
    "features-not-strings": (set_in(("features",), [1, 2]), "features must be a list of strings"),
    "features-missing": (lambda d: d.pop("features"), "features must be a list of strings"),
    "estimator-not-object": (set_in(("estimator",), [1]), "estimator must be an object"),
    "estimator-kind": (
        set_in(("estimator", "kind"), "pickle"),
        "estimator kind must be 'trees' or 'linear', not 'pickle'",
    ),
    "aggregate": (
        set_in(("estimator", "aggregate"), "max"),
        "trees need aggregate 'logistic_sum' or 'mean'",
    ),
    "no-trees": (set_in(("estimator", "trees"), []), "estimator.trees must be a non-empty list"),
    "tree-not-object": (set_in((*TREE0,), "tree"), "tree 0 must be an object"),
    "cycle": (set_in((*TREE0, "right", 0), 0), "tree 0 node 0: child out of order or range"),
    "self-loop": (set_in((*TREE0, "left", 0), 0), "tree 0 node 0: child out of order or range"),
    "backwards-pair": (
        lambda d: first_tree(d).update(left=[1, 0, -1], right=[2, 0, -1]),
        "tree 0 node 1: child out of order or range",
    ),
    "child-out-of-range": (
        set_in((*TREE0, "right", 0), 7),
        "tree 0 node 0: child out of order or range",
    ),
    "one-child": (set_in((*TREE0, "right", 0), -1), "tree 0 node 0: one child only"),
    "feature-out-of-range": (
        set_in((*TREE0, "feature", 0), 2),
        "tree 0 node 0: feature 2 out of range",
    ),
    "negative-feature": (
        set_in((*TREE0, "feature", 0), -1),
        "tree 0 node 0: feature -1 out of range",
    ),
    "short-threshold": (
        set_in((*TREE0, "threshold"), [0.5, 0.0]),
        "tree 0: node arrays differ in length",
    ),
    "long-left": (set_in((*TREE0, "left"), [1, -1, -1, -1]), "tree 0: node arrays differ"),
    "no-nodes": (
        lambda d: first_tree(d).update(feature=[], threshold=[], left=[], right=[], value=[]),
        "tree 0: node arrays differ in length",
    ),
    "nan-threshold": (
        set_in((*TREE0, "threshold", 0), math.nan),
        "tree 0 threshold must be a finite number",
    ),
    "inf-value": (set_in((*TREE0, "value", 1), math.inf), "tree 0 value must be a finite number"),
    "bool-value": (set_in((*TREE0, "value", 1), True), "tree 0 value must be a finite number"),
    "string-threshold": (
        set_in((*TREE0, "threshold", 0), "0.5"),
        "tree 0 threshold must be a finite number",
    ),
    "float-child": (set_in((*TREE0, "left", 0), 1.0), "tree 0 left must be a list of integers"),
    "bool-child": (set_in((*TREE0, "right", 0), True), "tree 0 right must be a list of integers"),
    "string-feature-index": (
        set_in((*TREE0, "feature", 0), "0"),
        "tree 0 feature must be a list of integers",
    ),
    "values-not-list": (set_in((*TREE0, "value"), 0.5), "tree 0 value must be a list of numbers"),
    "nan-base": (set_in(("estimator", "base"), math.nan), "estimator.base must be a finite"),
    "thresholds-missing": (lambda d: d.pop("thresholds"), "thresholds must be an object"),
    "challenge-above-block": (
        set_in(("thresholds",), {"challenge": 0.95, "block": 0.9}),
        "thresholds need 0 < challenge <= block <= 1",
    ),
    "challenge-zero": (
        set_in(("thresholds", "challenge"), 0.0),
        "thresholds need 0 < challenge <= block <= 1",
    ),
    "block-above-one": (
        set_in(("thresholds", "block"), 1.5),
        "thresholds need 0 < challenge <= block <= 1",
    ),
    "nan-challenge": (
        set_in(("thresholds", "challenge"), math.nan),
        "thresholds.challenge must be a finite number",
    ),
    "inf-block": (
        set_in(("thresholds", "block"), -math.inf),
        "thresholds.block must be a finite number",
    ),
    "bool-block": (set_in(("thresholds", "block"), True), "thresholds.block must be a finite"),
    "string-challenge": (
        set_in(("thresholds", "challenge"), "0.5"),
        "thresholds.challenge must be a finite number",
    ),
    "calibration-unsorted": (
        set_in(("calibration",), {"x": [0.5, 0.2], "y": [0.1, 0.2]}),
        "calibration.x must be sorted and as long as calibration.y",
    ),
    "calibration-lengths": (
        set_in(("calibration",), {"x": [0.2, 0.5], "y": [0.1]}),
        "calibration.x must be sorted and as long as calibration.y",
    ),
    "calibration-nan": (
        set_in(("calibration",), {"x": [0.2, math.nan], "y": [0.1, 0.2]}),
        "calibration.x must be a finite number",
    ),
    "calibration-missing-y": (
        set_in(("calibration",), {"x": [0.2]}),
        "calibration.y must be a list of numbers",
    ),
    "calibration-not-object": (set_in(("calibration",), None), "calibration must be an object"),
}


@pytest.mark.parametrize(
    ("breaker", "message"), list(INVALID_TREE_MODELS.values()), ids=list(INVALID_TREE_MODELS)
)
def test_an_invalid_tree_model_is_a_model_error(breaker: Breaker, message: str) -> None:
    """Each broken field of a tree model raises ModelError with a message naming it."""
    document = valid_tree_model()
    round_trip(document)  # valid before breaking
    breaker(document)
    with pytest.raises(ModelError, match=re.escape(message)):
        round_trip(document)


INVALID_LINEAR_MODELS: dict[str, tuple[Breaker, str]] = {
    "short-coef": (
        set_in(("estimator", "coef"), [1.0]),
        "coef, mean and scale need one value per feature",
    ),
    "long-mean": (
        set_in(("estimator", "mean"), [0.0, 0.0, 0.0]),
        "coef, mean and scale need one value per feature",
    ),
    "zero-scale": (set_in(("estimator", "scale", 1), 0.0), "estimator.scale may not contain 0"),
    "nan-coef": (set_in(("estimator", "coef", 0), math.nan), "estimator.coef must be a finite"),
    "inf-mean": (set_in(("estimator", "mean", 0), math.inf), "estimator.mean must be a finite"),
    "bool-intercept": (
        set_in(("estimator", "intercept"), False),
        "estimator.intercept must be a finite number",
    ),
    "string-intercept": (
        set_in(("estimator", "intercept"), "1); import os"),
        "estimator.intercept must be a finite number",
    ),
    "missing-intercept": (
        lambda d: d["estimator"].pop("intercept"),
        "estimator.intercept must be a finite number",
    ),
    "scale-not-list": (set_in(("estimator", "scale"), {"a": 1}), "estimator.scale must be a list"),
}


@pytest.mark.parametrize(
    ("breaker", "message"), list(INVALID_LINEAR_MODELS.values()), ids=list(INVALID_LINEAR_MODELS)
)
def test_an_invalid_linear_model_is_a_model_error(breaker: Breaker, message: str) -> None:
    """Each broken field of a linear model raises ModelError with a message naming it."""
    document = valid_linear_model()
    round_trip(document)  # valid before breaking
    breaker(document)
    with pytest.raises(ModelError, match=re.escape(message)):
        round_trip(document)


@pytest.mark.parametrize("document", [[], "model", 3, None], ids=["list", "string", "int", "null"])
def test_a_document_that_is_not_an_object_is_a_model_error(document: object) -> None:
    """A JSON value other than an object is refused."""
    with pytest.raises(ModelError, match="the file must be an object"):
        model_from_dict(json.loads(json.dumps(document)))


def test_nan_written_by_python_json_is_refused_from_a_file(tmp_path: Path) -> None:
    """Python's json writes NaN and Infinity; a file carrying them is refused, not loaded."""
    document = valid_linear_model()
    document["estimator"]["coef"] = [math.nan, math.inf]
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert "NaN" in path.read_text(encoding="utf-8")
    with pytest.raises(ModelError, match=r"estimator\.coef must be a finite number"):
        load_model(path)


def test_an_injected_feature_name_is_unknown_and_never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feature name holding Python code is refused as an unknown feature, not executed."""
    calls: list[str] = []

    def system(command: str) -> int:
        calls.append(command)
        return 0

    monkeypatch.setattr(os, "system", system)
    injected = "__import__('os').system('x')"
    document = valid_linear_model()
    document["features"] = ["rate_10s", injected]
    with pytest.raises(ModelError, match="needs features this guard does not compute") as caught:
        round_trip(document)
    assert injected in str(caught.value)
    assert calls == []


def test_more_than_max_nodes_is_a_model_error() -> None:
    """A model with more than MAX_NODES nodes in all is refused before it is compiled."""
    per_tree = MAX_NODES // 2 + 1
    big: Document = {
        "feature": [0] * per_tree,
        "threshold": [0.0] * per_tree,
        "left": [-1] * per_tree,
        "right": [-1] * per_tree,
        "value": [0.0] * per_tree,
    }
    with pytest.raises(ModelError, match=f"more than {MAX_NODES} nodes"):
        model_from_dict(trees_document(big, big))


def test_a_tree_deeper_than_max_depth_is_a_model_error() -> None:
    """A tree one level deeper than MAX_DEPTH is refused rather than compiled."""
    with pytest.raises(ModelError, match=f"a tree deeper than {MAX_DEPTH}"):
        round_trip(trees_document(comb(MAX_DEPTH)))


def test_a_tree_far_deeper_than_max_depth_is_a_model_error() -> None:
    """A 5,000-level chain is refused with a ModelError (no RecursionError or SyntaxError)."""
    with pytest.raises(ModelError, match=f"a tree deeper than {MAX_DEPTH}"):
        round_trip(trees_document(comb(5000)))


# -- known gaps: hostile files that escape as other exceptions or cost exponential time ------


def test_a_huge_integer_is_a_model_error() -> None:
    """A number too large for a float (a 400-digit JSON integer) raises ModelError."""
    document = valid_tree_model()
    first_tree(document)["value"][1] = 10**400
    with pytest.raises(ModelError, match="tree 0 value must be a finite number"):
        round_trip(document)


def test_an_integer_past_pythons_digit_limit_is_a_model_error(tmp_path: Path) -> None:
    """A JSON integer of 5,000 digits (past Python's conversion limit) raises ModelError."""
    path = tmp_path / "digits.json"
    path.write_text('{"format": ' + "9" * 5000 + "}", encoding="utf-8")
    with pytest.raises(ModelError, match=r"digits\.json"):
        load_model(path)


def test_deeply_nested_json_is_a_model_error(tmp_path: Path) -> None:
    """A file of 100,000 nested arrays raises ModelError, not RecursionError."""
    path = tmp_path / "nested.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ModelError, match=r"nested\.json"):
        load_model(path)


def test_a_node_with_two_parents_is_a_model_error() -> None:
    """Nodes must form a tree: a child reached from two parents (a DAG, whose compiled
    source doubles with every level) is refused."""
    document = valid_tree_model()
    first_tree(document).update(
        feature=[0, 0, 0], threshold=[0.5, 0.5, 0.0], left=[1, 2, -1], right=[1, 2, -1]
    )
    with pytest.raises(ModelError, match="tree 0"):
        round_trip(document)
