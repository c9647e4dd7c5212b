"""What scoring one request with the behaviour model costs, on realistic requests.

Replays simulated traffic through the guard's feature code and times, per scored request,
computing the feature vector and scoring it with the shipped model (best of several rounds,
one core). Run: ``make bench-model`` or ``.venv/bin/python benchmarks/model_cost.py``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

from guard.facts import Facts
from guard.learn.dataset import Replayer
from guard.learn.simulate import default_spec, simulate
from guard.model.features import features
from guard.model.runtime import load_model
from guard.signals.base import Report
from guard.signals.profile import ClientProfile

ROUNDS = 5


def main() -> int:
    """Time features and scoring over the page requests of a small simulated day."""
    model = load_model()
    replayer = Replayer()
    captured: list[tuple[Facts, ClientProfile, Report]] = []
    for event in simulate(default_spec(seed=4242, scale=0.05)):
        facts, profile, report = replayer.observe(event)
        if facts.route.route_class.sensitive:
            # A snapshot: the profile as it was when this request was scored.
            captured.append((facts, ClientProfile.unpack(profile.pack()), report))
        profile.observe_status(event.status)
    vectors = [features(f, p, r) for f, p, r in captured]
    best_features = best_score = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for f, p, r in captured:
            features(f, p, r)
        best_features = min(best_features, (time.perf_counter() - start) / len(captured))
        start = time.perf_counter()
        for vector in vectors:
            model.score(vector)
        best_score = min(best_score, (time.perf_counter() - start) / len(vectors))
    result = {
        "scored_requests": len(captured),
        "features_us": round(best_features * 1e6, 2),
        "score_us": round(best_score * 1e6, 2),
        "total_us": round((best_features + best_score) * 1e6, 2),
        "estimator": model.meta.get("estimator"),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "model_cost.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
