"""The report page: one HTML file with its figures inside, readable offline."""

from __future__ import annotations

import base64
import html
from collections import Counter
from dataclasses import dataclass

from guard.learn.accesslog import Labels
from guard.report import plots
from guard.report.data import ActorSummary, Decisions, actors, auc, curve, leading_reasons

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:880px;margin:1.5em auto;padding:0 1em;
color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em}img{max-width:100%}
table{border-collapse:collapse;font-size:.9em}td,th{padding:.2em .6em;border-bottom:1px solid
#ddd;text-align:left}td.n{text-align:right}.muted{color:#666}
"""


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What the page is drawn from."""

    decisions: Decisions
    gray: float
    block: float
    labels: Labels | None = None
    title: str = "guard report"


def render(data: ReportInput) -> str:
    """The whole page."""
    lines = data.decisions.lines
    clients = actors(lines)
    by_action = Counter(line.action for line in lines)
    parts = [
        f"<!doctype html><html lang='en'><meta charset='utf-8'><title>{_e(data.title)}</title>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<style>{_STYLE}</style><h1>{_e(data.title)}</h1>",
        f"<p class='muted'>{len(lines):,} decisions from {len(clients):,} clients"
        + (
            f", {data.decisions.malformed:,} lines not understood"
            if data.decisions.malformed
            else ""
        )
        + (f"; {_span(lines[0].ts, lines[-1].ts)}" if lines else "")
        + f". Thresholds: gray {data.gray:g}, block {data.block:g}.</p>",
        _table(["action", "decisions"], [(a, f"{n:,}") for a, n in by_action.most_common()]),
    ]
    if not lines:
        return "".join(parts) + "<p>No decisions to plot.</p></html>\n"
    scores = {"all requests": [line.score for line in lines]}
    roc = ""
    if data.labels is not None:
        scores, roc = _labelled(data, clients)
    reasons = leading_reasons(lines)
    heavy = sorted(clients.items(), key=lambda kv: (-kv[1].records, -kv[1].requests))[:15]
    parts += [
        "<h2>Scores</h2>",
        _img(plots.score_histogram(scores, data.gray, data.block), "score histogram"),
        "<h2>Actions over time</h2>",
        _img(plots.actions_over_time(lines), "requests by action over time"),
        "<h2>Leading reasons of challenges and refusals</h2>",
        _img(plots.top_reasons(reasons), "top reasons") if reasons else "<p>None.</p>",
        "<h2>Records per client</h2>",
        _img(plots.records_per_actor([c.records for c in clients.values()]), "records per client"),
        _table(
            ["records", "requests", "worst action", "max score", "client"],
            [_client_row(ip, ua, c) for (ip, ua), c in heavy],
        ),
        roc,
        "</html>\n",
    ]
    return "".join(parts)


def _client_row(ip: str, ua: str, c: ActorSummary) -> tuple[str, ...]:
    return (f"{c.records:,}", f"{c.requests:,}", c.worst, f"{c.max_score:.2f}", f"{ip} {ua[:70]}")


def _labelled(
    data: ReportInput, clients: dict[tuple[str, str], ActorSummary]
) -> tuple[dict[str, list[float]], str]:
    """Scores split by label, and the ROC section, for clients the labels name."""
    assert data.labels is not None
    verdicts = {actor: data.labels.lookup(*actor) for actor in clients}
    groups: dict[str, list[float]] = {"people": [], "bots": []}
    for line in data.decisions.lines:
        found = verdicts.get(line.actor)
        if found is not None:
            groups["bots" if found[2] else "people"].append(line.score)
    scored = [
        (summary.max_score, found[2])
        for actor, summary in clients.items()
        if (found := verdicts[actor]) is not None
    ]
    if not any(bot for _, bot in scored) or all(bot for _, bot in scored):
        note = "<h2>Against the labels</h2><p>The labels name bots and people only on one side.</p>"
        return groups, note
    points = curve(scored)
    section = (
        f"<h2>Against the labels</h2><p>{len(scored):,} labelled clients, each by its highest "
        f"score: ROC AUC {auc(points):.3f}.</p>"
        + _img(plots.roc_and_precision(points, data.gray, data.block), "ROC and precision")
    )
    return groups, section


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{_e(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _table(head: list[str], rows: list[tuple[str, ...]]) -> str:
    cells = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def _cell(value: str) -> str:
    numeric = value[:1].isdigit() and " " not in value
    return f"<td class=n>{_e(value)}</td>" if numeric else f"<td>{_e(value)}</td>"


def _span(start: float, end: float) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    fmt = "%Y-%m-%d %H:%M UTC"
    return (
        f"{datetime.fromtimestamp(start, UTC).strftime(fmt)} to "
        f"{datetime.fromtimestamp(end, UTC).strftime(fmt)}"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)
