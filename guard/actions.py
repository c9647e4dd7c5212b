"""Refusals: what the guard answers instead of the app, and the hook a site uses to own it.

The engine describes each refusal as a :class:`Refusal`; a :data:`Responder` turns it into a
Starlette ``Response``. :func:`default_responder` answers JSON to API clients and a page in
the client's language to browsers; a site can pass its own responder (like Rack::Attack's
``throttled_responder``) and still gets the protocol headers: the engine calls
:func:`apply_refusal_headers` on whatever the responder returns.
"""

from __future__ import annotations

import html
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from starlette.responses import HTMLResponse, JSONResponse, Response

from guard.challenge.page import ChallengeTicket, challenge_page
from guard.i18n import known_language, markup, text
from guard.policy import Verdict
from guard.types import Action

__all__ = [
    "INCIDENT_ALPHABET",
    "KIND_STATUS",
    "ChallengeTicket",
    "Refusal",
    "RefusalKind",
    "Responder",
    "apply_refusal_headers",
    "default_responder",
    "incident_id",
    "public_reason",
    "refusal_headers",
]

RefusalKind = Literal["challenge", "throttle", "block", "unavailable"]

KIND_STATUS: Mapping[RefusalKind, int] = {
    "challenge": 429,
    "throttle": 429,
    "block": 403,
    "unavailable": 503,
}
"""The status each kind of refusal is answered with."""

