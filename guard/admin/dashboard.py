"""``/guard/``: the live dashboard, behind the admin token.

A browser signs in once with the token (a form; the answer is a signed session cookie,
``HttpOnly``, ``SameSite=Strict``, valid :data:`SESSION_SECONDS`, only sent to ``/guard/``);
a script may send ``Authorization: Bearer <token>`` instead. The page is served with a
content security policy that allows nothing but itself and its inline style.
"""

from __future__ import annotations

import hmac

from starlette.responses import HTMLResponse, RedirectResponse, Response

from guard.admin.activity import merge
from guard.admin.page import dashboard_page, login_page
from guard.challenge import read_form
from guard.engine import Guard
from guard.facts import Facts
from guard.observe.metrics import authorized
from guard.types import Receive, Scope

DASHBOARD_PATH = "/guard/"
SESSION_COOKIE = "__guard_admin"
SESSION_SECONDS = 8 * 3600
_PURPOSE = "admin-session"
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def dashboard_response(
    guard: Guard, facts: Facts, scope: Scope, receive: Receive
) -> Response:
    """The answer to one request for ``/guard/``."""
    token = guard.config.admin_token or ""
    if facts.method == "POST":
        form = await read_form(receive) or {}
        given = form.get("token", "").encode()
        if not hmac.compare_digest(given, token.encode()):
            return HTMLResponse(login_page("That is not the admin token."), 401, _HEADERS)
        return _signed_in(guard, facts, scope)
    if not (authorized(scope, token) or _session(guard, facts)):
        return HTMLResponse(login_page(), 401, _HEADERS)
    view = merge((await guard.board.gather(facts.now))["snapshots"], facts.now)
    page = dashboard_page(view, guard.sync.describe(), facts.now)
    return HTMLResponse(page, 200, _HEADERS)


def _signed_in(guard: Guard, facts: Facts, scope: Scope) -> Response:
    value = guard.signer.sign(f"{facts.now + SESSION_SECONDS:.0f}", purpose=_PURPOSE)
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    cookie = (
        f"{SESSION_COOKIE}={value}; Path={DASHBOARD_PATH}; Max-Age={SESSION_SECONDS}; "
        f"HttpOnly; SameSite=Strict{secure}"
    )
    response = RedirectResponse(DASHBOARD_PATH, 303, {**_HEADERS, "Set-Cookie": cookie})
    return response


def _session(guard: Guard, facts: Facts) -> bool:
    """Whether the request carries a session cookie signed here and not expired."""
    value = facts.cookies.get(SESSION_COOKIE)
    body = guard.signer.open(value, purpose=_PURPOSE) if value else None
    try:
        return body is not None and float(body) > facts.now
    except ValueError:
        return False
