"""The model runtime: loads a model file safely and scores one request in microseconds.

A model file is JSON: numbers and feature names, never code or pickles, so loading one from
any path is safe. Loading checks every field, then compiles the trees (or the linear
function) into one small Python function, because walking arrays node by node costs several
times more. Scikit-learn's ``predict_proba`` on one row costs 0.1-3 ms here; the compiled
function costs a few microseconds (``benchmarks/model_cost.py``).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from guard.errors import ModelError
from guard.model.features import FEATURES, INDEX

FORMAT = "guard-behaviour-model"
VERSION = 1
MAX_NODES = 200_000  # bounds the compile time of a hostile or mistaken file
MAX_DEPTH = 40  # Python allows 100 levels of indentation; trees this deep are mistakes
SHIPPED = "behaviour.json"

Vector = Sequence[float]


@dataclass(frozen=True, slots=True)
class _Tree:
    feature: tuple[int, ...]  # global feature index per node (-1 for a leaf)
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]  # leaves: the output; inner nodes: the mean output below


class Model:
    """A trained behaviour model: :meth:`score` gives a calibrated probability of harvesting.

    Implements :class:`guard.scoring.Scorer`. Build one with :func:`load_model`.

    Attributes:
        features: the feature names the model reads (a subset of ``FEATURES``).
        challenge: the probability from which the model alone sends a client to the gray
            zone (chosen for at most 1% of simulated people).
        block: the probability from which it alone blocks (at most 0.1% of people).
        meta: what the training run recorded (seed, data, metrics).
    """

    def __init__(  # noqa: PLR0917 - built only by model_from_dict
        self,
        features: tuple[str, ...],
        raw: Callable[[Vector], float],
        explain_terms: Callable[[Vector], list[tuple[str, float]]],
        calibration: tuple[tuple[float, ...], tuple[float, ...]],
        thresholds: tuple[float, float],
        meta: Mapping[str, Any],
    ) -> None:
        self.features = features
        self._raw = raw
        self._explain = explain_terms
        self._cal_x, self._cal_y = calibration
        self.challenge, self.block = thresholds
        self.meta = meta

    def score(self, vector: Vector) -> float:
        """The calibrated probability that the client harvests, from a full feature vector
        (in ``FEATURES`` order)."""
        return self._calibrate(self._raw(vector))

    def explain(self, vector: Vector, top: int = 3) -> list[str]:
        """The features that pushed this vector's score up the most, strongest first."""
        terms = sorted(self._explain(vector), key=lambda term: term[1], reverse=True)
        return [name for name, weight in terms[:top] if weight > 0]

    def _calibrate(self, raw: float) -> float:
        xs, ys = self._cal_x, self._cal_y
        if not xs:
            return raw
        i = bisect.bisect_right(xs, raw)
        if i == 0:
            return ys[0]
        if i == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1


def shipped_model_path() -> Path:
    """Where the model that ships with guard lives (package data in an installed wheel, or
    ``models/`` in a source checkout)."""
    packaged = Path(str(resources.files("guard.model").joinpath(SHIPPED)))
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "models" / SHIPPED


