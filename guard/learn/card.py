"""The model card, written by ``guard train`` from what the run measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guard.learn.evaluate import family_table, guard_table, slice_table
from guard.learn.train import BLOCK_BUDGET, CHALLENGE_BUDGET, TrainingReport


def write_card(path: Path, report: TrainingReport, holdout: dict[str, Any] | None) -> None:
    """Write the Markdown model card for ``report`` (and the holdout evaluation) to ``path``."""
    path.write_text(render_card(report, holdout), encoding="utf-8")


def render_card(report: TrainingReport, holdout: dict[str, Any] | None) -> str:
    """The model card's Markdown."""
    data = report.data
    t = report.thresholds
    sections = [
        "# Model card: guard behaviour model",
        "",
        "*Written by `guard train`; every number below was measured by that run. Do not edit "
        "by hand: retrain instead.*",
        "",
        "## What it is for",
        "",
        "Scoring each page request by how much its client's behaviour so far looks like bulk "
        "harvesting of records, as one piece of evidence among the guard's rule signals. It "
        "is not meant to stand alone, to judge single requests without history, or to judge "
        "static assets (which are not scored).",
        "",
        "## Data",
        "",
        _data_text(data),
        "",
        "Labels: every request of a harvesting family is positive; people, recruiters and "
        "search engines are negative. Rows are page requests, with the features the guard "
        "computes at that moment; each actor (person, bot operator) gets the same total "
        "weight, so that long-running bots do not drown out people.",
        "",
        "## Features",
        "",
        "One spec for training and serving (`guard/model/features.py`): "
        + ", ".join(f"`{f}`" for f in report.features)
        + ".",
        "",
        "## Models compared",
        "",
        f"Cross-validation grouped by actor. Recall is the mean (and the lowest) over bot "
        f"families of the share of actors flagged at the threshold that flags "
        f"{CHALLENGE_BUDGET:.0%} of people. Serving cost is one score in the guard's runtime "
        "on this machine.",
        "",
        "| model | ROC AUC | average precision | mean family recall | lowest family recall "
        "| serving cost (us) |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {c.name}{' (chosen)' if c.name == report.chosen else ''} | {c.roc_auc} "
            f"| {c.average_precision} | {c.mean_family_recall_at_1pct:.1%} "
            f"| {c.min_family_recall_at_1pct:.1%} | {c.serving_us} |"
            for c in report.candidates
        ),
        "",
        "## Calibration and thresholds",
        "",
        "The chosen model's out-of-fold probabilities are calibrated with isotonic "
        f"regression. Thresholds come from the people's false-positive budget over whole "
        f"actors (a person counts once, if any of their requests reaches the threshold): "
        f"**challenge {t['challenge']:.4f}** flags at most {CHALLENGE_BUDGET:.0%} of people "
        f"and **block {t['block']:.4f}** at most {BLOCK_BUDGET:.1%}. In the guard the "
        "challenge threshold maps onto the policy's gray threshold, and from the block "
        "threshold up the model's weight stays just under the policy's block threshold: "
        "alone the model challenges, and it blocks only with another finding beside it.",
        "",
        "## Results per family (out of fold, training traffic)",
        "",
        family_table(report.families),
        "",
        "## Generalisation: leave one family out",
        "",
        "Trained without the family (and without half of the people, who set the threshold "
        f"at {CHALLENGE_BUDGET:.0%} of them flagged), then tested on that family.",
        "",
        "| family left out | clients | recall at challenge | recall at block "
        "| records before challenge (median) |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r['family']} | {r['actors']} | {r['recall_challenge']:.1%} "
            f"| {r['recall_block']:.1%} | {r['records_before_challenge']:g} |"
            for r in report.leave_one_family_out
        ),
    ]
    if holdout is not None:
        sections += _holdout_sections(holdout)
    sections += _closing_sections(report)
    return "\n".join(sections) + "\n"


def _data_text(data: dict[str, Any]) -> str:
    if data.get("source") == "simulator":
        counts = ", ".join(f"{k} {v}" for k, v in data.get("actors_per_family", {}).items())
        return (
            f"Simulated by `guard.learn.simulate` (seed {data.get('seed')}, scale "
            f"{data.get('scale')}): {data.get('events')} requests, {data.get('rows')} of them "
            f"page requests (rows), from {data.get('actors')} actors. Actors per family: "
            f"{counts}."
        )
    return (
        f"{data.get('source')}: {data.get('rows')} page requests from {data.get('actors')} "
        f"labelled actors ({data.get('malformed')} malformed and {data.get('unlabelled')} "
        "unlabelled lines skipped)."
    )


