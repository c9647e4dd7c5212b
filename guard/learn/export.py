"""Trained scikit-learn estimators to the guard's JSON model format (no pickles).

Supported: ``HistGradientBoostingClassifier`` and ``RandomForestClassifier`` (as trees),
and a ``Pipeline(StandardScaler, LogisticRegression)`` (as a linear model). Every node keeps
its mean output so that the runtime can say which features drove a score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from guard.model.runtime import FORMAT, VERSION


def export_model(
    estimator: object,
    features: Sequence[str],
    calibration: tuple[Sequence[float], Sequence[float]],
    thresholds: tuple[float, float],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """The model document for ``estimator`` trained on ``features`` (in that column order)."""
    if isinstance(estimator, HistGradientBoostingClassifier):
        body = _gradient_boosting(estimator)
    elif isinstance(estimator, RandomForestClassifier):
        body = _forest(estimator)
    elif isinstance(estimator, Pipeline):
        body = _linear(estimator)
    else:
        raise TypeError(f"cannot export {type(estimator).__name__}")
    cal_x, cal_y = calibration
    return {
        "format": FORMAT,
        "version": VERSION,
        "features": list(features),
        "estimator": body,
        "calibration": {"x": [float(v) for v in cal_x], "y": [float(v) for v in cal_y]},
        "thresholds": {"challenge": float(thresholds[0]), "block": float(thresholds[1])},
        "meta": dict(meta),
    }


def _gradient_boosting(model: HistGradientBoostingClassifier) -> dict[str, Any]:
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        if nodes["is_categorical"].any():
            raise TypeError("categorical splits are not supported")
        trees.append(
            _tree(
                nodes["feature_idx"],
                nodes["num_threshold"],
                nodes["left"],
                nodes["right"],
                leaf,
                nodes["value"].astype(np.float64),
                nodes["count"].astype(np.float64),
            )
        )
    base = float(np.ravel(model._baseline_prediction)[0])
    return {"kind": "trees", "aggregate": "logistic_sum", "base": base, "trees": trees}


def _forest(model: RandomForestClassifier) -> dict[str, Any]:
    positive = list(model.classes_).index(True) if True in model.classes_ else 1
    trees = []
    for estimator in model.estimators_:
        t = estimator.tree_
        leaf = t.children_left == -1
        share = t.value[:, 0, :] / t.value[:, 0, :].sum(axis=1, keepdims=True)
        trees.append(
            _tree(
                t.feature,
                t.threshold,
                t.children_left,
                t.children_right,
                leaf,
                share[:, positive],
                t.weighted_n_node_samples.astype(np.float64),
            )
        )
    return {"kind": "trees", "aggregate": "mean", "base": 0.0, "trees": trees}


def _tree(  # noqa: PLR0917 - the columns of one tree, in the order sklearn keeps them
    feature: np.ndarray[Any, Any],
    threshold: np.ndarray[Any, Any],
    left: np.ndarray[Any, Any],
    right: np.ndarray[Any, Any],
    leaf: np.ndarray[Any, Any],
    value: np.ndarray[Any, Any],
    count: np.ndarray[Any, Any],
) -> dict[str, list[Any]]:
    """One tree; inner nodes get the count-weighted mean of the leaves below them."""
    value = value.copy()
    for node in range(len(value) - 1, -1, -1):  # children come after parents
        if not leaf[node]:
            a, b = left[node], right[node]
            value[node] = (value[a] * count[a] + value[b] * count[b]) / (count[a] + count[b])
    return {
        "feature": [0 if leaf[i] else int(f) for i, f in enumerate(feature)],
        "threshold": [0.0 if leaf[i] else float(v) for i, v in enumerate(threshold)],
        "left": [-1 if leaf[i] else int(v) for i, v in enumerate(left)],
        "right": [-1 if leaf[i] else int(v) for i, v in enumerate(right)],
        "value": [float(v) for v in value],
    }


def _linear(pipeline: Pipeline) -> dict[str, Any]:
    scaler, model = pipeline.steps[0][1], pipeline.steps[-1][1]
    if not isinstance(scaler, StandardScaler) or not isinstance(model, LogisticRegression):
        raise TypeError("a linear model must be Pipeline(StandardScaler, LogisticRegression)")
    return {
        "kind": "linear",
        "coef": [float(v) for v in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
        "mean": [float(v) for v in scaler.mean_],
        "scale": [float(v) for v in scaler.scale_],
    }