def load_model(path: str | Path | None = None) -> Model:
    """Load and compile a model file (the shipped one when ``path`` is None).

    Raises:
        ModelError: the file is missing, unreadable, not a model, or needs features this
            version of guard does not compute; the message says which.
    """
    path = Path(path) if path is not None else shipped_model_path()
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelError(f"cannot read model {path}: {exc}") from exc
    return _load(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int, size: int) -> Model:
    """Read and compile a model file; cached while the file is unchanged (every guard in a
    process shares the compiled model, which holds no state)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError covers bad JSON and UTF-8
        raise ModelError(f"cannot read model {path}: {exc}") from exc
    try:
        return model_from_dict(document)
    except ModelError as exc:
        raise ModelError(f"model {path}: {exc}") from exc


def model_from_dict(document: object) -> Model:
    """Validate a parsed model document and compile it."""
    doc = _mapping(document, "the file")
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ModelError(f"not a {FORMAT} version {VERSION} document")
    names = tuple(_strings(doc.get("features"), "features"))
    unknown = [name for name in names if name not in INDEX]
    if unknown:
        raise ModelError(f"needs features this guard does not compute: {', '.join(unknown)}")
    columns = tuple(INDEX[name] for name in names)
    estimator = _mapping(doc.get("estimator"), "estimator")
    kind = estimator.get("kind")
    if kind == "trees":
        raw, explain = _compile_trees(estimator, columns)
    elif kind == "linear":
        raw, explain = _compile_linear(estimator, columns)
    else:
        raise ModelError(f"estimator kind must be 'trees' or 'linear', not {kind!r}")
    calibration = _mapping(doc.get("calibration", {"x": [], "y": []}), "calibration")
    cal_x = tuple(_numbers(calibration.get("x"), "calibration.x"))
    cal_y = tuple(_numbers(calibration.get("y"), "calibration.y"))
    if len(cal_x) != len(cal_y) or any(b < a for a, b in itertools.pairwise(cal_x)):
        raise ModelError("calibration.x must be sorted and as long as calibration.y")
    if any(not 0.0 <= y <= 1.0 for y in cal_y) or any(b < a for a, b in itertools.pairwise(cal_y)):
        raise ModelError("calibration.y must rise from 0 to 1 at most")
    thresholds = _mapping(doc.get("thresholds"), "thresholds")
    challenge = _number(thresholds.get("challenge"), "thresholds.challenge")
    block = _number(thresholds.get("block"), "thresholds.block")
    if not 0.0 < challenge <= block <= 1.0:
        raise ModelError("thresholds need 0 < challenge <= block <= 1")
    meta = doc.get("meta", {})
    return Model(
        names,
        raw,
        explain,
        (cal_x, cal_y),
        (challenge, block),
        meta if isinstance(meta, Mapping) else {},
    )


def _compile_trees(
    estimator: Mapping[str, Any], columns: tuple[int, ...]
) -> tuple[Callable[[Vector], float], Callable[[Vector], list[tuple[str, float]]]]:
    aggregate = estimator.get("aggregate")
    if aggregate not in {"logistic_sum", "mean"}:
        raise ModelError("trees need aggregate 'logistic_sum' or 'mean'")
    base = _number(estimator.get("base", 0.0), "estimator.base")
    raw_trees = estimator.get("trees")
    if not isinstance(raw_trees, list) or not raw_trees:
        raise ModelError("estimator.trees must be a non-empty list")
    sizes = (
        len(t["value"]) if isinstance(t, Mapping) and isinstance(t.get("value"), list) else 0
        for t in raw_trees
    )
    if sum(sizes) > MAX_NODES:
        raise ModelError(f"more than {MAX_NODES} nodes")
    trees = [_tree(t, columns, i) for i, t in enumerate(raw_trees)]
    lines = ["def raw(v):", f"    s = {base!r}"]
    for tree in trees:
        lines.extend(_tree_source(tree))
    if aggregate == "mean":
        lines.append(f"    return s / {len(trees)}")
    else:
        lines.append("    return 1.0 / (1.0 + exp(-s)) if s > -700.0 else 0.0")
    raw = _function("\n".join(lines), "raw")
    scale = 1.0 / len(trees) if aggregate == "mean" else 1.0

    def explain(vector: Vector) -> list[tuple[str, float]]:
        """Saabas contributions: each split's change in expected output goes to its feature."""
        totals: dict[int, float] = {}
        for tree in trees:
            node = 0
            while tree.left[node] >= 0:
                column = tree.feature[node]
                child = (
                    tree.left[node] if vector[column] <= tree.threshold[node] else tree.right[node]
                )
                change = (tree.value[child] - tree.value[node]) * scale
                totals[column] = totals.get(column, 0.0) + change
                node = child
        return [(FEATURES[column], weight) for column, weight in totals.items()]

    return raw, explain


