"""The report's figures, as PNG bytes (matplotlib, drawn off screen)."""

from __future__ import annotations

import io
import itertools
import logging
from collections import Counter

import matplotlib

matplotlib.use("Agg")  # off screen: no display, no GUI toolkit

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from guard.report.data import Line

logging.getLogger("matplotlib").setLevel(logging.WARNING)  # its font cache notes are noise

ACTION_COLOURS = {
    "allow": "#4c9f70",
    "tarpit": "#b0b0b0",
    "challenge": "#e0a030",
    "throttle": "#d9682b",
    "block": "#c0392b",
}
SIZE = (8.0, 3.6)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.tight_layout()
    figure.savefig(out, format="png", dpi=100)
    plt.close(figure)
    return out.getvalue()


def score_histogram(groups: dict[str, list[float]], gray: float, block: float) -> bytes:
    """Scores, one histogram per group (all, or people and bots when labelled), with the
    thresholds drawn."""
    figure, axes = plt.subplots(figsize=SIZE)
    bins = [i / 40 for i in range(41)]
    for name, scores in groups.items():
        axes.hist(scores, bins=bins, alpha=0.6, label=f"{name} ({len(scores):,})")
    axes.axvline(gray, color=ACTION_COLOURS["challenge"], linestyle="--", label=f"gray {gray:g}")
    axes.axvline(block, color=ACTION_COLOURS["block"], linestyle="--", label=f"block {block:g}")
    axes.set_yscale("log")
    axes.set_xlabel("score")
    axes.set_ylabel("requests (log)")
    axes.legend(fontsize="small")
    return _png(figure)


def actions_over_time(lines: list[Line], buckets: int = 60) -> bytes:
    """Requests by action in equal slices of the log's span, stacked."""
    figure, axes = plt.subplots(figsize=SIZE)
    start, end = lines[0].ts, lines[-1].ts
    width = max((end - start) / buckets, 1.0)
    counts: dict[str, Counter[int]] = {action: Counter() for action in ACTION_COLOURS}
    for line in lines:
        counts.setdefault(line.base_action, Counter())[int((line.ts - start) // width)] += 1
    slots = list(range(int((end - start) // width) + 1))
    unit, per = ("hours", 3600.0) if end - start > 3 * 3600 else ("minutes", 60.0)
    times = [slot * width / per for slot in slots]
    below = [0] * len(slots)
    for action, colour in ACTION_COLOURS.items():
        heights = [counts[action][slot] for slot in slots]
        if any(heights):
            axes.bar(times, heights, width=width / per, bottom=below, color=colour,
                     label=action, align="edge")  # fmt: skip
            below = [b + h for b, h in zip(below, heights, strict=True)]
    axes.set_xlabel(f"{unit} from the first request")
    axes.set_ylabel(f"requests per {width:,.0f} s")
    axes.legend(fontsize="small")
    return _png(figure)


def top_reasons(reasons: list[tuple[str, int]]) -> bytes:
    """The leading reasons of challenges and refusals, most frequent on top."""
    figure, axes = plt.subplots(figsize=(SIZE[0], max(1.6, 0.32 * len(reasons) + 0.8)))
    names = [name[:48] for name, _ in reversed(reasons)]
    axes.barh(names, [count for _, count in reversed(reasons)], color="#5b7fa6")
    axes.set_xlabel("verdicts it led")
    axes.tick_params(axis="y", labelsize="small")
    return _png(figure)


def records_per_actor(records: list[int]) -> bytes:
    """How many clients were served how many records (log scale)."""
    figure, axes = plt.subplots(figsize=SIZE)
    top = max(records, default=1)
    edges = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9]
    edges = [e for e in edges if e <= top] + [top + 1]
    labels = [f"{a}" if b - a == 1 else f"{a}-{b - 1}" for a, b in itertools.pairwise(edges)]
    counts = [sum(a <= r < b for r in records) for a, b in itertools.pairwise(edges)]
    positions = list(range(len(labels)))
    axes.bar(positions, counts, color="#5b7fa6")
    axes.set_xticks(positions, labels)
    axes.set_yscale("log")
    axes.set_xlabel("records served to the client")
    axes.set_ylabel("clients (log)")
    axes.tick_params(axis="x", labelsize="small")
    return _png(figure)


def roc_and_precision(
    points: list[tuple[float, float, float, float]], gray: float, block: float
) -> bytes:
    """ROC, and precision and recall against the threshold, for labelled clients."""
    figure, (roc, pr) = plt.subplots(1, 2, figsize=(SIZE[0], 3.4))
    roc.plot([0.0, *(p[1] for p in points)], [0.0, *(p[2] for p in points)], color="#5b7fa6")
    roc.plot([0, 1], [0, 1], color="#cccccc", linestyle=":")
    roc.set_xlabel("people flagged (false-positive rate)")
    roc.set_ylabel("bots flagged (recall)")
    thresholds = [p[0] for p in points]
    pr.plot(thresholds, [p[2] for p in points], label="recall")
    pr.plot(thresholds, [p[3] for p in points], label="precision")
    for value, colour in ((gray, ACTION_COLOURS["challenge"]), (block, ACTION_COLOURS["block"])):
        pr.axvline(value, color=colour, linestyle="--")
    pr.set_xlabel("threshold on a client's highest score")
    pr.legend(fontsize="small")
    return _png(figure)
