"""Prometheus metrics at ``/guard/metrics``, for every worker of a host.

Counted with prometheus-client. When ``PROMETHEUS_MULTIPROC_DIR`` is set (before the workers
start, as prometheus-client's multiprocess mode asks), every worker writes its counts there
and a scrape that reaches any worker reports all of them together; without it each process
reports its own. Labels are actions, reason families, challenge outcomes and the like: never
an address, a user agent or anything else a client chooses.

The endpoint needs ``admin_token`` (sent as ``Authorization: Bearer <token>``, compared in
constant time); without a configured token it does not exist and the path goes to the app.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.responses import PlainTextResponse, Response

from guard.policy import Verdict
from guard.types import Action, Scope

METRICS_PATH = "/guard/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
SECONDS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)


class Metrics:
    """The guard's counters, histograms and gauges in a registry of their own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.decisions = Counter(
            "guard_decisions",
            "Requests judged, by action (_shadow: not enforced) and the leading reason's family.",
            ["action", "reason"],
            registry=registry,
        )
        self.score = Histogram(
            "guard_score",
            "Scores of the requests judged.",
            buckets=SCORE_BUCKETS,
            registry=registry,
        )
        self.latency = Histogram(
            "guard_decision_seconds",
            "Time the guard takes to judge a request and act on it (the app's time excluded).",
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self.store_latency = Histogram(
            "guard_store_seconds",
            "Time of the store call a request's judgement waits for.",
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            "guard_store_errors",
            "Requests judged without the shared store: failed over to the local one, or 503.",
            ["outcome"],
            registry=registry,
        )
        self.store_failures = Counter(
            "guard_store_failures",
            "Calls to the shared store that failed, by kind: oom (Redis full, refusing "
            "writes), timeout, connection, error.",
            ["kind"],
            registry=registry,
        )
        self.store_evicted = Gauge(
            "guard_store_evicted_keys",
            "Keys the store dropped for room since it started (Redis: evicted_keys, summed "
            "over a cluster's masters; memory: entries), read every few seconds.",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.store_memory = Gauge(
            "guard_store_memory_used_ratio",
            "The store's memory in use over its limit (0 when it has none), read every few "
            "seconds.",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.circuit_open = Gauge(
            "guard_store_circuit_open",
            "1 while the store's circuit breaker is open (calls skip the shared store).",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.challenges = Counter(
            "guard_challenges",
            "Challenge pages issued, and answers passed or failed.",
            ["outcome"],
            registry=registry,
        )
        self.policy_changes = Counter(
            "guard_policy_changes",
            "Live policy changes: made here through the API, or applied from another worker.",
            ["origin"],
            registry=registry,
        )
        self._labels = {
            (action, enforced): action.label if enforced else f"{action.label}_shadow"
            for action in Action
            for enforced in (True, False)
        }
        self._children: dict[tuple[Action, bool, str], Any] = {}

    def decided(self, verdict: Verdict) -> None:
        """Count one decision and its score."""
        family = verdict.reasons[0].partition(":")[0] if verdict.reasons else "none"
        key = (verdict.action, verdict.enforced, family)
        child = self._children.get(key)
        if child is None:  # labels() takes a lock and builds a key: once per combination
            child = self._children[key] = self.decisions.labels(
                self._labels[verdict.action, verdict.enforced], family
            )
        child.inc()
        self.score.observe(verdict.score)

    def challenge(self, outcome: str) -> None:
        """Count a challenge page issued, or an answer ``passed`` or ``failed``."""
        self.challenges.labels(outcome).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition: every worker's counts in multiprocess mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


def authorized(scope: Scope, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``."""
    for key, value in scope.get("headers") or ():
        if key.lower() == b"authorization":
            given = value.decode("latin-1").removeprefix("Bearer ").strip()
            return hmac.compare_digest(given.encode(), token.encode())
    return False


def metrics_response(scope: Scope, token: str, body: bytes) -> Response:
    """The metrics, or 401 without the right token."""
    if not authorized(scope, token):
        return PlainTextResponse("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"})
    return Response(body, 200, media_type=CONTENT_TYPE)
