"""The proof-of-work challenge without a browser: pages, answers, clearances, keys."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from urllib.parse import urlencode

import pytest

from guard.challenge import (
    CAMPAIGN_BITS,
    CAMPAIGN_RECORDS,
    CLEARANCE_COOKIE,
    MAX_EXTRA_BITS,
    VERIFY_PATH,
    Challenges,
    _decode_path,
)
from guard.challenge.work import leading_zero_bits, solve, solves
from guard.config import Thresholds
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.facts import Facts
from guard.middleware import GuardMiddleware
from guard.policy import Policy
from guard.signals.base import BaseSignal, Report
from guard.store.base import Result
from guard.testing import ManualClock, Reply, call_asgi, chrome_headers
from tests.conftest import SECRET, GuardedFactory, expose

pytestmark = pytest.mark.anyio
HOME = ("203.0.113.10", 1)
# Headers copied from a click, without its Referer: one 0.4 finding, gray at 0.35.
COPIED = {**chrome_headers(), "sec-fetch-site": "same-origin"}
GRAY = {"model": "off", "thresholds": {"gray": 0.35, "block": 0.9}, "challenge_difficulty": 8}


def token_of(reply: Reply) -> str:
    """The token in a challenge page."""
    found = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert found is not None, reply.text[:200]
    return html.unescape(found.group(1))


def cookies_of(reply: Reply) -> str:
    """The Cookie header a browser would send back after ``reply``."""
    return "; ".join(v.partition(";")[0] for k, v in reply.headers if k == "set-cookie")


async def answer(
    app: GuardMiddleware,
    token: str,
    counter: int,
    client: tuple[str, int] = HOME,
    headers: dict[str, str] = COPIED,
) -> Reply:
    """Post a solution to the verify endpoint."""
    return await call_asgi(
        app,
        VERIFY_PATH,
        method="POST",
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
        body=urlencode({"token": token, "counter": counter}).encode(),
        client=client,
    )


async def challenged(app: GuardMiddleware, path: str = "/resume/100007?tab=contact") -> Reply:
    """A gray-zone navigation, which gets the challenge page."""
    reply = await call_asgi(app, path, headers=COPIED, client=HOME)
    assert reply.status == 429
    return reply


async def test_gray_browsers_get_an_accessible_page_and_apis_json(guarded: GuardedFactory) -> None:
    """A gray-zone page navigation gets the challenge page (language, label, live status,
    noscript); a JSON client in the gray zone gets a JSON 429 instead."""
    app, _ = guarded(**GRAY)
    page = await challenged(app)
    assert (page.header("content-type") or "").startswith("text/html")
    for part in ('<html lang="en">', "<noscript>", '<label for="guard-progress">', 'role="status"'):
        assert part in page.text
    assert "crypto.subtle.digest" in page.text
    api = await call_asgi(
        app, "/api/resumes/100007", headers={**COPIED, "accept": "application/json"}, client=HOME
    )
    assert api.status == 429
    assert json.loads(api.text)["error"] == "too_many_requests"
    assert app.guard.challenges.stats.issued == 1


async def test_a_solution_returns_to_the_url_with_a_clearance(guarded: GuardedFactory) -> None:
    """Solving the page's work redirects to the original URL, query kept, with a clearance
    cookie; the cleared browser is then served instead of challenged."""
    app, _ = guarded(**GRAY)
    token = token_of(await challenged(app))
    passed = await answer(app, token, solve(token, 8))
    assert passed.status == 303
    assert passed.header("location") == "/resume/100007?tab=contact"
    cookie = cookies_of(passed)
    assert CLEARANCE_COOKIE in cookie
    assert "__guard=" in cookie
    served = await call_asgi(
        app, "/resume/100007", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert served.status == 200
    assert (app.guard.challenges.stats.passed, app.guard.challenges.stats.failed) == (1, 0)


async def test_without_solving_there_is_no_way_past(guarded: GuardedFactory) -> None:
    """A client that never solves gets the challenge every time, and guesses are refused."""
    app, _ = guarded(**GRAY)
    for _ in range(5):
        await challenged(app)
    token = token_of(await challenged(app))
    wrong = next(n for n in range(1000) if not solves(token, n, 8))
    assert (await answer(app, token, wrong)).status == 403
    assert (await answer(app, "not-a-token", 0)).status == 403
    assert app.guard.challenges.stats.failed == 2


async def test_tokens_are_single_use_and_expire(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A token works once, and not after five minutes."""
    app, _ = guarded(**GRAY)
    token = token_of(await challenged(app))
    counter = solve(token, 8)
    assert (await answer(app, token, counter)).status == 303
    assert (await answer(app, token, counter)).status == 403
    late = token_of(await challenged(app))
    clock.advance(301)
    assert (await answer(app, late, solve(late, 8))).status == 403


