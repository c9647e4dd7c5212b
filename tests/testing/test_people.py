"""The people generator itself: its browsers send what they claim, its pacing follows its
distributions, and a run against a guarded demo counts what happened to each persona."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from guard import GuardMiddleware
from guard.challenge.page import challenge_page
from guard.challenge.work import solves
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.i18n import text
from guard.testing import live_server
from guard.testing.people import (
    CGNAT_ADDRESS,
    OUTCOMES,
    PERSONAS,
    AcceleratedClock,
    Browser,
    ChromiumUnavailable,
    Dest,
    Visit,
    chromium_brands,
    dwell_seconds,
    pages_per_visit,
    plan_visits,
    read_answer,
    run_chromium_people,
    run_people,
    site_time,
    solve_challenge,
)
from guard.testing.people import chromium as chromium_module
from guard.types import ASGIApp, Receive, Scope, Send

DESTS: tuple[Dest, ...] = ("document", "style", "script", "image")
SEEDS = range(40)


def browsers_of(persona: str) -> list[Browser]:
    """The browsers a persona's visits use over many seeds."""
    return [
        v.browser
        for seed in SEEDS
        for v in plan_visits(len(PERSONAS), seed)
        if v.persona == persona
    ]


def names(headers: list[tuple[str, str]]) -> set[str]:
    """The header names, lower-cased."""
    return {name.lower() for name, _ in headers}


def test_old_browsers_send_neither_fetch_metadata_nor_client_hints() -> None:
    """Chrome 75 and Firefox 78 predate Sec-Fetch-* and sec-ch-ua, on pages and assets alike."""
    for browser in browsers_of("old_browser"):
        assert "Chrome/75." in browser.user_agent or "Firefox/78." in browser.user_agent
        for dest in DESTS:
            sent = names(browser.headers(dest, referer="https://example.test/"))
            assert not {n for n in sent if n.startswith(("sec-fetch-", "sec-ch-ua"))}, browser


def test_firefox_and_safari_send_fetch_metadata_but_no_client_hints() -> None:
    """Firefox and Safari send Sec-Fetch-* and never sec-ch-ua; Safari no Sec-Fetch-User."""
    for persona in ("firefox_desktop", "safari_macos", "safari_ios"):
        for browser in browsers_of(persona):
            navigation = dict(browser.headers("document", site="none"))
            assert navigation["Sec-Fetch-Dest"] == "document"
            assert navigation["Sec-Fetch-Mode"] == "navigate"
            assert not {n for n in navigation if n.startswith("sec-ch-ua")}
            assert ("Sec-Fetch-User" in navigation) == (persona == "firefox_desktop")
            assert ("Firefox/" in browser.user_agent) == (persona == "firefox_desktop")


def test_chrome_client_hints_agree_with_its_user_agent() -> None:
    """Chrome's sec-ch-ua names its UA's major version, mobile and platform, on every fetch."""
    for persona in ("chrome_desktop", "chrome_android"):
        for browser in browsers_of(persona):
            major = int(browser.user_agent.split("Chrome/")[1].split(".")[0])
            for dest in DESTS:
                sent = dict(browser.headers(dest))
                assert f'v="{major}"' in sent["sec-ch-ua"]
                assert sent["sec-ch-ua-mobile"] == (
                    "?1" if "Mobile" in browser.user_agent else "?0"
                )
                assert (sent["sec-ch-ua-platform"] == '"Android"') == (persona == "chrome_android")


def test_chromium_brands_follow_chromium_grease_rule() -> None:
    """The brand lists of Chrome 130 to 132 are the ones those versions are known to send."""
    assert (
        chromium_brands(130) == '"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"'
    )
    assert (
        chromium_brands(131) == '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"'
    )
    assert (
        chromium_brands(132) == '"Not A(Brand";v="8", "Chromium";v="132", "Google Chrome";v="132"'
    )


def test_a_privacy_proxy_strips_fetch_metadata_and_client_hints() -> None:
    """Behind a stripping proxy a current browser arrives with neither, and often no Referer."""
    proxied = browsers_of("privacy_proxy")
    kept = 0
    for browser in proxied:
        sent = browser.headers("document", referer="https://example.test/a")
        assert not {n for n in names(sent) if n.startswith(("sec-fetch-", "sec-ch-ua"))}
        kept += "referer" in names(sent)
    assert 0 < kept < len(proxied)


def test_subresources_say_what_they_are() -> None:
    """Assets are no-cors fetches of a style, script or image with their own Accept."""
    browser = plan_visits(1, 1, ["chrome_desktop"])[0].browser
    style, image = (dict(browser.headers(d)) for d in ("style", "image"))
    assert (style["Sec-Fetch-Dest"], style["Sec-Fetch-Mode"]) == ("style", "no-cors")
    assert style["Accept"].startswith("text/css")
    assert image["Sec-Fetch-Dest"] == "image"
    assert image["Accept"].startswith("image/")
    assert "Upgrade-Insecure-Requests" not in style


