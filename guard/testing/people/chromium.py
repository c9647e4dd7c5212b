"""People in a real browser: Debian's chromium driven by Playwright, on a private Xvfb."""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from guard.testing.people.answers import VERIFY_PATH
from guard.testing.people.pacing import KEYSTROKE, QUERIES, dwell_seconds

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request, Response

CHROMIUM = "/usr/bin/chromium"


class ChromiumUnavailable(RuntimeError):
    """Playwright or Debian's chromium is not installed here."""


@contextlib.contextmanager
def _virtual_display() -> Iterator[str | None]:
    """An X display on a private Xvfb (ended on exit), or None when there is no Xvfb."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        yield None
        return
    reader, writer = os.pipe()
    server = subprocess.Popen(  # noqa: S603 - our own argv, no shell
        [xvfb, "-displayfd", str(writer), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(writer,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(writer)
    try:
        number = b""
        while not number.endswith(b"\n") and select.select([reader], [], [], 10)[0]:
            chunk = os.read(reader, 16)
            if not chunk:
                break
            number += chunk
        yield f":{number.decode().strip()}" if number.strip() else None
    finally:
        os.close(reader)
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=5)


_PACES = (("brisk", 0.5), ("steady", 1.0), ("slow", 2.0))


def run_chromium_people(
    base: str, *, sessions: int, seed: int, speed: float = 1.0, deadline: float = 110.0
) -> dict[str, int]:
    """Browse ``base`` in Debian's chromium driven by Playwright: each session a fresh
    profile at its own pace (brisk, steady, slow), clicking through listings, searches and
    records like a person. Headful on a private Xvfb when there is one, else headless with a
    non-headless user agent. All sessions come from 127.0.0.1 (a browser cannot choose its
    source address).

    Args:
        base: the site's URL on loopback.
        sessions: how many people, one after another.
        seed: the same seed gives the same choices.
        speed: the guard clock's speed (:class:`~guard.testing.people.AcceleratedClock`).
        deadline: wall seconds the run may take.

    Returns:
        ``sessions``, ``served`` (no challenge, no refusal), ``challenged`` (a challenge was
        solved), ``refused`` (a 403, or a 429 not followed by a solution), ``records``
        (records shown with the phone) and ``pages`` (pages navigated to).

    Raises:
        ChromiumUnavailable: Playwright or chromium is missing, or chromium does not start.
    """
    try:
        from playwright.sync_api import Error, sync_playwright  # noqa: PLC0415 - optional
    except ImportError as exc:
        raise ChromiumUnavailable("the playwright package is not installed") from exc
    executable = shutil.which("chromium") or CHROMIUM
    if not os.path.exists(executable):
        raise ChromiumUnavailable("Debian's chromium is not installed (apt-get install chromium)")
    totals = dict.fromkeys(("sessions", "served", "challenged", "refused", "records", "pages"), 0)
    stop_at = time.monotonic() + deadline
    with _virtual_display() as display, sync_playwright() as driver:
        env: dict[str, str | float | bool] = dict(os.environ)
        if display is not None:
            env["DISPLAY"] = display
        try:
            browser = driver.chromium.launch(
                executable_path=executable, headless=display is None, args=["--no-sandbox"], env=env
            )
        except Error as exc:
            raise ChromiumUnavailable(f"chromium did not start: {exc}") from exc
        major = browser.version.split(".")[0]
        agent = None
        if display is None:  # headless says "HeadlessChrome": wear what a person's says
            agent = (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                f"Chrome/{major}.0.0.0 Safari/537.36"
            )
        try:
            for index in range(sessions):
                if time.monotonic() >= stop_at:
                    break
                rng = random.Random(f"chromium:{seed}:{index}")  # noqa: S311
                locale = rng.choice(("zh-CN", "en-US"))
                context = browser.new_context(user_agent=agent, locale=locale)
                try:
                    tally = _ChromiumPerson(
                        context.new_page(), base, rng, _PACES[index % 3][1] / speed, stop_at
                    ).run()
                finally:
                    context.close()
                for name, value in tally.items():
                    totals[name] += value
        finally:
            browser.close()
    return totals


class _ChromiumPerson:
    """One person in a real browser: the page's events tell what the guard answered."""

    def __init__(
        self, page: Page, base: str, rng: random.Random, scale: float, stop_at: float
    ) -> None:
        self.page, self.base, self.rng = page, base.rstrip("/"), rng
        self.scale, self.stop_at = scale, stop_at
        self.statuses: list[int] = []
        self.solved = 0
        self.records = 0
        page.on("response", self._response)
        page.on("request", self._request)

    def _response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.statuses.append(response.status)

    def _request(self, request: Request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == VERIFY_PATH:
            self.solved += 1

    def _pause(self, kind: str) -> None:
        """Read for a Weibull dwell, scaled by pace and clock speed, within the deadline."""
        wall = dwell_seconds(self.rng, kind) * self.scale
        time.sleep(max(min(wall, self.stop_at - time.monotonic()), 0.0))

    def _settle(self) -> None:
        """Wait until the page shown is not the challenge (its script solves it and goes on)."""
        from playwright.sync_api import Error  # noqa: PLC0415 - optional dependency

        limit = min(time.monotonic() + 60, self.stop_at)
        while time.monotonic() < limit:
            with contextlib.suppress(Error):
                self.page.wait_for_load_state("load", timeout=30_000)
                if self.page.locator("#guard-challenge").count() == 0:
                    break
            time.sleep(0.2)

    def _look(self) -> None:
        self._settle()
        if urlsplit(self.page.url).path.startswith("/resume/"):
            self.records += self.page.locator(".phone").count() > 0

    def run(self) -> dict[str, int]:
        from playwright.sync_api import Error  # noqa: PLC0415 - optional dependency

        page = self.page
        with contextlib.suppress(Error):
            page.goto(f"{self.base}/")
            self._look()
            self._pause("home")
            page.click("a.button[href='/resumes']")
            self._look()
            for _ in range(self.rng.randint(2, 4)):
                if (
                    time.monotonic() >= self.stop_at
                    or page.locator("li.resume-card a").count() == 0
                ):
                    break
                self._pause("listing")
                for _ in range(self.rng.randint(1, 3)):
                    cards = page.locator("li.resume-card a")
                    cards.nth(self.rng.randrange(max(cards.count(), 1))).click()
                    self._look()
                    self._pause("record")
                    page.go_back()
                    self._look()
                if self.rng.random() < 0.6 and page.locator("a[rel=next]").count():
                    page.click("a[rel=next]")
                else:
                    box = page.locator("form.search input[name=q]")
                    query = self.rng.choice(QUERIES)
                    box.press_sequentially(query, delay=KEYSTROKE * 1000 * self.scale)
                    box.press("Enter")
                self._look()
        refused = 403 in self.statuses or self.statuses.count(429) > self.solved
        return {
            "sessions": 1,
            "served": int(not (refused or self.solved)),
            "challenged": int(self.solved > 0),
            "refused": int(refused),
            "records": self.records,
            "pages": len(self.statuses),
        }
