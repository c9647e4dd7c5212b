"""Evaluating a model on traffic it never saw: per-family metrics and text tables."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from guard.learn.dataset import Dataset
from guard.learn.metrics import actor_max, family_results, people_by_hour, people_by_pace
from guard.model.runtime import Model


def evaluate_model(model: Model, data: Dataset) -> dict[str, Any]:
    """Score every row with ``model`` (as the middleware would) and summarise per family."""
    rows = data.x.tolist()
    start = time.perf_counter()
    scores = np.array([model.score(row) for row in rows], dtype=np.float64)
    per_score_us = (time.perf_counter() - start) / max(len(rows), 1) * 1e6
    families = family_results(data, scores, model.challenge, model.block)
    human = data.human
    _, human_max = actor_max(data.actor[human], scores[human])
    both = len(set(data.bot.tolist())) == 2
    return {
        "rows": len(data),
        "roc_auc": round(float(roc_auc_score(data.bot, scores)), 4) if both else None,
        "average_precision": (
            round(float(average_precision_score(data.bot, scores)), 4) if both else None
        ),
        "thresholds": {"challenge": model.challenge, "block": model.block},
        "people_flagged_challenge": round(float(np.mean(human_max >= model.challenge)), 5),
        "people_flagged_block": round(float(np.mean(human_max >= model.block)), 5),
        "score_us": round(per_score_us, 2),
        "families": [asdict(f) for f in families],
        "people_by_hour": [
            asdict(s) for s in people_by_hour(data, scores, model.challenge, model.block)
        ],
        "people_by_pace": [
            asdict(s) for s in people_by_pace(data, scores, model.challenge, model.block)
        ],
    }


def family_table(families: list[dict[str, Any]]) -> str:
    """A Markdown table of per-family model results."""
    lines = [
        "| family | harvester | people or clients | flagged at challenge | flagged at block "
        "| records before challenge (median) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for f in families:
        lines.append(
            f"| {f['family']} | {'yes' if f['bot'] else 'no'} | {f['actors']} "
            f"| {f['flagged_challenge']:.1%} | {f['flagged_block']:.1%} "
            f"| {f['records_before_challenge']:g} |"
        )
    return "\n".join(lines)


def guard_table(guard: dict[str, Any]) -> str:
    """A Markdown table of what the whole guard did per family."""
    lines = [
        "| family | harvester | actors | sessions | challenged | refused (429/403) | blocked (403) "
        "| records wanted | records served |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in guard["families"]:
        lines.append(
            f"| {f['family']} | {'yes' if f['bot'] else 'no'} | {f['actors']} "
            f"| {f['sessions']} | {f['sessions_challenged']} | {f['sessions_refused']} "
            f"| {f['sessions_blocked']} "
            f"| {f['records_wanted']} | {f['records_served']} |"
        )
    return "\n".join(lines)


def slice_table(title: str, slices: list[dict[str, Any]]) -> str:
    """A Markdown table of people flagged in each slice (by hour of day or by pace)."""
    lines = [
        f"| {title} | people and recruiters | flagged at challenge | flagged at block |",
        "|---|---:|---:|---:|",
    ]
    for s in slices:
        lines.append(
            f"| {s['label']} | {s['people']} | {s['flagged_challenge']:.1%} "
            f"| {s['flagged_block']:.1%} |"
        )
    return "\n".join(lines)


def format_tables(result: dict[str, Any]) -> str:
    """The text ``guard evaluate`` prints."""
    t = result["thresholds"]
    parts = [
        f"rows {result['rows']}  ROC AUC {result['roc_auc']}  "
        f"average precision {result['average_precision']}  "
        f"score cost {result['score_us']} us",
        f"thresholds: challenge {t['challenge']:.4f}  block {t['block']:.4f}; "
        f"people flagged: {result['people_flagged_challenge']:.2%} at challenge, "
        f"{result['people_flagged_block']:.2%} at block",
        "",
        "Model alone:",
        family_table(result["families"]),
        "",
        slice_table("hour of day (UTC)", result["people_by_hour"]),
        "",
        slice_table("pace (median pause between pages)", result["people_by_pace"]),
    ]
    if "guard" in result:
        parts += [
            "",
            "Whole guard (rules + model), replayed in process:",
            guard_table(result["guard"]),
            "",
            f"people's sessions challenged: {result['guard']['people_challenged_share']:.3%}, "
            f"refused: {result['guard']['people_refused_share']:.3%} "
            f"(blocked: {result['guard']['people_blocked_share']:.3%})",
        ]
    return "\n".join(parts)