INCIDENT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Digits and capitals without 0, O, 1, I and L, which people misread when quoting an id."""

_PUBLIC_REASONS = {
    "rate_limit": "rate_limit",
    "harvest_budget": "harvest_budget",
    "unlisted_record": "open_from_site",
    "denylist": "denied",
    "storage_unavailable": "unavailable",
}
_ERRORS: Mapping[RefusalKind, str] = {
    "challenge": "too_many_requests",  # an API client cannot solve the page: slow down
    "throttle": "too_many_requests",
    "block": "forbidden",
    "unavailable": "unavailable",
}
_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title></head>
<body><main><h1>{title}</h1><p>{message}</p>{wait}
<p>{support}</p>
<p>{incident}</p></main></body></html>
"""


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the guard answers instead of the app; a responder turns it into a Response.

    Args:
        kind: challenge, throttle, block or unavailable (the store is down, failing closed).
        status: the HTTP status: 429 for throttle and challenge, 403 for block, 503 for
            unavailable (see :data:`KIND_STATUS`).
        verdict: the policy's verdict (action, score, reasons, retry_after, rate policies).
        incident: a short id the engine also logs, for the client to quote to support.
        language: the language to answer in ("en" or "zh-CN").
        wants_json: whether the client is an API client (it asked for JSON, not HTML).
        path: the path asked for.
        ticket: the challenge to show, when ``kind`` is "challenge" and the client is a
            browser navigating to a page; None otherwise.
    """

    kind: RefusalKind
    status: int
    verdict: Verdict
    incident: str
    language: str
    wants_json: bool
    path: str
    ticket: ChallengeTicket | None = None


Responder = Callable[[Refusal], Response]
"""Turns a refusal into the response sent; the engine adds :func:`refusal_headers`."""


def incident_id() -> str:
    """A fresh incident id: 8 random characters of :data:`INCIDENT_ALPHABET`, as XXXX-XXXX.

    About 40 bits, so ids of the same day do not collide in practice.
    """
    chars = "".join(secrets.choice(INCIDENT_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def public_reason(verdict: Verdict) -> str:
    """The category a client is told; the detailed reasons stay in the decision log.

    Reasons list what forced an action first (see :meth:`~guard.policy.Policy.decide`), so
    a turn back forced beside a block the score earned is skipped: the client was blocked."""
    reasons = verdict.reasons
    if reasons[:1] == ("unlisted_record",) and verdict.action is not Action.THROTTLE:
        reasons = reasons[1:]
    top = reasons[0] if reasons else ""
    return _PUBLIC_REASONS.get(top.partition(":")[0], "automated_traffic")


def refusal_headers(refusal: Refusal) -> dict[str, str]:
    """The headers every refusal carries, whoever renders it.

    ``Cache-Control: no-store``; ``Retry-After`` in whole seconds (rounded up) on a 429 or
    503 when the wait is known, and "1" on a challenge page (solving takes about a second);
    for a throttle with rate policies, ``RateLimit-Policy`` listing them and ``RateLimit``
    naming the one exceeded, as the IETF RateLimit headers draft writes them.
    """
    verdict = refusal.verdict
    retry = _retry_seconds(verdict)
    headers = {"Cache-Control": "no-store"}
    if refusal.kind == "challenge" and refusal.ticket is not None:
        headers["Retry-After"] = "1"
    elif retry is not None and refusal.status in {429, 503}:
        headers["Retry-After"] = str(retry)
    if verdict.action == Action.THROTTLE and verdict.rate_policy and verdict.exceeded_policy:
        headers["RateLimit-Policy"] = ", ".join(verdict.rate_policy)
        label = (verdict.exceeded_policy or verdict.rate_policy[0]).partition(";")[0]
        headers["RateLimit"] = f"{label};r=0;t={retry or 1}"
    return headers


def apply_refusal_headers(response: Response, refusal: Refusal) -> Response:
    """Add :func:`refusal_headers` to ``response`` where the responder did not set them.

    Args:
        response: what a responder returned; changed in place.
        refusal: the refusal it answers.

    Returns:
        The same response.
    """
    for name, value in refusal_headers(refusal).items():
        if name not in response.headers:
            response.headers[name] = value
    return response


def default_responder(refusal: Refusal) -> Response:
    """The guard's own answer: JSON for API clients, a page in the client's language otherwise.

    JSON is ``{"error", "reason", "retry_after", "incident"}``. A browser gets the challenge
    page when the refusal carries a ticket, else a page saying what happened, how long to
    wait when known, and the incident id to quote to the site's support.
    """
    headers = refusal_headers(refusal)
    if refusal.wants_json:
        body = {
            "error": _ERRORS[refusal.kind],
            "reason": public_reason(refusal.verdict),
            "retry_after": _retry_seconds(refusal.verdict),
            "incident": refusal.incident,
        }
        return JSONResponse(body, refusal.status, headers)
    if refusal.kind == "challenge" and refusal.ticket is not None:
        ticket = refusal.ticket
        page = challenge_page(ticket.token, ticket.difficulty, refusal.language, refusal.incident)
        return HTMLResponse(page, refusal.status, headers)
    return HTMLResponse(_refusal_page(refusal), refusal.status, headers)


def _retry_seconds(verdict: Verdict) -> int | None:
    """The wait in whole seconds, rounded up; None when unknown (or not a positive number)."""
    wait = verdict.retry_after
    if wait is None or not math.isfinite(wait) or wait <= 0:
        return None
    return math.ceil(wait)


def _refusal_page(refusal: Refusal) -> str:
    """The HTML page of a throttle, block, unavailable or ticketless challenge refusal."""
    lang = known_language(refusal.language)
    kind = refusal.kind
    retry = _retry_seconds(refusal.verdict)
    wait = ""
    detour = public_reason(refusal.verdict) == "open_from_site"
    if refusal.status in {429, 503} and not (detour and retry is None):
        if retry is None:
            wait = text(lang, "refusal.wait.unknown")
        elif retry == 1:
            wait = text(lang, "refusal.wait.one_second")
        else:
            wait = text(lang, "refusal.wait.seconds", seconds=retry)
    if detour:  # nothing to wait for outside a campaign: the record is found on the site
        title = text(lang, "refusal.open_from_site.title")
        home = f'<a href="/">{html.escape(text(lang, "refusal.open_from_site.home"))}</a>'
        message = markup(lang, "refusal.open_from_site", home=home)
    else:
        title = text(lang, f"refusal.{kind}.title")
        explained = text(
            lang,
            "refusal.explained",
            message=text(lang, f"refusal.{kind}.message"),
            reason=public_reason(refusal.verdict),
        )
        message = html.escape(explained)
    code = f"<code>{html.escape(refusal.incident)}</code>"
    return _PAGE.format(
        lang=lang,
        title=html.escape(title),
        message=message,
        wait=f"<p>{html.escape(wait)}</p>" if wait else "",
        support=html.escape(text(lang, "refusal.support")),
        incident=markup(lang, "refusal.incident", incident=code),
    )
