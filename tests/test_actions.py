"""Tests for guard.actions: refusals, their headers, the default pages and the responder hook."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import pytest
from starlette.responses import PlainTextResponse, Response

from guard.actions import (
    INCIDENT_ALPHABET,
    KIND_STATUS,
    ChallengeTicket,
    Refusal,
    RefusalKind,
    apply_refusal_headers,
    default_responder,
    incident_id,
    public_reason,
    refusal_headers,
)
from guard.config import Thresholds
from guard.i18n import LANGUAGES, text
from guard.policy import Policy, Verdict
from guard.scoring import Finding
from guard.types import Action

POLICIES = ('"sensitive-ip";q=30;w=60', '"sensitive-network";q=120;w=60')
# RFC 9651 structured fields as the IETF RateLimit headers draft uses them.
POLICY_ITEM = re.compile(r'^"[a-z0-9-]+";q=\d+;w=\d+$')
LIMIT_ITEM = re.compile(r'^"[a-z0-9-]+";r=\d+;t=\d+$')
INCIDENT = "7GQ4-K2PM"
KINDS: tuple[RefusalKind, ...] = ("challenge", "throttle", "block", "unavailable")


def throttled(
    retry_after: float | None = 1.2, reasons: tuple[str, ...] = ("rate_limit:ip",)
) -> Verdict:
    """A throttle verdict as the rate limit signal produces it."""
    return Verdict(Action.THROTTLE, 0.3, reasons, True, retry_after, POLICIES, POLICIES[0])


def blocked(reasons: tuple[str, ...] = ("honeypot",), retry_after: float | None = None) -> Verdict:
    """A block verdict."""
    return Verdict(Action.BLOCK, 0.95, reasons, True, retry_after)


def gray() -> Verdict:
    """A challenge verdict from the gray zone, carrying the route's rate policies."""
    return Verdict(Action.CHALLENGE, 0.5, ("ua_hints_mismatch:brand",), True, None, POLICIES)


def verdict_for(kind: RefusalKind) -> Verdict:
    """A typical verdict behind each kind of refusal."""
    if kind == "challenge":
        return gray()
    if kind == "throttle":
        return throttled(4.1)
    if kind == "unavailable":
        return Verdict(Action.BLOCK, 1.0, ("storage_unavailable",), True, 5.0)
    return blocked()


def refusal_of(
    verdict: Verdict,
    wants_json: bool,
    kind: RefusalKind | None = None,
    *,
    language: str = "en",
    ticket: ChallengeTicket | None = None,
    incident: str = INCIDENT,
) -> Refusal:
    """The refusal the engine builds: a throttle or block by the verdict unless ``kind``."""
    kind = kind or ("throttle" if verdict.action is Action.THROTTLE else "block")
    return Refusal(
        kind, KIND_STATUS[kind], verdict, incident, language, wants_json, "/resume/1", ticket
    )


def respond(refusal: Refusal) -> Response:
    """What the engine sends with the default responder."""
    return apply_refusal_headers(default_responder(refusal), refusal)


def page_of(response: Response) -> str:
    """The HTML body of a response."""
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return bytes(response.body).decode()


def test_429_has_retry_after_rounded_up() -> None:
    """A throttle is a 429 whose Retry-After is the wait in whole seconds, rounded up."""
    response = respond(refusal_of(throttled(1.2), wants_json=False))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


def test_429_ratelimit_headers_are_structured_fields() -> None:
    """RateLimit-Policy lists every policy and RateLimit names one with r=0 and t=wait."""
    response = respond(refusal_of(throttled(29.5), wants_json=True))
    policy = response.headers["ratelimit-policy"]
    assert policy == '"sensitive-ip";q=30;w=60, "sensitive-network";q=120;w=60'
    assert all(POLICY_ITEM.match(item) for item in policy.split(", "))
    limit = response.headers["ratelimit"]
    assert LIMIT_ITEM.match(limit)
    assert limit == '"sensitive-ip";r=0;t=30'


def test_429_without_known_wait_says_one_second() -> None:
    """Without a retry time there is no Retry-After, and RateLimit's t defaults to 1."""
    response = respond(refusal_of(throttled(None), wants_json=False))
    assert "retry-after" not in response.headers
    assert response.headers["ratelimit"] == '"sensitive-ip";r=0;t=1'


