"""In a real headless Chromium (Debian's, driven by Playwright): the challenge is solved, and
people browsing normally never meet it."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
import pytest

from guard.testing import ManualClock, live_server
from tests.conftest import GuardedFactory, expose

pytestmark = pytest.mark.e2e

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def person(browser: Browser) -> Page:
    """A page whose user agent is the one this Chromium sends when not headless ("Chrome/"
    instead of "HeadlessChrome/", which the guard rightly refuses on records)."""
    major = browser.version.split(".")[0]
    agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )
    return browser.new_page(user_agent=agent)


def test_a_challenged_browser_solves_it_and_reaches_the_resume(
    guarded: GuardedFactory, browser: Browser
) -> None:
    """During a campaign (forced here by a campaign floor of one new record reader a
    minute), a browser landing on a resume someone was shown gets the challenge, made
    harder for the campaign, solves it with Web Crypto, and lands on the resume it asked
    for, query kept, with its CSS, JS and images loaded."""
    app, _ = guarded(model="off", campaign_floor=1, challenge_difficulty=14)
    # A listing showed it to someone (not to this browser). Playwright's loop owns this
    # thread, so the store is written from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, expose(app, [100005])).result()
    with live_server(app) as base:
        httpx.get(f"{base}/resume/100001")  # another new reader starts the campaign
        page = person(browser)
        statuses: dict[str, int] = {}
        page.on("response", lambda r: statuses.__setitem__(r.url.removeprefix(base), r.status))
        start = time.perf_counter()
        first = page.goto(f"{base}/resume/100005?tab=contact")
        assert first is not None
        assert first.status == 429
        page.wait_for_selector("[data-resume-id='100005']", timeout=60_000)
        seconds = time.perf_counter() - start
        assert page.url == f"{base}/resume/100005?tab=contact"
        assert page.locator(".phone").count() == 1
        page.wait_for_load_state("load")
        assets = {path: s for path, s in statuses.items() if path.startswith("/static/")}
        assert assets
        assert set(assets.values()) <= {200, 304}
        assert app.guard.challenges.stats.passed == 1
        print(f"challenge solved and resume shown in {seconds:.2f} s")
        page.close()


def test_a_person_browsing_normally_is_never_challenged(
    guarded: GuardedFactory, browser: Browser, clock: ManualClock
) -> None:
    """Home, the listing, three resumes (back to the listing between them) and the jobs page,
    reading each for a few seconds on the guard's clock: no challenge, no refusal."""
    app, _ = guarded(model="shipped")
    with live_server(app) as base:
        page = person(browser)
        statuses: list[int] = []
        page.on("response", lambda r: statuses.append(r.status))
        page.goto(f"{base}/")
        clock.advance(6)  # a person reads a little
        page.click("text=Browse resumes")
        for n in range(3):
            clock.advance(9)
            page.locator("li.resume-card a").nth(n).click()
            page.wait_for_selector("[data-resume-id]")
            clock.advance(20)
            page.go_back()
        clock.advance(5)
        page.goto(f"{base}/jobs")
        page.close()
    assert statuses
    assert all(status < 400 for status in statuses), statuses
    assert app.guard.challenges.stats.issued == 0
