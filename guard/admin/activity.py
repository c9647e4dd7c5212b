"""What the dashboard shows, as one worker saw it: recent decisions, actions by minute,
scores, and the clients served the most records.

Each worker keeps its own, bounded: the last :data:`RECENT` flagged decisions, an hour of
per-minute counts, a score histogram since start, and the records served to at most
:data:`TRACKED` clients (the lightest are dropped first). :func:`merge` adds the snapshots
of several workers into one view of the site.

What names a client (its address, as the log shows addresses, and user agent) is kept for
:data:`RETAIN` seconds at most: decisions older than that are dropped, and records are
counted by the hour, this hour and the last. :meth:`Activity.forget` drops one address at
once (an erasure request).
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from guard.facts import Facts
from guard.policy import Verdict
from guard.types import Action

RECENT = 50
MINUTES = 60
SCORE_BINS = 20
TRACKED = 2000
TOP = 15
RETAIN = 3600.0
"""Seconds a client's name stays in a decision here; record counts live two such periods."""


class Activity:
    """One worker's recent activity.

    Args:
        address: how a client's address is shown (e.g. a keyed hash when the decision
            log hashes addresses).
    """

    def __init__(self, address: Any = str) -> None:
        self.address = address
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.minutes: dict[int, Counter[str]] = {}
        self.scores = [0] * SCORE_BINS
        self.records: Counter[str] = Counter()
        """Records served this hour, by client."""
        self.earlier: Counter[str] = Counter()
        """Records served the hour before."""
        self._hour = 0
        self._now = 0.0

    def observe(self, facts: Facts, verdict: Verdict, status: int) -> None:
        """Count one decided request and the status it got."""
        self._age(facts.now)
        minute = int(facts.now // 60)
        counts = self.minutes.get(minute)
        if counts is None:
            counts = self.minutes[minute] = Counter()
            for old in [m for m in self.minutes if m <= minute - MINUTES]:
                del self.minutes[old]
        counts[verdict.action.label] += 1
        self.scores[min(int(verdict.score * SCORE_BINS), SCORE_BINS - 1)] += 1
        if verdict.action is not Action.ALLOW or verdict.reasons:
            self.recent.append(
                {
                    "ts": round(facts.now, 1),
                    "action": verdict.action.label,
                    "enforced": verdict.enforced,
                    "score": round(verdict.score, 2),
                    "reasons": list(verdict.reasons[:3]),
                    "incident": verdict.incident,
                    "path": facts.path[:120],
                    "client": self._client(facts),
                }
            )
        if facts.route.route_class.sensitive and 200 <= status < 300 and not verdict.refuses:
            self.records[self._client(facts)] += 1
            if len(self.records) > TRACKED:
                for name, _ in self.records.most_common()[TRACKED // 2 :]:
                    del self.records[name]

    def forget(self, ip: str) -> int:
        """Drop every decision and record count of the client address ``ip``; how many
        entries went."""
        start = f"{self.address(ip)} "
        kept = [row for row in self.recent if not str(row["client"]).startswith(start)]
        dropped = len(self.recent) - len(kept)
        self.recent = deque(kept, maxlen=RECENT)
        for counts in (self.records, self.earlier):
            for name in [name for name in counts if name.startswith(start)]:
                del counts[name]
                dropped += 1
        return dropped

    def _age(self, now: float) -> None:
        """Move to ``now``'s hour, dropping what is older than :data:`RETAIN`."""
        self._now = max(self._now, now)
        hour = int(now // RETAIN)
        if hour > self._hour:
            self.earlier = self.records if hour == self._hour + 1 else Counter()
            self.records = Counter()
            self._hour = hour
        while self.recent and float(self.recent[0]["ts"]) < self._now - RETAIN:
            self.recent.popleft()

    def _client(self, facts: Facts) -> str:
        return f"{self.address(facts.actors['ip'])} {facts.user_agent[:80]}"

    def snapshot(self, now: float) -> dict[str, Any]:
        """A JSON-ready copy as of ``now``, for the other workers' dashboards."""
        self._age(now)
        return {
            "recent": list(self.recent),
            "minutes": {str(m): dict(c) for m, c in self.minutes.items()},
            "scores": list(self.scores),
            "records": dict((self.earlier + self.records).most_common(TOP * 4)),
        }


def merge(snapshots: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """Several workers' snapshots as one view: the newest decisions first, the last hour's
    actions by minute, the score histogram, and the top clients by records served."""
    recent = sorted(
        (row for snap in snapshots for row in snap.get("recent", ())),
        key=lambda row: -float(row["ts"]),
    )[:RECENT]
    minute_now = int(now // 60)
    minutes: dict[int, Counter[str]] = {
        m: Counter() for m in range(minute_now - 59, minute_now + 1)
    }
    scores = [0] * SCORE_BINS
    records: Counter[str] = Counter()
    for snap in snapshots:
        for minute, counts in snap.get("minutes", {}).items():
            if int(minute) in minutes:
                minutes[int(minute)].update(counts)
        for i, count in enumerate(snap.get("scores", ())[:SCORE_BINS]):
            scores[i] += int(count)
        records.update(snap.get("records", {}))
    return {
        "recent": recent,
        "minutes": [(m, dict(minutes[m])) for m in sorted(minutes)],
        "scores": scores,
        "records": records.most_common(TOP),
        "workers": len(snapshots),
    }
