"""The dashboard page at ``/guard/``: server-rendered HTML with inline SVG charts, no
script and nothing fetched from elsewhere, readable offline and on a phone."""

from __future__ import annotations

import html
import math
import time
from typing import Any

from guard.admin.activity import SCORE_BINS

COLOURS = {
    "allow": "#4c9f70",
    "tarpit": "#9a9a9a",
    "challenge": "#e0a030",
    "throttle": "#d9682b",
    "block": "#c0392b",
}
REFRESH_SECONDS = 10
_STYLE = """
*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;
padding:.8em;color:#222}h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.05em;margin:1.4em 0 .4em}
.muted{color:#666;font-size:.9em}.wrap{overflow-x:auto}table{border-collapse:collapse;
font-size:.85em;width:100%}td,th{padding:.25em .5em;border-bottom:1px solid #e4e4e4;
text-align:left;vertical-align:top}td.n{text-align:right}svg{width:100%;height:auto}
.chip{display:inline-block;padding:0 .4em;border-radius:.3em;color:#fff;font-size:.85em}
.legend span{margin-right:.8em}code{font-size:.9em}
"""


def login_page(error: str | None = None) -> str:
    """The form that asks for the admin token."""
    note = f"<p style='color:#c0392b'>{_e(error)}</p>" if error else ""
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>guard</title>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<style>{_STYLE}</style><h1>guard</h1>{note}"
        "<form method='post' action='/guard/'><label>Admin token "
        "<input name='token' type='password' autocomplete='current-password' required "
        "autofocus></label> <button>Open the dashboard</button></form></html>\n"
    )


def dashboard_page(view: dict[str, Any], policy: dict[str, Any], now: float) -> str:
    """The dashboard for a merged view (:func:`guard.admin.activity.merge`)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
    return "".join(
        [
            "<!doctype html><html lang='en'><meta charset='utf-8'><title>guard dashboard</title>",
            "<meta name='viewport' content='width=device-width,initial-scale=1'>",
            f"<meta http-equiv='refresh' content='{REFRESH_SECONDS}'>",
            f"<style>{_STYLE}</style><h1>guard</h1>",
            f"<p class='muted'>{stamp}; {view['workers']} worker(s) reporting; refreshes "
            f"every {REFRESH_SECONDS} s.</p>",
            "<h2>Live policy</h2>",
            _policy(policy),
            "<h2>Actions, last hour (by minute)</h2>",
            _legend(),
            _minutes_chart(view["minutes"]),
            "<h2>Scores</h2>",
            _score_chart(view["scores"], policy["thresholds"]),
            "<h2>Recent decisions (not plain allows)</h2>",
            _recent(view["recent"]),
            "<h2>Clients served the most records</h2>",
            _records(view["records"]),
            "</html>\n",
        ]
    )


def _policy(policy: dict[str, Any]) -> str:
    t = policy["thresholds"]
    weights = ", ".join(f"{k} {v:g}" for k, v in sorted(policy["weights"].items())) or "none"
    shadow = ", ".join(policy.get("shadow", [])) or "none"
    return (
        f"<p>mode <b>{_e(policy['mode'])}</b>; gray {t['gray']:g} ({_e(t['gray_action'])}), "
        f"block {t['block']:g}; weights: {_e(weights)}; in shadow: {_e(shadow)}; version "
        f"{policy.get('version', 0)}. Change it with <code>guard policy set</code>.</p>"
    )


def _legend() -> str:
    spans = "".join(
        f"<span><span class='chip' style='background:{c}'>&nbsp;</span> {a}</span>"
        for a, c in COLOURS.items()
    )
    return f"<p class='legend muted'>{spans}</p>"


def _minutes_chart(minutes: list[tuple[int, dict[str, int]]]) -> str:
    width, height, bar = 600, 140, 10
    top = max((sum(c.values()) for _, c in minutes), default=0) or 1
    rects = []
    for i, (minute, counts) in enumerate(minutes):
        y = float(height)
        for action, colour in COLOURS.items():
            count = counts.get(action, 0)
            if not count:
                continue
            h = count / top * (height - 10)
            y -= h
            label = time.strftime("%H:%M", time.gmtime(minute * 60))
            rects.append(
                f"<rect x='{i * bar}' y='{y:.1f}' width='{bar - 1}' height='{h:.1f}' "
                f"fill='{colour}'><title>{label} {action}: {count:,}</title></rect>"
            )
    return (
        f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='requests by action per "
        f"minute, highest {top:,}'>{''.join(rects)}</svg>"
        f"<p class='muted'>Highest minute: {top:,} requests.</p>"
    )


def _score_chart(scores: list[int], thresholds: dict[str, Any]) -> str:
    width, height = 600, 120
    bar = width / SCORE_BINS
    top = max(scores, default=0) or 1
    rects = []
    for i, count in enumerate(scores):
        h = math.log1p(count) / math.log1p(top) * (height - 20)
        low = i / SCORE_BINS
        gray, block = float(thresholds["gray"]), float(thresholds["block"])
        colour = COLOURS["allow"] if low < gray else COLOURS["challenge"]
        colour = colour if low < block else COLOURS["block"]
        rects.append(
            f"<rect x='{i * bar:.1f}' y='{height - 15 - h:.1f}' width='{bar - 2:.1f}' "
            f"height='{h:.1f}' fill='{colour}'><title>{low:.2f}-{low + 1 / SCORE_BINS:.2f}: "
            f"{count:,}</title></rect>"
        )
    ticks = "".join(
        f"<text x='{x * width:.0f}' y='{height - 2}' font-size='10' "
        f"text-anchor='{'start' if x == 0 else 'end' if x == 1 else 'middle'}'>{x:g}</text>"
        for x in (0, 0.25, 0.5, 0.75, 1)
    )
    return (
        f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='score histogram'>"
        f"{''.join(rects)}{ticks}</svg><p class='muted'>{sum(scores):,} requests scored "
        "(bar heights on a log scale).</p>"
    )


def _recent(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p class='muted'>None yet.</p>"
    body = "".join(
        "<tr>"
        f"<td>{time.strftime('%H:%M:%S', time.gmtime(float(r['ts'])))}</td>"
        f"<td><span class='chip' style='background:{COLOURS.get(r['action'], '#666')}'>"
        f"{_e(r['action'])}</span>{'' if r.get('enforced', True) else ' (shadow)'}</td>"
        f"<td class=n>{float(r['score']):.2f}</td>"
        f"<td>{_e(', '.join(r.get('reasons') or []))}</td>"
        f"<td>{_e(r.get('incident') or '')}</td>"
        f"<td>{_e(r.get('path', ''))}</td><td>{_e(r.get('client', ''))}</td></tr>"
        for r in rows
    )
    head = "<tr><th>time</th><th>action</th><th>score</th><th>reasons</th><th>incident</th>"
    return f"<div class='wrap'><table>{head}<th>path</th><th>client</th></tr>{body}</table></div>"


def _records(rows: list[tuple[str, int]]) -> str:
    if not rows:
        return "<p class='muted'>No records served yet.</p>"
    body = "".join(f"<tr><td class=n>{n:,}</td><td>{_e(c)}</td></tr>" for c, n in rows)
    return f"<div class='wrap'><table><tr><th>records</th><th>client</th></tr>{body}</table></div>"


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