def test_dwell_times_are_at_least_a_second_with_a_heavy_tail() -> None:
    """Weibull dwell with shape below 1: never under 1 s, and a tail far beyond the median."""
    rng = random.Random(5)
    samples = sorted(dwell_seconds(rng, "record") for _ in range(5000))
    assert samples[0] >= 1.0
    median, p99 = samples[2500], samples[4950]
    assert 10 < median < 60
    assert p99 > 6 * median
    assert samples[-1] > 300


def test_pages_per_visit_has_bounces_and_long_visits() -> None:
    """About a third of visits see one page; the mean is a few pages; a few go long."""
    rng = random.Random(8)
    pages = [pages_per_visit(rng) for _ in range(5000)]
    assert 0.25 < pages.count(1) / len(pages) < 0.45
    assert 2.5 < statistics.mean(pages) < 4.5
    assert max(pages) >= 20


def test_plans_are_deterministic_and_bring_every_persona() -> None:
    """The same seed gives the same visits; each persona comes; only CGNAT shares addresses."""
    first, again = plan_visits(30, 11), plan_visits(30, 11)
    assert first == again
    assert {v.persona for v in first} == set(PERSONAS)
    networks: dict[str, set[str]] = defaultdict(set)
    for visit in first:
        networks[visit.address.rsplit(".", 1)[0]].add(visit.persona)
    shared = [personas for personas in networks.values() if len(personas) > 1]
    assert not shared
    assert all(v.address == CGNAT_ADDRESS for v in first if v.persona == "cgnat")
    with pytest.raises(ValueError, match="unknown"):
        plan_visits(3, 1, ["bot"])


def test_challenge_pages_are_told_apart_from_refusals_and_solved() -> None:
    """A challenge page is recognised and solved by the rule of the guard's own check."""
    page = challenge_page("tok.en-1", 10, "zh-CN", "ABCD-EFGH")
    assert read_answer(429, page) == "challenge"
    token, counter = solve_challenge(page)
    assert token == "tok.en-1"
    assert solves(token, counter, 10)
    gate = f"<title>{text('zh-CN', 'refusal.challenge.title')}</title>"
    assert read_answer(429, gate) == "gate"
    assert read_answer(429, "<title>Too many requests</title>") == "throttle"
    assert read_answer(403, "<title>Access denied</title>") == "block"
    assert read_answer(404, "not here") == "ok"
    assert read_answer(503, "") == "error"


def test_accelerated_clock_runs_speed_times_faster() -> None:
    """Guard time is the start plus the wall time elapsed times the speed."""
    wall = [100.0]
    clock = AcceleratedClock(1_000.0, 10.0, monotonic=lambda: wall[0])
    assert clock() == 1_000.0
    wall[0] += 3.0
    assert clock() == 1_030.0
    with pytest.raises(ValueError, match="speed"):
        AcceleratedClock(0.0, 0.0)


def test_site_time_is_the_site_local_hour() -> None:
    """3 a.m. at a site eight hours ahead of UTC is 19:00 UTC the day before."""
    moment = datetime.fromtimestamp(site_time(3, utc_offset_hours=8, day="2026-03-11"), UTC)
    assert (moment.day, moment.hour) == (10, 19)


def test_people_visit_only_loopback() -> None:
    """A base URL off loopback is refused before any request."""
    with pytest.raises(ValueError, match="loopback"):
        run_people("http://192.0.2.1:8000", sessions=1, seed=1)