async def test_forged_and_foreign_tokens_are_refused(guarded: GuardedFactory) -> None:
    """A token with a changed byte, or answered from another network or browser, fails."""
    app, _ = guarded(**GRAY)
    token = token_of(await challenged(app))
    body, _, mac = token.rpartition(".")
    forged = f"{body.replace('c2|', 'c2|9', 1)}.{mac}"
    assert (await answer(app, forged, solve(forged, 8))).status == 403
    counter = solve(token, 8)
    assert (await answer(app, token, counter, client=("198.51.100.4", 1))).status == 403
    other_ua = {**COPIED, "user-agent": COPIED["user-agent"].replace("131", "130")}
    assert (await answer(app, token, counter, headers=other_ua)).status == 403


async def clearance(app: GuardMiddleware) -> str:
    """Solve a challenge; the cookies the browser then holds."""
    token = token_of(await challenged(app))
    return cookies_of(await answer(app, token, solve(token, 8)))


async def test_forged_expired_and_foreign_clearances_are_rejected(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A clearance with a changed signature, used from another network, or past its time
    sends the browser back to the challenge."""
    app, _ = guarded(**GRAY)
    cookie = await clearance(app)
    # Change the signature's last character (to one it is not, or the cookie stays genuine).
    forged = re.sub(
        rf"({CLEARANCE_COOKIE}=[^;]*)(\w)",
        lambda m: m.group(1) + ("B" if m.group(2) == "A" else "A"),
        cookie,
    )
    assert forged != cookie
    for cookies, client in ((forged, HOME), (cookie, ("198.51.100.4", 1))):
        reply = await call_asgi(
            app, "/resume/100008", headers={**COPIED, "cookie": cookies}, client=client
        )
        assert reply.status == 429
    clock.advance(3601)
    expired = await call_asgi(
        app, "/resume/100009", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert expired.status == 429


async def test_rotated_keys_keep_clearances_valid(guarded: GuardedFactory) -> None:
    """A clearance signed with the old secret holds once that secret is listed in
    previous_secrets, and not after it is dropped."""
    old, _ = guarded(**GRAY, secret="old-secret-0123456789")
    cookie = await clearance(old)
    rotated, _ = guarded(
        **GRAY, secret="new-secret-0123456789", previous_secrets=["old-secret-0123456789"]
    )
    reply = await call_asgi(
        rotated, "/resume/100008", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert reply.status == 200
    dropped, _ = guarded(**GRAY, secret="new-secret-0123456789")
    reply = await call_asgi(
        dropped, "/resume/100008", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert reply.status == 429


async def test_clearance_does_not_lift_budgets(guarded: GuardedFactory) -> None:
    """A cleared browser that goes on harvesting still meets its harvest budget."""
    app, _ = guarded(**GRAY, routes={"sensitive": {"budgets": {"ip": ["3/hour"]}}})
    await expose(app, range(100020, 100025))
    cookie = await clearance(app)
    statuses = [
        (
            await call_asgi(
                app, f"/resume/{100020 + n}", headers={**COPIED, "cookie": cookie}, client=HOME
            )
        ).status
        for n in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [403, 403]


def test_difficulty_rises_with_the_score() -> None:
    """One more bit of work per 0.1 of score above gray, at most four."""
    challenges = Challenges.__new__(Challenges)
    challenges.difficulty, challenges.policy = 16, Policy("enforce", Thresholds(gray=0.6))
    assert [challenges.difficulty_for(s) for s in (0.6, 0.75, 0.89, 1.0)] == [16, 17, 18, 20]


def test_work_counts_leading_zero_bits() -> None:
    """Leading zero bits are counted across bytes; a found counter solves its token."""
    assert leading_zero_bits(bytes([0, 0, 0x0F, 0xFF])) == 20
    assert leading_zero_bits(bytes([0x80])) == 0
    counter = solve("token", 10)
    assert solves("token", counter, 10)
    assert not solves("token", -1, 0)


@pytest.mark.parametrize("path", ["//evil.example/", "http://evil.example/", "\\\\evil", ""])
def test_return_paths_never_leave_the_site(path: str) -> None:
    """A return path that is not a plain same-site path becomes '/'."""
    import base64  # noqa: PLC0415

    encoded = base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")
    assert _decode_path(encoded) == "/"


async def test_a_clearance_replayed_from_many_networks_is_revoked(guarded: GuardedFactory) -> None:
    """A clearance cookie presented from three networks is revoked: refused where it was
    copied to, and no longer honoured even on the network that earned it."""
    app, log = guarded(**GRAY)
    cookie = await clearance(app)
    home_ok = await call_asgi(
        app, "/resume/100030", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert home_ok.status == 200
    for network in ("198.51.100.4", "192.0.2.9"):
        await call_asgi(
            app, "/resume/100031", headers={**COPIED, "cookie": cookie}, client=(network, 1)
        )
    again = await call_asgi(
        app, "/resume/100032", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert again.status == 429  # challenged again: the clearance no longer counts
    assert "clearance_replayed" in log.getvalue()


async def test_a_clearance_covers_a_bounded_number_of_records(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A clearance covers clearance_records: a record read costs one, and one nobody showed
    the client costs four; once spent, the gray zone's challenge comes back."""
    app, _ = guarded(**GRAY, clearance_records=8)
    await expose(app, range(100300, 100310))  # shown to others, not to this client
    cookie = await clearance(app)
    served = []
    for record in range(100300, 100310):
        clock.advance(20)
        reply = await call_asgi(
            app, f"/resume/{record}", headers={**COPIED, "cookie": cookie}, client=HOME
        )
        served.append(reply.status)
    # 8 units: 100300 and 100301, which nobody showed the client, cost 4 each.
    assert served[:2] == [200, 200]
    assert served[2] == 429


async def test_a_clearance_earned_during_a_campaign_is_harder_and_smaller(
    guarded: GuardedFactory,
) -> None:
    """During a campaign the challenge asks for CAMPAIGN_BITS more work and its clearance
    covers CAMPAIGN_RECORDS."""
    app, _ = guarded(**GRAY, campaign_floor=1)
    await expose(app, [100007])  # a record no page showed anybody is not opened at all
    await call_asgi(app, "/resume/100001", headers=chrome_headers(), client=("192.0.2.1", 1))
    page = await challenged(app)
    bits = re.search(r"bits = (\d+);", page.text)
    assert bits is not None
    assert int(bits.group(1)) >= 8 + CAMPAIGN_BITS
    body = app.guard.signer.open(token_of(page), purpose="challenge")
    assert body is not None
    assert body.split("|")[5] == str(CAMPAIGN_RECORDS)


async def test_extra_work_never_passes_four_bits_even_in_a_campaign(
    guarded: GuardedFactory,
) -> None:
    """A high score and a campaign together ask for at most MAX_EXTRA_BITS more bits."""
    app, log = guarded(**GRAY, campaign_floor=1)
    await expose(app, [100007])
    await call_asgi(app, "/resume/100001", headers=chrome_headers(), client=("192.0.2.1", 1))
    page = await challenged(app)
    decision = json.loads(log.getvalue().splitlines()[-1])
    assert "campaign" in decision["reasons"]
    assert decision["score"] >= 0.35 + MAX_EXTRA_BITS / 10  # its score alone earns all four
    bits = re.search(r"bits = (\d+);", page.text)
    assert bits is not None
    assert int(bits.group(1)) == 8 + MAX_EXTRA_BITS


class Odd(BaseSignal):
    """A signal of one's own that finds every record read odd (0.7)."""

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        if facts.route.record_id is not None:
            report.add("odd", 0.7)


async def test_a_clearance_is_honoured_without_the_built_in_signals(clock: ManualClock) -> None:
    """With builtin_signals=False a solved challenge still lets the browser through (the
    clearance is checked without the clearance signal)."""
    config = demo_config({"secret": SECRET, "challenge_difficulty": 8})
    app = GuardMiddleware(
        create_demo_app(1000), config, clock=clock, signals=[Odd()], builtin_signals=False
    )
    page = await call_asgi(app, "/resume/100007", headers=COPIED, client=HOME)
    assert page.status == 429
    token = token_of(page)
    cookie = cookies_of(await answer(app, token, solve(token, 8)))
    again = await call_asgi(
        app, "/resume/100007", headers={**COPIED, "cookie": cookie}, client=HOME
    )
    assert again.status == 200


async def test_a_record_nobody_showed_needs_its_whole_cost_left(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """With 6 left, one record nobody showed (4) is covered; a second is not (2 left)."""
    app, _ = guarded(**GRAY, clearance_records=6)
    cookie = await clearance(app)
    served = []
    for record in (100400, 100411):
        clock.advance(20)
        reply = await call_asgi(
            app, f"/resume/{record}", headers={**COPIED, "cookie": cookie}, client=HOME
        )
        served.append(reply.status)
    assert served == [200, 429]
