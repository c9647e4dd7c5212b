"""Refusals: the 429 and 403 responses, as JSON for API clients and HTML for browsers."""

from __future__ import annotations

import html
import math

from starlette.responses import HTMLResponse, JSONResponse, Response

from guard.policy import Verdict
from guard.types import Action

_PUBLIC_REASONS = {
    "rate_limit": "rate_limit",
    "harvest_budget": "harvest_budget",
    "denylist": "denied",
    "storage_unavailable": "unavailable",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body><main><h1>{title}</h1><p>{message}</p>{retry}</main></body></html>
"""


def public_reason(verdict: Verdict) -> str:
    """The category a client is told; the detailed reasons stay in the decision log."""
    top = verdict.reasons[0] if verdict.reasons else ""
    return _PUBLIC_REASONS.get(top.partition(":")[0], "automated_traffic")


def refusal(verdict: Verdict, wants_json: bool, status: int | None = None) -> Response:
    """The response that refuses a request: 429 for throttle, 403 for block (or ``status``)."""
    throttled = verdict.action == Action.THROTTLE
    status = status or (429 if throttled else 403)
    retry = math.ceil(verdict.retry_after) if verdict.retry_after else None
    headers = {"Cache-Control": "no-store"}
    if retry is not None and status in {429, 503}:
        headers["Retry-After"] = str(retry)
    if throttled and verdict.rate_policy:
        headers["RateLimit-Policy"] = ", ".join(verdict.rate_policy)
        label = (verdict.exceeded_policy or verdict.rate_policy[0]).partition(";")[0]
        headers["RateLimit"] = f"{label};r=0;t={retry or 1}"
    reason = public_reason(verdict)
    if wants_json:
        body = {
            "error": "too_many_requests" if status == 429 else "forbidden",
            "reason": reason,
            "retry_after": retry,
        }
        return JSONResponse(body, status, headers)
    if status == 429:
        title, message = "Too many requests", "You are going faster than this site allows."
    else:
        title, message = "Access denied", "This request looks automated and was refused."
    wait = f"<p>Please try again in {retry} seconds.</p>" if retry and status == 429 else ""
    page = _PAGE.format(
        title=title, message=f"{html.escape(message)} ({html.escape(reason)})", retry=wait
    )
    return HTMLResponse(page, status, headers)
