"""End to end over a real uvicorn on loopback: scrapers are stopped, people are not."""

from __future__ import annotations

import json
import math
import random
import re
import urllib.error
import urllib.request

import httpx
import pytest

from guard.testing import CHROME_UA, ManualClock, chrome_headers, live_server
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.e2e
FIRST_ID = 100000
PHONE = re.compile(r'class="phone"')


def decisions(log: object) -> list[dict[str, object]]:
    """The decision log's lines, parsed."""
    return [json.loads(line) for line in log.getvalue().splitlines()]  # type: ignore[attr-defined]


def _urlopen(url: str) -> tuple[int, str]:
    """GET with urllib, as a naive scraper would; returns status and body, errors included."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_urllib_scraper_gets_fewer_than_20_records(guarded: GuardedFactory) -> None:
    """A full-speed urllib scraper walking sequential ids is refused before 20 records."""
    app, _ = guarded()
    statuses: list[int] = []
    served = 0
    with live_server(app) as base:
        for offset in range(200):
            status, body = _urlopen(f"{base}/resume/{FIRST_ID + offset}")
            statuses.append(status)
            served += status == 200 and bool(PHONE.search(body))
    assert served < 20
    assert set(statuses[served:]) <= {403, 429}


def test_browser_spoofing_scraper_gets_fewer_than_20_records(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """An httpx scraper with a Chrome UA and Chrome's headers, keeping cookies, is stopped."""
    app, log = guarded()
    served = 0
    with live_server(app) as base, httpx.Client(base_url=base, headers=chrome_headers()) as c:
        for offset in range(200):
            clock.advance(0.05)
            response = c.get(f"/resume/{FIRST_ID + offset}")
            served += response.status_code == 200 and bool(PHONE.search(response.text))
    assert served < 20
    reasons = {r for line in decisions(log) for r in line["reasons"]}  # type: ignore[attr-defined]
    assert {"sequential_ids", "no_static_assets"} <= reasons


def test_account_harvesting_from_20_ips_is_stopped_by_its_identity_budget(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """One employer account spread over 20 source IPs, each following the listings (so it
    reads only what it was shown), runs into the per-account budget."""
    app, log = guarded(resumes=2000, model="off")  # the budget's test, not the model's
    rng = random.Random(7)
    served = 0
    with live_server(app) as base:
        login = httpx.post(
            f"{base}/login",
            data={"username": "employer7", "password": "demo-pass"},
            headers=chrome_headers(),
        )
        session = login.cookies["session"]
        clients = [
            httpx.Client(
                base_url=base,
                headers=chrome_headers(),
                cookies={"session": session},
                transport=httpx.HTTPTransport(local_address=f"127.0.0.{10 + n}"),
            )
            for n in range(20)
        ]
        for client in clients:
            client.get("/static/css/site.css", headers=chrome_headers(document=False))
        shown = [
            re.findall(r'href="(/resume/\d+)"', client.get(f"/resumes?page={n + 1}").text)
            for n, client in enumerate(clients)
        ]
        for step in range(400):
            clock.advance(rng.uniform(2.0, 6.0))
            response = clients[step % 20].get(shown[step % 20][step // 20])
            served += response.status_code == 200
        for client in clients:
            client.close()
    assert 90 <= served <= 100  # the identity budget is 100 an hour; nothing else stopped it
    refusals = [line for line in decisions(log) if line["action"] != "allow"]
    assert refusals
    assert all("harvest_budget:identity:hour" in r["reasons"] for r in refusals)  # type: ignore[operator]
    assert len({r["ip"] for r in refusals}) == 20


BROWSER_SESSION_UAS = [
    CHROME_UA,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
]


def _browse_like_a_person(
    client: httpx.Client, clock: ManualClock, rng: random.Random, ua: str
) -> list[int]:
    """Home, listings, search, ~20 resumes; assets on first load; human pauses; each click
    carries the previous page as its Referer."""
    asset = chrome_headers(ua, document=False)
    statuses = []
    previous: list[str] = []

    def visit(path: str) -> str:
        clock.advance(min(rng.lognormvariate(math.log(6.0), 0.8), 120.0))
        referer = str(client.base_url.join(previous[-1])) if previous else None
        page = chrome_headers(ua, referer=referer)
        response = client.get(path, headers=page)
        statuses.append(response.status_code)
        previous.append(path)
        return response.text

    home = visit("/")
    for src in re.findall(r'(?:href|src)="(/static/[^"]+)"', home):
        statuses.append(client.get(src, headers=asset).status_code)
    links: list[str] = []
    for listing in (1, 2, 3):
        links += re.findall(r'href="(/resume/\d+)"', visit(f"/resumes?page={listing}"))
    visit("/search?q=sales")
    for link in rng.sample(links, 20):
        visit(link)
        if rng.random() < 0.2:
            visit(f"/resumes?page={rng.randint(1, 5)}")
    return statuses


def test_people_browsing_are_never_refused(guarded: GuardedFactory, clock: ManualClock) -> None:
    """Browser-like sessions (real headers, assets, cookies, human pauses) are never refused."""
    app, log = guarded()
    rng = random.Random(11)
    statuses: list[int] = []
    with live_server(app) as base:
        for n in range(12):
            ua = BROWSER_SESSION_UAS[n % len(BROWSER_SESSION_UAS)]
            transport = httpx.HTTPTransport(local_address=f"127.0.0.{50 + n % 6}")
            with httpx.Client(base_url=base, transport=transport) as client:
                statuses += _browse_like_a_person(client, clock, rng, ua)
    assert len(statuses) > 12 * 25
    assert set(statuses) == {200}, decisions(log)[:3]
