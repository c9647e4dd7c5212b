"""The dashboard in Debian's Chromium: sign in through the form, read the page, on a desktop
and on a phone-sized screen, with a screenshot (written to ``$GUARD_SCREENSHOTS`` when set:
``GUARD_SCREENSHOTS=docs/img`` refreshes the README's)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from guard.testing import ManualClock, chrome_headers, live_server
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.e2e
TOKEN = "browser-dashboard-token-0123"

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.mark.parametrize("size", [(1000, 900), (390, 844)])
def test_sign_in_and_read_the_dashboard(
    guarded: GuardedFactory,
    clock: ManualClock,
    browser: Browser,
    tmp_path: Path,
    size: tuple[int, int],
) -> None:
    """The form takes the token; the dashboard shows the policy, a refusal with its
    incident id and the charts; nothing runs off the side of a phone's screen."""
    width, height = size
    proxied = {"trusted_proxies": ["127.0.0.1/32"], "client_ip_header": "x-forwarded-for"}
    app, _ = guarded(admin_token=TOKEN, **proxied)
    with live_server(app) as base:
        traffic(base, clock)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{base}/guard/")
        page.fill("input[name=token]", TOKEN)
        page.click("button")
        page.wait_for_selector("text=Live policy")
        assert "mode enforce" in page.inner_text("body")
        assert page.locator("svg").count() == 2
        assert "automation:python-requests" in page.inner_text("table")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        shot = Path(os.environ.get("GUARD_SCREENSHOTS") or tmp_path) / f"dashboard-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        page.close()


def traffic(base: str, clock: ManualClock) -> None:
    """Twenty minutes of a small site: people reading listings and records, a script on
    records, and a browser-looking client walking ids in order."""
    scripts = {"user-agent": "python-requests/2.32.3"}
    with httpx.Client(base_url=base) as client:
        for minute in range(20):
            for person in range(6):
                peer = {"x-forwarded-for": f"198.51.100.{minute * 6 + person}"}
                listing = client.get("/resumes", headers={**chrome_headers(), **peer}).text
                shown = re.findall(r'href="(/resume/[0-9]+)"', listing)[person]
                after = {**chrome_headers(), **peer, "sec-fetch-site": "same-origin"}
                client.get(shown, headers={**after, "referer": f"{base}/resumes"})
            client.get(f"/resume/{100000 + minute}", headers=scripts)
            if minute > 12:
                walker = {**chrome_headers(), "sec-fetch-site": "same-origin"}
                client.get(f"/resume/{100100 + minute}", headers=walker)
            clock.advance(60)
