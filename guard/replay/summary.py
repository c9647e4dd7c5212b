"""The terminal summary of a replay, and what a second config changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from guard.learn.accesslog import ReadStats
from guard.replay.actors import ActorTally
from guard.replay.judge import blind_spots
from guard.replay.run import Outcome, Replay

TOP = 10
_ORDER = ("allow", "tarpit", "challenge", "throttle", "block")


def summary(replay: Replay, stats: ReadStats, errors: list[str]) -> str:
    """What the guard would have done to the log: lines, actions, reasons, top actors."""
    outcome = replay.outcome
    actors = outcome.actors.values()
    lines = [
        f"guard replay: {stats.lines:,} lines, {replay.requests:,} requests judged "
        f"({replay.per_second:,.0f} a second), {stats.malformed:,} lines not understood",
        *(f"  {error}" for error in errors),
        "not in the log, so not judged: "
        + "; ".join(f"{what} ({why})" for what, why in blind_spots(replay.headers_logged).items()),
        "",
        "requests by action: " + _by_action(outcome.actions),
        f"actors: {len(outcome.actors):,}; challenged {sum(a.challenged > 0 for a in actors):,}, "
        f"refused {sum(a.refused > 0 for a in actors):,}",
        "top reasons: "
        + (", ".join(f"{r} {n:,}" for r, n in outcome.reasons.most_common(TOP)) or "none"),
        "",
        f"top actors by records served ({TOP}):",
        *_actor_lines(outcome.actors.values()),
    ]
    if replay.compared is not None:
        lines += ["", *comparison(outcome, replay.compared)]
    return "\n".join(lines)


def comparison(before: Outcome, after: Outcome) -> list[str]:
    """Which actors the second config judges differently, and how."""
    moves: Counter[tuple[str, str]] = Counter()
    changed: list[tuple[ActorTally, ActorTally]] = []
    for key, old in before.actors.items():
        new = after.actors[key]
        if old.action is not new.action:
            moves[(old.action.label, new.action.label)] += 1
            changed.append((old, new))
    lines = [
        f"with the compared config: {len(changed):,} of {len(before.actors):,} actors change "
        "verdict; requests by action: " + _by_action(after.actions),
        *(f"  {a} -> {b}: {n:,} actors" for (a, b), n in sorted(moves.items())),
    ]
    changed.sort(key=lambda pair: (-pair[0].records, -pair[0].requests))
    for old, new in changed[:TOP]:
        lines.append(
            f"  {old.actor[:90]}: {old.action.label} -> {new.action.label} "
            f"({old.requests:,} requests, {old.records:,} records; "
            f"{_lead(old) or '-'} -> {_lead(new) or '-'})"
        )
    return lines


def _by_action(actions: Counter[str]) -> str:
    return ", ".join(f"{name} {actions[name]:,}" for name in _ORDER if actions[name]) or "none"


def _actor_lines(actors: Iterable[ActorTally]) -> list[str]:
    ranked = sorted(actors, key=lambda a: (-a.records, -a.requests))[:TOP]
    return [
        f"  {a.records:>6,} records {a.requests:>7,} requests  {a.action.label:<9} "
        f"{_lead(a) or '':<28} {a.actor[:80]}"
        for a in ranked
    ]


def _lead(actor: ActorTally) -> str:
    top = actor.reasons.most_common(1)
    return top[0][0] if top else ""
