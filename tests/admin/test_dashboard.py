"""The dashboard at /guard/: sign-in, what it shows, escaping, hashed addresses, and the
whole site across two workers on Redis."""

from __future__ import annotations

import re
import secrets

import pytest

from guard.admin.dashboard import SESSION_SECONDS
from guard.middleware import GuardMiddleware
from guard.testing import ManualClock, Reply, call_asgi, chrome_headers
from tests.admin.workers import worker
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
TOKEN = "dashboard-token-0123456789"
FORM = {**chrome_headers(), "content-type": "application/x-www-form-urlencoded"}
SCRIPT = {"user-agent": "python-requests/2.32.3"}


async def sign_in(app: GuardMiddleware, token: str = TOKEN) -> Reply:
    """POST the token to the sign-in form."""
    return await call_asgi(
        app, "/guard/", method="POST", headers=FORM, body=f"token={token}".encode()
    )


async def traffic(app: GuardMiddleware, ip: str = "203.0.113.9") -> None:
    """People on listings, and a script on records (refused)."""
    for n in range(5):
        await call_asgi(app, "/resumes", headers=chrome_headers(), client=(f"198.51.100.{n}", 1))
    for record in range(100000, 100006):
        await call_asgi(app, f"/resume/{record}", headers=SCRIPT, client=(ip, 1))


async def test_signing_in_opens_the_dashboard(guarded: GuardedFactory, clock: ManualClock) -> None:
    """Without a session: a 401 sign-in form. A wrong token: 401 and a message. The right
    one: a strict, HttpOnly session cookie for /guard/ that opens the page until it
    expires; a bearer token opens it too."""
    app, _ = guarded(admin_token=TOKEN)
    first = await call_asgi(app, "/guard/", headers=chrome_headers())
    assert first.status == 401
    assert "<form method='post' action='/guard/'>" in first.text
    wrong = await sign_in(app, "not-the-token-0123456789")
    assert (wrong.status, "That is not the admin token." in wrong.text) == (401, True)
    right = await sign_in(app)
    assert (right.status, right.header("location")) == (303, "/guard/")
    cookie = right.header("set-cookie") or ""
    for flag in ("Path=/guard/", "HttpOnly", "SameSite=Strict", f"Max-Age={SESSION_SECONDS}"):
        assert flag in cookie
    session = {**chrome_headers(), "cookie": cookie.split(";")[0]}
    assert (await call_asgi(app, "/guard/", headers=session)).status == 200
    tampered = {**chrome_headers(), "cookie": cookie.split(";")[0][:-2] + "xx"}
    assert (await call_asgi(app, "/guard/", headers=tampered)).status == 401
    bearer = {**chrome_headers(), "authorization": f"Bearer {TOKEN}"}
    assert (await call_asgi(app, "/guard/", headers=bearer)).status == 200
    clock.advance(SESSION_SECONDS + 1)
    assert (await call_asgi(app, "/guard/", headers=session)).status == 401


async def test_the_page_shows_policy_decisions_and_records(guarded: GuardedFactory) -> None:
    """The live policy, refusals with their reasons and incident ids, and a page that loads
    nothing from elsewhere and runs no script, under a strict content security policy."""
    app, _ = guarded(admin_token=TOKEN)
    await traffic(app)
    page = await call_asgi(app, "/guard/", headers={"authorization": f"Bearer {TOKEN}"})
    text = page.text
    assert "mode <b>enforce</b>; gray 0.6 (challenge), block 0.9" in text
    assert "automation:python-requests" in text
    assert re.search(r"<td>[0-9A-Z]{4,5}-[0-9A-Z]{4}</td>", text)  # an incident id
    assert "203.0.113.9 python-requests/2.32.3" in text
    assert "<script" not in text
    assert not re.search(r"""(?:src|href)=['"]?https?:""", text)
    assert "default-src 'none'" in (page.header("content-security-policy") or "")
    assert page.header("cache-control") == "no-store"


async def test_what_clients_send_is_escaped(guarded: GuardedFactory) -> None:
    """A user agent with markup in it is shown as text."""
    app, _ = guarded(admin_token=TOKEN)
    evil = {"user-agent": "<script>alert(1)</script> curl/8"}
    await call_asgi(app, "/resume/100001", headers=evil, client=("192.0.2.66", 1))
    text = (await call_asgi(app, "/guard/", headers={"authorization": f"Bearer {TOKEN}"})).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; curl/8" in text
    assert "<script>" not in text


async def test_addresses_are_hashed_when_the_log_hashes_them(guarded: GuardedFactory) -> None:
    """With hash_ips_in_log the dashboard shows keyed hashes, not addresses."""
    app, _ = guarded(admin_token=TOKEN, hash_ips_in_log=True)
    await traffic(app)
    text = (await call_asgi(app, "/guard/", headers={"authorization": f"Bearer {TOKEN}"})).text
    assert "python-requests/2.32.3" in text
    assert "203.0.113.9" not in text


async def test_the_dashboard_shows_every_worker_on_redis(
    redis_url: str, clock: ManualClock
) -> None:
    """Two workers on one Redis: what the first judged is on the second's dashboard, which
    counts both workers."""
    prefix = f"board{secrets.token_hex(4)}"
    first, second = worker(redis_url, prefix, clock, TOKEN), worker(redis_url, prefix, clock, TOKEN)
    try:
        await traffic(first, ip="203.0.113.77")
        await first.guard.board.publish(clock())
        await call_asgi(second, "/jobs", headers=chrome_headers())
        await second.guard.board.publish(clock())
        text = (
            await call_asgi(second, "/guard/", headers={"authorization": f"Bearer {TOKEN}"})
        ).text
        assert "2 worker(s) reporting" in text
        assert "203.0.113.77 python-requests/2.32.3" in text
    finally:
        await first.guard.aclose()
        await second.guard.aclose()