@pytest.mark.parametrize("wait", [0.0, -3.0, float("nan"), float("inf")])
def test_a_wait_that_is_no_positive_number_counts_as_unknown(wait: float) -> None:
    """A zero, negative or non-finite retry time gives no Retry-After and no number."""
    refusal = refusal_of(throttled(wait), wants_json=True)
    response = respond(refusal)
    assert "retry-after" not in response.headers
    assert response.headers["ratelimit"] == '"sensitive-ip";r=0;t=1'
    assert json.loads(bytes(response.body))["retry_after"] is None


def test_a_turn_back_to_the_site_is_no_rate_limit() -> None:
    """A record nobody was shown, turned back on a route with rate policies: no RateLimit
    headers (no limit was reached), a page in the client's language linking home, and the
    JSON reason ``open_from_site``."""
    verdict = Verdict(Action.THROTTLE, 0.6, ("unlisted_record",), True, None, POLICIES)
    page = respond(refusal_of(verdict, wants_json=False))
    assert page.status_code == 429
    assert "ratelimit" not in page.headers
    assert "ratelimit-policy" not in page.headers
    body = bytes(page.body).decode()
    assert '<a href="/">home page</a>' in body
    assert "faster than this site allows" not in body
    assert "try again" not in body  # nothing to wait for: the record is found on the site
    chinese = respond(replace(refusal_of(verdict, wants_json=False), language="zh-CN"))
    assert '<a href="/">首页</a>' in bytes(chinese.body).decode()
    api = respond(refusal_of(verdict, wants_json=True))
    assert json.loads(bytes(api.body))["reason"] == "open_from_site"


def test_a_block_beside_a_turn_back_is_told_as_a_block() -> None:
    """Hard evidence that blocks is what the client is told, not the turn back ranked above
    it (findings that force an action rank first in the log)."""
    verdict = blocked(("unlisted_record", "enumeration"))
    assert public_reason(verdict) == "automated_traffic"
    body = bytes(respond(refusal_of(verdict, wants_json=False)).body).decode()
    assert 'href="/"' not in body


def test_429_without_rate_policy_has_no_ratelimit_headers() -> None:
    """A throttle from the score alone carries no RateLimit headers."""
    verdict = Verdict(Action.THROTTLE, 0.7, ("ua_hints_mismatch:brand",), True, None)
    response = respond(refusal_of(verdict, wants_json=False))
    assert response.status_code == 429
    assert "ratelimit" not in response.headers
    assert "ratelimit-policy" not in response.headers


def test_ratelimit_names_the_exceeded_policy() -> None:
    """When the network limit refused the request, RateLimit names the network policy."""
    finding = Finding("rate_limit:network", 0.3, Action.THROTTLE, 3.0, POLICIES[1])
    verdict = Policy(thresholds=Thresholds()).decide([finding], POLICIES)
    response = respond(refusal_of(verdict, wants_json=True))
    assert response.headers["ratelimit"] == '"sensitive-network";r=0;t=3'
    assert response.headers["ratelimit-policy"] == ", ".join(POLICIES)


def test_ratelimit_policy_agrees_with_its_reset_time() -> None:
    """RateLimit names the policy whose wait is the t it reports."""
    findings = [
        Finding("rate_limit:ip", 0.3, Action.THROTTLE, 2.0, POLICIES[0]),
        Finding("rate_limit:network", 0.3, Action.THROTTLE, 40.0, POLICIES[1]),
    ]
    verdict = Policy(thresholds=Thresholds()).decide(findings, POLICIES)
    response = respond(refusal_of(verdict, wants_json=True))
    assert response.headers["retry-after"] == "40"
    assert response.headers["ratelimit"] == '"sensitive-network";r=0;t=40'


def test_429_json_body() -> None:
    """An API client gets a JSON 429 naming the public reason, the wait and the incident."""
    response = respond(refusal_of(throttled(4.1), wants_json=True))
    assert response.headers["content-type"] == "application/json"
    assert json.loads(bytes(response.body)) == {
        "error": "too_many_requests",
        "reason": "rate_limit",
        "retry_after": 5,
        "incident": INCIDENT,
    }


def test_429_html_body() -> None:
    """A browser gets an HTML 429 page with the wait in seconds."""
    page = page_of(respond(refusal_of(throttled(4.1), wants_json=False)))
    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert "<title>Too many requests</title>" in page
    assert "try again in 5 seconds" in page
    assert "(rate_limit)" in page


