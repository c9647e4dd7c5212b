"""grafana/guard-dashboard.json asks only for series and labels /guard/metrics exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from guard.testing import call_asgi, chrome_headers
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "guard-dashboard.json"
TOKEN = "grafana-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
_SERIES = re.compile(r"\b(guard_[a-z_]+)")
_BY = re.compile(r"by \(([a-z_, ]+)\)")
_MATCHER = re.compile(r"\{([a-z_]+)[!=~]")


async def exported(guarded: GuardedFactory) -> dict[str, set[str]]:
    """Each sample name /guard/metrics exports after traffic of every kind (a served page,
    a blocked script, a challenge, a policy change, a Redis outage), with its label names."""
    app, _ = guarded(admin_token=TOKEN, thresholds={"gray": 0.35, "block": 0.9})
    down, _ = guarded(admin_token=TOKEN, store="redis://127.0.0.1:1?timeout=0.2")
    await call_asgi(app, "/jobs", headers=chrome_headers())
    await call_asgi(app, "/resume/100001", headers={"user-agent": "python-requests/2.32"})
    copied = {**chrome_headers(), "sec-fetch-site": "same-origin"}
    await call_asgi(app, "/resume/100002", headers=copied, client=("203.0.113.5", 1))
    body = b'{"weights": {"no_cookies": 0.4}}'
    await call_asgi(app, "/guard/api/policy", method="PUT", headers=AUTH, body=body)
    for n in range(4):
        await call_asgi(down, "/jobs", headers=chrome_headers(), client=(f"192.0.2.{n}", 1))
    samples: dict[str, set[str]] = {}
    for guard in (app, down):
        text = (await call_asgi(guard, "/guard/metrics", headers=AUTH)).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, set()).update(sample.labels)
    await down.guard.aclose()
    return samples


def queries() -> list[str]:
    """Every PromQL expression of the dashboard."""
    document = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in document["panels"] for target in panel["targets"]]


async def test_every_query_names_exported_series_and_labels(guarded: GuardedFactory) -> None:
    """Each series a panel asks for is exported, and each label it groups or filters by is
    one that series carries (``le`` for histogram buckets)."""
    samples = await exported(guarded)
    exprs = queries()
    assert len(exprs) >= 10
    for expr in exprs:
        names = _SERIES.findall(expr)
        assert names, expr
        for name in names:
            assert name in samples, f"{name} (in {expr}) is not exported"
            labels = (
                set(_BY.findall(expr)[0].replace(" ", "").split(",")) if "by (" in expr else set()
            )
            labels |= set(_MATCHER.findall(expr))
            assert labels <= samples[name], f"{expr}: {labels - samples[name]} not on {name}"
