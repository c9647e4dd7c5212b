"""Prometheus metrics at ``/guard/metrics``: decisions by action, challenges by outcome.

The endpoint needs ``admin_token`` (sent as ``Authorization: Bearer <token>``, compared in
constant time); without a configured token it does not exist and the path goes to the app.
"""

from __future__ import annotations

import hmac
from collections import Counter

from starlette.responses import PlainTextResponse, Response

from guard.types import Action, Scope

METRICS_PATH = "/guard/metrics"


class Metrics:
    """Counters kept in process (each worker reports its own; Prometheus sums them)."""

    def __init__(self) -> None:
        self.decisions: Counter[str] = Counter()
        self._labels = {
            (action, enforced): action.label if enforced else f"{action.label}_shadow"
            for action in Action
            for enforced in (True, False)
        }

    def count(self, action: Action, enforced: bool) -> None:
        """Count one decision."""
        self.decisions[self._labels[action, enforced]] += 1

    def render(self, challenges: dict[str, int]) -> str:
        """The Prometheus text exposition."""
        lines = [
            "# HELP guard_decisions_total Requests judged, by action (_shadow: not enforced).",
            "# TYPE guard_decisions_total counter",
            *(
                f'guard_decisions_total{{action="{a}"}} {n}'
                for a, n in sorted(self.decisions.items())
            ),
            "# HELP guard_challenges_total Challenge pages issued and answers passed or failed.",
            "# TYPE guard_challenges_total counter",
            *(f'guard_challenges_total{{outcome="{o}"}} {n}' for o, n in challenges.items()),
        ]
        return "\n".join(lines) + "\n"


def authorized(scope: Scope, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``."""
    for key, value in scope.get("headers") or ():
        if key.lower() == b"authorization":
            given = value.decode("latin-1").removeprefix("Bearer ").strip()
            return hmac.compare_digest(given.encode(), token.encode())
    return False


def metrics_response(scope: Scope, token: str, text: str) -> Response:
    """The metrics, or 401 without the right token."""
    if not authorized(scope, token):
        return PlainTextResponse("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"})
    return PlainTextResponse(text, 200, media_type="text/plain; version=0.0.4")
