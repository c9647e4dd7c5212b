"""Decision-log lines as the report reads them, and what it computes from them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

REFUSING = frozenset({"throttle", "block"})


@dataclass(frozen=True, slots=True)
class Line:
    """One logged decision: when, what, how sure, why, and for whom."""

    ts: float
    action: str
    score: float
    reasons: tuple[str, ...]
    record: bool
    status: int | None
    ip: str
    ua: str

    @property
    def actor(self) -> tuple[str, str]:
        """The client: address and user agent."""
        return (self.ip, self.ua)

    @property
    def base_action(self) -> str:
        """The action without the ``_shadow`` mark a shadow-mode log gives none of."""
        return self.action.removesuffix("_shadow")


@dataclass(slots=True)
class Decisions:
    """The lines read, and how many lines could not be."""

    lines: list[Line] = field(default_factory=list)
    malformed: int = 0


def read_decisions(streams: Iterable[Iterable[str]]) -> Decisions:
    """Parse decision-log lines; lines that are not decisions are counted, never fatal."""
    found = Decisions()
    for stream in streams:
        for raw in stream:
            if not raw.strip():
                continue
            try:
                found.lines.append(_line(json.loads(raw)))
            except (ValueError, KeyError, TypeError):
                found.malformed += 1
    found.lines.sort(key=lambda line: line.ts)
    return found


def _line(row: dict[str, object]) -> Line:
    status = row.get("status")
    return Line(
        ts=float(row["ts"]),  # type: ignore[arg-type]
        action=str(row["action"]),
        score=float(row["score"]),  # type: ignore[arg-type]
        reasons=tuple(str(r) for r in row.get("reasons") or ()),  # type: ignore[attr-defined]
        record=bool(row.get("record", False)),
        status=int(status) if isinstance(status, int | float | str) and status != "" else None,
        ip=str(row.get("ip", "")),
        ua=str(row.get("ua", "")),
    )


@dataclass(slots=True)
class ActorSummary:
    """One client over the log."""

    requests: int = 0
    records: int = 0
    max_score: float = 0.0
    worst: str = "allow"


_SEVERITY = {"allow": 0, "tarpit": 1, "challenge": 2, "throttle": 3, "block": 4}


def actors(lines: Iterable[Line]) -> dict[tuple[str, str], ActorSummary]:
    """Per client: requests, records served (record routes answered 2xx and not refused),
    highest score and most severe action."""
    found: dict[tuple[str, str], ActorSummary] = {}
    for line in lines:
        summary = found.setdefault(line.actor, ActorSummary())
        summary.requests += 1
        served = line.status is not None and 200 <= line.status < 300
        summary.records += line.record and served
        summary.max_score = max(summary.max_score, line.score)
        if _SEVERITY.get(line.base_action, 0) > _SEVERITY.get(summary.worst, 0):
            summary.worst = line.base_action
    return found


def leading_reasons(lines: Iterable[Line], top: int = 15) -> list[tuple[str, int]]:
    """The leading reason of every verdict other than allow, counted."""
    counts: Counter[str] = Counter(
        line.reasons[0] for line in lines if line.reasons and line.base_action != "allow"
    )
    return counts.most_common(top)


def curve(scored: list[tuple[float, bool]]) -> list[tuple[float, float, float, float]]:
    """Per distinct score, highest first: (threshold, false-positive rate, recall,
    precision) of flagging every actor at or above it. ``scored`` holds (score, is_bot)."""
    bots = sum(bot for _, bot in scored)
    people = len(scored) - bots
    points = []
    tp = fp = 0
    ranked = sorted(scored, key=lambda pair: -pair[0])
    for i, (score, bot) in enumerate(ranked):
        tp += bot
        fp += not bot
        if i + 1 < len(ranked) and ranked[i + 1][0] == score:
            continue
        points.append(
            (score, fp / people if people else 0.0, tp / bots if bots else 0.0, tp / (tp + fp))
        )
    return points


def auc(points: list[tuple[float, float, float, float]]) -> float:
    """The area under the ROC curve through :func:`curve`'s points (from (0, 0) to its
    last point, which flags everyone: (1, 1))."""
    area, last_x, last_y = 0.0, 0.0, 0.0
    for _, x, y, _ in points:
        area += (x - last_x) * (y + last_y) / 2
        last_x, last_y = x, y
    return area