def test_a_one_second_wait_is_said_in_the_singular() -> None:
    """A wait of one second reads "1 second", not "1 seconds"."""
    page = page_of(respond(refusal_of(throttled(0.4), wants_json=False)))
    assert "try again in 1 second." in page


def test_403_json_body() -> None:
    """A block is a JSON 403 for API clients, with no Retry-After."""
    refusal = refusal_of(blocked(("harvest_budget:ip:hour",), 900.0), wants_json=True)
    response = respond(refusal)
    assert response.status_code == 403
    assert "retry-after" not in response.headers
    assert "ratelimit" not in response.headers
    assert json.loads(bytes(response.body)) == {
        "error": "forbidden",
        "reason": "harvest_budget",
        "retry_after": 900,
        "incident": INCIDENT,
    }


def test_403_html_body() -> None:
    """A block is an HTML 403 page for browsers that reveals only the public reason."""
    response = respond(refusal_of(blocked(("honeypot", "no_cookies")), wants_json=False))
    assert response.status_code == 403
    page = page_of(response)
    assert "<title>Access denied</title>" in page
    assert "(automated_traffic)" in page
    assert "honeypot" not in page
    assert "try again" not in page


def test_503_has_retry_after() -> None:
    """A fail-closed 503 carries Retry-After like a 429, and says "unavailable"."""
    refusal = refusal_of(verdict_for("unavailable"), wants_json=True, kind="unavailable")
    response = respond(refusal)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = json.loads(bytes(response.body))
    assert (body["error"], body["reason"]) == ("unavailable", "unavailable")


def test_503_page_says_when_to_come_back() -> None:
    """The 503 page says the site cannot answer now and when to try again."""
    refusal = refusal_of(verdict_for("unavailable"), wants_json=False, kind="unavailable")
    page = page_of(respond(refusal))
    assert "<title>Temporarily unavailable</title>" in page
    assert "try again in 5 seconds" in page


def test_a_challenge_without_ticket_is_a_429_asking_for_the_check() -> None:
    """An API client in the gray zone gets a JSON 429 "too_many_requests", and no
    RateLimit headers: no rate limit refused it."""
    response = respond(refusal_of(gray(), wants_json=True, kind="challenge"))
    assert response.status_code == 429
    assert json.loads(bytes(response.body)) == {
        "error": "too_many_requests",
        "reason": "automated_traffic",
        "retry_after": None,
        "incident": INCIDENT,
    }
    assert "ratelimit" not in response.headers
    assert "retry-after" not in response.headers


def test_a_challenge_without_ticket_for_a_browser_is_an_html_429() -> None:
    """A browser's gray-zone request that is not a page navigation gets an HTML 429 page
    saying a browser check is needed, not the proof-of-work page."""
    response = respond(refusal_of(gray(), wants_json=False, kind="challenge"))
    assert response.status_code == 429
    page = page_of(response)
    assert "<title>Browser check needed</title>" in page
    assert "crypto.subtle" not in page


def test_a_challenge_with_ticket_is_the_proof_of_work_page() -> None:
    """A browser navigating in the gray zone gets the challenge page for its ticket, in its
    language, with Retry-After 1 and no-store."""
    ticket = ChallengeTicket("c1.tok", 13)
    refusal = refusal_of(gray(), wants_json=False, kind="challenge", ticket=ticket)
    response = respond(refusal)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.headers["cache-control"] == "no-store"
    page = page_of(response)
    assert 'name="token" value="c1.tok"' in page
    assert "bits = 13;" in page
    assert '<html lang="en">' in page


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_shows_the_incident_in_its_language(kind: RefusalKind, language: str) -> None:
    """Each kind of refusal page, in each language, has the right status and headers,
    names its language and shows the incident id with the advice to quote it."""
    refusal = refusal_of(verdict_for(kind), wants_json=False, kind=kind, language=language)
    response = respond(refusal)
    assert response.status_code == KIND_STATUS[kind]
    assert response.headers["cache-control"] == "no-store"
    assert ("retry-after" in response.headers) == (kind in {"throttle", "unavailable"})
    page = page_of(response)
    assert f'<html lang="{language}">' in page
    assert f"<code>{INCIDENT}</code>" in page
    assert html.escape(text(language, "refusal.support")) in page
    assert f"<title>{html.escape(text(language, f'refusal.{kind}.title'))}</title>" in page