def _tree(raw: object, columns: tuple[int, ...], number: int) -> _Tree:
    t = _mapping(raw, f"tree {number}")
    feature = _integers(t.get("feature"), f"tree {number} feature")
    threshold = _numbers(t.get("threshold"), f"tree {number} threshold")
    left = _integers(t.get("left"), f"tree {number} left")
    right = _integers(t.get("right"), f"tree {number} right")
    value = _numbers(t.get("value"), f"tree {number} value")
    n = len(value)
    if not n or any(len(a) != n for a in (feature, threshold, left, right)):
        raise ModelError(f"tree {number}: node arrays differ in length")
    mapped = []
    parents = [0] * n
    for node in range(n):
        leaf = left[node] == -1
        if leaf != (right[node] == -1):
            raise ModelError(f"tree {number} node {node}: one child only")
        # Children after parents: no cycles, so compiling and walking always end.
        if not leaf and not (node < left[node] < n and node < right[node] < n):
            raise ModelError(f"tree {number} node {node}: child out of order or range")
        if not leaf and not 0 <= feature[node] < len(columns):
            raise ModelError(f"tree {number} node {node}: feature {feature[node]} out of range")
        if not leaf:
            parents[left[node]] += 1
            parents[right[node]] += 1
        mapped.append(columns[feature[node]] if not leaf else -1)
    # A tree, not a graph: a node shared by two branches would make the compiled source
    # double at every level.
    if any(count != 1 for count in parents[1:]) or parents[0]:
        raise ModelError(f"tree {number}: every node but the root needs exactly one parent")
    return _Tree(tuple(mapped), tuple(threshold), tuple(left), tuple(right), tuple(value))


def _tree_source(tree: _Tree) -> list[str]:
    """The tree as nested ifs adding its leaf's value to ``s`` (iterative: no recursion)."""
    lines: list[str] = []
    # (node, depth) writes a subtree; (-1, depth) writes the "else:" between two subtrees.
    stack: list[tuple[int, int]] = [(0, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ModelError(f"a tree deeper than {MAX_DEPTH}")
        pad = "    " * depth
        if node < 0:
            lines.append(f"{pad}else:")
        elif tree.left[node] < 0:
            lines.append(f"{pad}s += {tree.value[node]!r}")
        else:
            lines.append(f"{pad}if v[{tree.feature[node]}] <= {tree.threshold[node]!r}:")
            stack += [(tree.right[node], depth + 1), (-1, depth), (tree.left[node], depth + 1)]
    return lines


def _compile_linear(
    estimator: Mapping[str, Any], columns: tuple[int, ...]
) -> tuple[Callable[[Vector], float], Callable[[Vector], list[tuple[str, float]]]]:
    coef = _numbers(estimator.get("coef"), "estimator.coef")
    mean = _numbers(estimator.get("mean"), "estimator.mean")
    scale = _numbers(estimator.get("scale"), "estimator.scale")
    intercept = _number(estimator.get("intercept"), "estimator.intercept")
    if not len(coef) == len(mean) == len(scale) == len(columns):
        raise ModelError("coef, mean and scale need one value per feature")
    if any(s == 0.0 for s in scale):
        raise ModelError("estimator.scale may not contain 0")
    weights = [c / s for c, s in zip(coef, scale, strict=True)]
    offset = intercept - sum(w * m for w, m in zip(weights, mean, strict=True))
    terms = " + ".join(f"{w!r} * v[{col}]" for w, col in zip(weights, columns, strict=True))
    source = (
        "def raw(v):\n"
        f"    z = {offset!r} + {terms or '0.0'}\n"
        "    return 1.0 / (1.0 + exp(-z)) if z > -700.0 else 0.0"
    )
    raw = _function(source, "raw")

    def explain(vector: Vector) -> list[tuple[str, float]]:
        return [
            (FEATURES[col], w * (vector[col] - m))
            for w, col, m in zip(weights, columns, mean, strict=True)
        ]

    return raw, explain


def _function(source: str, name: str) -> Callable[[Vector], float]:
    # The source is built only from validated numbers and fixed text, never from strings in
    # the file, so compiling it runs nothing the file could choose.
    namespace: dict[str, Any] = {"exp": math.exp, "__builtins__": {}}
    exec(compile(source, "<guard-model>", "exec"), namespace)  # noqa: S102
    function: Callable[[Vector], float] = namespace[name]
    return function


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{what} must be an object")
    return value


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{what} must be a list of strings")
    return value


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{what} must be a finite number")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise ModelError(f"{what} must be a finite number") from None
    if not math.isfinite(number):
        raise ModelError(f"{what} must be a finite number")
    return number


def _numbers(value: object, what: str) -> list[float]:
    if not isinstance(value, list):
        raise ModelError(f"{what} must be a list of numbers")
    return [_number(v, what) for v in value]


def _integers(value: object, what: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ModelError(f"{what} must be a list of integers")
    return value