def test_a_missing_chromium_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without chromium, the browser run raises ChromiumUnavailable for the caller to catch."""
    monkeypatch.setattr("guard.testing.people.chromium.shutil.which", lambda _name: None)
    monkeypatch.setattr(chromium_module, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(ChromiumUnavailable):
        run_chromium_people("http://127.0.0.1:1", sessions=1, seed=1)


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    target: str
    headers: dict[str, str]


class Recorder:
    """An ASGI wrapper that notes every request by source address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.by_address: dict[str, list[Seen]] = defaultdict(list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope["query_string"].decode()
            target = scope["path"] + (f"?{query}" if query else "")
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.by_address[scope["client"][0]].append(Seen(scope["method"], target, headers))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def recorded() -> tuple[list[Visit], Recorder, dict[str, dict[str, int]]]:
    """22 people (every persona) browsing the bare demo at speed 200, as the server saw them."""
    recorder = Recorder(create_demo_app(1000))
    with live_server(recorder) as base:
        table = run_people(base, sessions=22, seed=3, speed=200, deadline=20)
    return plan_visits(22, 3), recorder, table


def _own(recorder: Recorder, visit: Visit) -> list[Seen]:
    return recorder.by_address[visit.address]


@pytest.mark.e2e
def test_recorded_people_send_what_their_browsers_claim(
    recorded: tuple[list[Visit], Recorder, dict[str, dict[str, int]]],
) -> None:
    """On the wire: old browsers and proxied ones carry no fetch metadata or hints, Firefox
    and Safari no hints, Chrome both; every person loads the stylesheet of what it saw."""
    visits, recorder, _ = recorded
    for visit in visits:
        if visit.persona == "cgnat":
            continue
        seen = _own(recorder, visit)
        assert seen, visit.persona
        sent = {name for request in seen for name in request.headers}
        fetch = any(n.startswith("sec-fetch-") for n in sent)
        hints = any(n.startswith("sec-ch-ua") for n in sent)
        expected = {
            "old_browser": (False, False),
            "privacy_proxy": (False, False),
            "firefox_desktop": (True, False),
            "safari_macos": (True, False),
            "safari_ios": (True, False),
            "chrome_desktop": (True, True),
            "chrome_android": (True, True),
        }
        assert expected.get(visit.persona, (fetch, hints)) == (fetch, hints), visit
        assert any(r.target == "/static/css/site.css" for r in seen), visit.persona
        assert {r.headers["user-agent"] for r in seen} == {visit.browser.user_agent}


@pytest.mark.e2e
def test_recorded_clicks_carry_a_same_site_referer(
    recorded: tuple[list[Visit], Recorder, dict[str, dict[str, int]]],
) -> None:
    """A same-origin navigation names the page it came from on the same site."""
    visits, recorder, _ = recorded
    clicks = 0
    for visit in visits:
        for request in _own(recorder, visit):
            headers = request.headers
            if headers.get("sec-fetch-site") == "same-origin" and headers.get("sec-fetch-dest") in {
                "document",
                "style",
            }:
                clicks += 1
                host = headers["host"]
                assert headers["referer"].startswith(f"http://{host}/"), request
    assert clicks > 10


@pytest.mark.e2e
def test_recorded_landings_look_like_their_sources(
    recorded: tuple[list[Visit], Recorder, dict[str, dict[str, int]]],
) -> None:
    """A chat link opens a record with no Referer; a search lander comes from the engine; the
    CGNAT persons share one address; a recruiter signs in and then carries the session."""
    visits, recorder, _ = recorded
    by_persona: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_persona[visit.persona].append(visit)
    for visit in by_persona["chat_link"]:
        first = _own(recorder, visit)[0]
        assert first.target.startswith("/resume/")
        assert "referer" not in first.headers
        assert first.headers.get("sec-fetch-site", "none") == "none"
    for visit in by_persona["search_lander"]:
        first = _own(recorder, visit)[0]
        assert first.headers["referer"] == visit.entry_referer
        assert first.headers["sec-fetch-site"] == "cross-site"
    agents = {r.headers["user-agent"] for r in recorder.by_address[CGNAT_ADDRESS]}
    assert agents == {v.browser.user_agent for v in by_persona["cgnat"]}
    for visit in by_persona["recruiter"]:
        seen = _own(recorder, visit)
        login = next(i for i, r in enumerate(seen) if r.method == "POST")
        assert seen[login].target == "/login"
        assert all("session=" in r.headers.get("cookie", "") for r in seen[login + 1 :])


@pytest.mark.e2e
def test_recorded_run_counts_every_person_served(
    recorded: tuple[list[Visit], Recorder, dict[str, dict[str, int]]],
) -> None:
    """Unguarded, every person is served, and the records and pages add up."""
    _, _, table = recorded
    assert set(table) == set(PERSONAS)
    assert sum(row["sessions"] for row in table.values()) == 22
    assert all(row["served"] == row["sessions"] for row in table.values())
    assert table["recruiter"]["records"] >= 8


@pytest.mark.e2e
def test_a_small_run_against_the_guarded_demo_is_well_formed() -> None:
    """Ten people at speed 100 against the guarded demo, cut off after 10 s (the recruiter
    would read on): every persona row has every count, non-negative integers that add up."""
    clock = AcceleratedClock(site_time(14), 100)
    config = demo_config({"secret": "test-secret-0123456789abcdef"})
    app = GuardMiddleware(create_demo_app(2000), config, clock=clock)
    with live_server(app) as base:
        table = run_people(base, sessions=10, seed=7, speed=100, deadline=10)
    assert table
    assert sum(row["sessions"] for row in table.values()) > 0
    for row in table.values():
        assert tuple(row) == OUTCOMES
        assert all(isinstance(value, int) and value >= 0 for value in row.values())
        for outcome in ("served", "challenged", "blocked", "throttled", "errors"):
            assert row[outcome] <= row["sessions"]
        refused = max(row[o] for o in ("challenged", "blocked", "throttled", "errors"))
        assert row["served"] + refused <= row["sessions"]