@pytest.mark.parametrize("kind", KINDS)
def test_json_bodies_do_not_depend_on_the_language(kind: RefusalKind) -> None:
    """API clients get the same codes whatever their Accept-Language."""
    verdict = verdict_for(kind)
    bodies = [
        bytes(respond(refusal_of(verdict, True, kind, language=language)).body)
        for language in LANGUAGES
    ]
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0])["incident"] == INCIDENT


def test_chinese_pages_are_in_chinese() -> None:
    """A zh-CN 429 page says, in Chinese, what happened and how long to wait."""
    page = page_of(respond(refusal_of(throttled(4.1), False, language="zh-CN")))
    assert "<title>访问过于频繁</title>" in page
    assert "请在 5 秒后重试。" in page
    assert f"参考编号：<code>{INCIDENT}</code>" in page  # noqa: RUF001
    assert "Too many" not in page


def test_a_language_not_shipped_gets_english() -> None:
    """A refusal in a language without a catalogue is the English page, marked as such."""
    page = page_of(respond(refusal_of(blocked(), False, language="fr")))
    assert '<html lang="en">' in page
    assert "<title>Access denied</title>" in page


def test_pages_escape_what_they_show() -> None:
    """An incident id or a ticket carrying markup is shown as text, never as HTML."""
    evil = '<script>alert("x")</script>'
    page = page_of(respond(refusal_of(blocked(), False, incident=evil)))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    ticket = ChallengeTicket(f'"><img src=x onerror=alert(1)>{evil}', 8)
    challenge = page_of(respond(refusal_of(gray(), False, "challenge", ticket=ticket)))
    assert "<img" not in challenge
    assert evil not in challenge


@pytest.mark.parametrize(
    "verdict", [throttled(), blocked(), Verdict(Action.BLOCK, 1.0, ("denylist",))]
)
@pytest.mark.parametrize("wants_json", [True, False])
def test_refusals_are_never_cached(verdict: Verdict, wants_json: bool) -> None:
    """Every refusal says Cache-Control: no-store."""
    assert respond(refusal_of(verdict, wants_json)).headers["cache-control"] == "no-store"


def test_refusal_headers_are_what_the_engine_adds() -> None:
    """refusal_headers gives exactly the protocol headers, without any body headers."""
    assert refusal_headers(refusal_of(throttled(4.1), wants_json=False)) == {
        "Cache-Control": "no-store",
        "Retry-After": "5",
        "RateLimit-Policy": ", ".join(POLICIES),
        "RateLimit": '"sensitive-ip";r=0;t=5',
    }
    assert refusal_headers(refusal_of(blocked(retry_after=60.0), wants_json=False)) == {
        "Cache-Control": "no-store"
    }


def test_a_custom_responder_keeps_its_headers_and_gets_the_missing_ones() -> None:
    """Headers a site's responder set are kept; the refusal headers it did not set are added."""
    refusal = refusal_of(throttled(4.1), wants_json=False)

    def responder(asked: Refusal) -> Response:
        """A site's own 429, with its own caching rule and wait."""
        headers = {"cache-control": "private, max-age=0", "Retry-After": "60"}
        return PlainTextResponse(f"slow down ({asked.incident})", asked.status, headers)

    response = responder(refusal)
    assert apply_refusal_headers(response, refusal) is response
    assert response.headers["cache-control"] == "private, max-age=0"
    assert response.headers["retry-after"] == "60"
    assert response.headers["ratelimit"] == '"sensitive-ip";r=0;t=5'
    assert response.headers["ratelimit-policy"] == ", ".join(POLICIES)
    assert len(response.headers.getlist("cache-control")) == 1
    assert len(response.headers.getlist("retry-after")) == 1
    assert bytes(response.body) == f"slow down ({INCIDENT})".encode()


def test_incident_ids_are_short_unambiguous_and_random() -> None:
    """An incident id is XXXX-XXXX from an alphabet without 0, O, 1, I or L, fresh each time."""
    ids = [incident_id() for _ in range(2000)]
    pattern = re.compile(f"^[{INCIDENT_ALPHABET}]{{4}}-[{INCIDENT_ALPHABET}]{{4}}$")
    assert all(pattern.match(i) for i in ids)
    assert not set("0O1IL") & set(INCIDENT_ALPHABET)
    assert len(set(ids)) == len(ids)
    assert set("".join(ids)) - {"-"} == set(INCIDENT_ALPHABET)


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