def _holdout_sections(holdout: dict[str, Any]) -> list[str]:
    data = holdout.get("data", {})
    lines = [
        "",
        "## Fresh traffic (another seed, never trained on)",
        "",
        f"Seed {data.get('seed')}, scale {data.get('scale')}: ROC AUC {holdout['roc_auc']}, "
        f"average precision {holdout['average_precision']}; people flagged "
        f"{holdout['people_flagged_challenge']:.2%} at challenge and "
        f"{holdout['people_flagged_block']:.2%} at block; {holdout['score_us']} us per score.",
        "",
        family_table(holdout["families"]),
        "",
        "### People by hour of day and by pace",
        "",
        "People and recruiters of the fresh traffic, flagged by the model alone. By hour: a "
        "person counts in each block of hours they visited in, flagged if a page of theirs "
        "in it reached the threshold. By pace: the median pause between a person's pages "
        "within a visit.",
        "",
        slice_table("hour of day (UTC)", holdout["people_by_hour"]),
        "",
        slice_table("pace (median pause between pages)", holdout["people_by_pace"]),
    ]
    if "guard" in holdout:
        lines += [
            "",
            "### The whole guard on the same traffic",
            "",
            "Replayed in process through the middleware with its default config and this model "
            "(rate limits, harvest budgets, user-agent and header rules, behaviour rules, the "
            "campaign signal, discovery, address strikes, the challenge), with each client "
            "keeping the "
            "cookies the guard set. Families whose clients run JavaScript (people, recruiters, "
            "headless browsers) solve a challenge when they meet one and ask again a second "
            "later; the others do not. Sessions are counted once per column if any of their "
            "requests was challenged, refused (429 or 403) or blocked (403).",
            "",
            guard_table(holdout["guard"]),
            "",
            f"Sessions of people and recruiters (requests more than 30 minutes apart start a "
            f"new one): challenged {holdout['guard']['people_challenged_share']:.3%}, refused "
            f"{holdout['guard']['people_refused_share']:.3%}, blocked "
            f"{holdout['guard']['people_blocked_share']:.3%}.",
        ]
    return lines


def _closing_sections(report: TrainingReport) -> list[str]:
    return [
        "",
        "## Limits",
        "",
        "- The training traffic is simulated. The simulator's families are plausible, not "
        "measured from a real platform; retrain on your own labelled logs before trusting "
        "the thresholds.",
        "- A client is an IP address with a user agent. A campaign that rotates both after a "
        "few requests leaves each client little history, and its first request per client "
        "looks like a person arriving from a shared link: the model alone misses many such "
        "first requests. What stops the campaign is the campaign signal, which sends young "
        "clients reading records to the challenge while it lasts; a campaign that solves "
        "the proof of work pays for it every few records.",
        "- Recruiters (logged in, reading many records) are the people the model flags most "
        "at the challenge threshold; the thresholds are set over people and recruiters "
        "together.",
        "- The training replay records the site's own response statuses; in service, the "
        "guard's own refusals (429/403) also count as client errors, which only pushes a "
        "refused bot further up.",
        "- In shadow mode the guard sets no cookie, so the cookie features are treated as "
        "kept (no evidence either way).",
        "- Models trained on access logs go without the features a log cannot give "
        "(headers, cookies, Host).",
        "",
        "## How to retrain",
        "",
        "```",
        "guard train --seed 7 --out models            # simulated traffic, about "
        f"{max(report.seconds, 1):.0f} s of training here",
        "guard train --logs access.log --labels labels.csv --out my-model",
        "guard evaluate --model my-model/behaviour.json --guard",
        "```",
        "",
        "`labels.csv` has the columns `ip` (an address or a CIDR network), `user_agent` "
        "(optional; empty means any) and `label` (`bot` or `human`), and optionally "
        '`family`. Point the guard at a model with `model = "path/to/behaviour.json"` in '
        'the config (`model = "off"` runs on rules alone).',
    ]
