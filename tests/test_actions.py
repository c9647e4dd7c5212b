"""Tests for guard.actions: the 429 and 403 responses."""

from __future__ import annotations

import json
import re

import pytest

from guard.actions import public_reason, refusal
from guard.config import Thresholds
from guard.policy import Policy, Verdict
from guard.signals.base import Finding
from guard.types import Action

POLICIES = ('"sensitive-ip";q=30;w=60', '"sensitive-network";q=120;w=60')
# RFC 9651 structured fields as the IETF RateLimit headers draft uses them.
POLICY_ITEM = re.compile(r'^"[a-z0-9-]+";q=\d+;w=\d+$')
LIMIT_ITEM = re.compile(r'^"[a-z0-9-]+";r=\d+;t=\d+$')


def throttled(
    retry_after: float | None = 1.2, reasons: tuple[str, ...] = ("rate_limit:ip",)
) -> Verdict:
    """A throttle verdict as the rate limit signal produces it."""
    return Verdict(Action.THROTTLE, 0.3, reasons, True, retry_after, POLICIES)


def blocked(reasons: tuple[str, ...] = ("honeypot",), retry_after: float | None = None) -> Verdict:
    """A block verdict."""
    return Verdict(Action.BLOCK, 0.95, reasons, True, retry_after)


def test_429_has_retry_after_rounded_up() -> None:
    """A throttle is a 429 whose Retry-After is the wait in whole seconds, rounded up."""
    response = refusal(throttled(1.2), wants_json=False)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


def test_429_ratelimit_headers_are_structured_fields() -> None:
    """RateLimit-Policy lists every policy and RateLimit names one with r=0 and t=wait."""
    response = refusal(throttled(29.5), wants_json=True)
    policy = response.headers["ratelimit-policy"]
    assert policy == '"sensitive-ip";q=30;w=60, "sensitive-network";q=120;w=60'
    assert all(POLICY_ITEM.match(item) for item in policy.split(", "))
    limit = response.headers["ratelimit"]
    assert LIMIT_ITEM.match(limit)
    assert limit == '"sensitive-ip";r=0;t=30'


def test_429_without_known_wait_says_one_second() -> None:
    """Without a retry time there is no Retry-After, and RateLimit's t defaults to 1."""
    response = refusal(throttled(None), wants_json=False)
    assert "retry-after" not in response.headers
    assert response.headers["ratelimit"] == '"sensitive-ip";r=0;t=1'


def test_429_without_rate_policy_has_no_ratelimit_headers() -> None:
    """A throttle from the score alone carries no RateLimit headers."""
    verdict = Verdict(Action.THROTTLE, 0.7, ("ua_hints_mismatch:brand",), True, None)
    response = refusal(verdict, wants_json=False)
    assert response.status_code == 429
    assert "ratelimit" not in response.headers
    assert "ratelimit-policy" not in response.headers


def test_ratelimit_names_the_exceeded_policy() -> None:
    """When the network limit refused the request, RateLimit names the network policy."""
    finding = Finding("rate_limit:network", 0.3, Action.THROTTLE, 3.0, POLICIES[1])
    verdict = Policy(Thresholds(), enforced=True).decide([finding], POLICIES)
    response = refusal(verdict, wants_json=True)
    assert response.headers["ratelimit"] == '"sensitive-network";r=0;t=3'
    assert response.headers["ratelimit-policy"] == ", ".join(POLICIES)


def test_ratelimit_policy_agrees_with_its_reset_time() -> None:
    """RateLimit names the policy whose wait is the t it reports."""
    findings = [
        Finding("rate_limit:ip", 0.3, Action.THROTTLE, 2.0, POLICIES[0]),
        Finding("rate_limit:network", 0.3, Action.THROTTLE, 40.0, POLICIES[1]),
    ]
    verdict = Policy(Thresholds(), enforced=True).decide(findings, POLICIES)
    response = refusal(verdict, wants_json=True)
    assert response.headers["retry-after"] == "40"
    assert response.headers["ratelimit"] == '"sensitive-network";r=0;t=40'


def test_429_json_body() -> None:
    """An API client gets a JSON 429 naming the public reason and the wait."""
    response = refusal(throttled(4.1), wants_json=True)
    assert response.headers["content-type"] == "application/json"
    assert json.loads(bytes(response.body)) == {
        "error": "too_many_requests",
        "reason": "rate_limit",
        "retry_after": 5,
    }


def test_429_html_body() -> None:
    """A browser gets an HTML 429 page with the wait in seconds."""
    response = refusal(throttled(4.1), wants_json=False)
    assert response.headers["content-type"].startswith("text/html")
    page = bytes(response.body).decode()
    assert page.startswith("<!doctype html>")
    assert "<title>Too many requests</title>" in page
    assert "try again in 5 seconds" in page
    assert "(rate_limit)" in page


def test_403_json_body() -> None:
    """A block is a JSON 403 for API clients, with no Retry-After."""
    response = refusal(blocked(("harvest_budget:ip:hour",), 900.0), wants_json=True)
    assert response.status_code == 403
    assert "retry-after" not in response.headers
    assert "ratelimit" not in response.headers
    assert json.loads(bytes(response.body)) == {
        "error": "forbidden",
        "reason": "harvest_budget",
        "retry_after": 900,
    }


def test_403_html_body() -> None:
    """A block is an HTML 403 page for browsers that reveals only the public reason."""
    response = refusal(blocked(("honeypot", "no_cookies")), wants_json=False)
    assert response.status_code == 403
    page = bytes(response.body).decode()
    assert "<title>Access denied</title>" in page
    assert "(automated_traffic)" in page
    assert "honeypot" not in page
    assert "try again" not in page


def test_explicit_503_has_retry_after() -> None:
    """A fail-closed 503 carries Retry-After like a 429."""
    verdict = Verdict(Action.BLOCK, 1.0, ("storage_unavailable",), True, 5.0)
    response = refusal(verdict, wants_json=True, status=503)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert json.loads(bytes(response.body))["reason"] == "unavailable"


@pytest.mark.parametrize(
    "verdict", [throttled(), blocked(), Verdict(Action.BLOCK, 1.0, ("denylist",))]
)
@pytest.mark.parametrize("wants_json", [True, False])
def test_refusals_are_never_cached(verdict: Verdict, wants_json: bool) -> None:
    """Every refusal says Cache-Control: no-store."""
    assert refusal(verdict, wants_json).headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("reasons", "public"),
    [
        (("rate_limit:network",), "rate_limit"),
        (("harvest_budget:identity:day",), "harvest_budget"),
        (("denylist",), "denied"),
        (("storage_unavailable",), "unavailable"),
        (("honeypot",), "automated_traffic"),
        ((), "automated_traffic"),
    ],
)
def test_public_reason(reasons: tuple[str, ...], public: str) -> None:
    """Clients learn a coarse category of the top reason, never the detailed signal."""
    assert public_reason(Verdict(Action.BLOCK, 1.0, reasons)) == public
