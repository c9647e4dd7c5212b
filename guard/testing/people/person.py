"""One person's visit, played over a real HTTP connection from the visit's own address.

A person keeps cookies, caches assets like a browser, solves a challenge page as the page's
script would, waits and reloads once after a refusal, and leaves when refused again.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx

from guard.testing.people.answers import VERIFY_PATH, Answer, read_answer, solve_challenge
from guard.testing.people.headers import Dest, FetchSite
from guard.testing.people.pacing import KEYSTROKE, MIN_DWELL, QUERIES, THINK, dwell_seconds
from guard.testing.people.pages import Links, Page
from guard.testing.people.visits import Visit


@dataclass
class Outcome:
    """What happened to one person: refusals met, records read, pages seen, requests made."""

    persona: str
    challenged: bool = False
    blocked: bool = False
    throttled: bool = False
    errors: bool = False
    records: set[str] = field(default_factory=set)
    pages: int = 0
    requests: int = 0


class _OutOfTime(Exception):
    """The run's deadline passed."""


class _Leave(Exception):
    """The person gives up (refused twice in a row)."""


class Person:
    """One visit, played over a real connection from the visit's own address."""

    def __init__(
        self, visit: Visit, base: str, speed: float, stop_at: float, pace: float = 1.0
    ) -> None:
        self.visit = visit
        self.pace = pace
        self.browser = visit.browser
        self.base = base.rstrip("/")
        self.origin = self.base
        self.speed = speed
        self.stop_at = stop_at
        self.rng = random.Random(f"person:{visit.seed}")  # noqa: S311 - simulated choices
        self.outcome = Outcome(visit.persona)
        self.cache: dict[str, float] = {}  # asset URL -> the person's time it goes stale
        self.started = time.monotonic()
        transport = httpx.HTTPTransport(local_address=visit.address, retries=0)
        self.client = httpx.Client(transport=transport, timeout=30.0, follow_redirects=False)

    def run(self) -> Outcome:
        try:
            if self.visit.persona == "recruiter":
                self._recruit()
            else:
                self._browse()
        except (_OutOfTime, _Leave):
            pass
        except httpx.HTTPError:
            self.outcome.errors = True
        finally:
            self.client.close()
        return self.outcome

    # time

    def _elapsed(self) -> float:
        """The person's own time since the visit began, in guard seconds."""
        return (time.monotonic() - self.started) * self.speed

    def _pause(self, seconds: float) -> None:
        """Spend ``seconds`` of guard time (``seconds / speed`` of wall time)."""
        wall = seconds / self.speed
        left = self.stop_at - time.monotonic()
        if left <= 0:
            raise _OutOfTime
        time.sleep(min(wall, left))
        if wall > left:
            raise _OutOfTime

    def _read(self, page: Page, kind: str | None = None) -> None:
        self._pause(max(dwell_seconds(self.rng, kind or page.kind) * self.pace, MIN_DWELL))

    # the wire

    def _cookie(self, url: str) -> str | None:
        probe = httpx.Request("GET", url)
        self.client.cookies.set_cookie_header(probe)
        cookie: str | None = probe.headers.get("cookie")
        return cookie

    def _send(
        self,
        method: str,
        url: str,
        dest: Dest,
        body: bytes = b"",
        *,
        site: FetchSite = "same-origin",
        referer: str | None = None,
        user: bool = True,
        reload: bool = False,
    ) -> httpx.Response:
        if time.monotonic() >= self.stop_at:
            raise _OutOfTime
        headers = self.browser.headers(
            dest,
            site=site,
            referer=referer,
            user=user,
            cookie=self._cookie(url),
            form=(self.origin, len(body)) if method == "POST" else None,
            reload=reload,
        )
        self.outcome.requests += 1
        return self.client.send(httpx.Request(method, url, headers=headers, content=body or None))

    def _note(self, answer: Answer) -> None:
        outcome = self.outcome
        if answer in {"challenge", "gate"}:
            outcome.challenged = True
        elif answer == "block":
            outcome.blocked = True
        elif answer == "throttle":
            outcome.throttled = True
        elif answer == "error":
            outcome.errors = True

    def _document(
        self,
        path: str,
        *,
        site: FetchSite = "same-origin",
        referer: str | None = None,
        user: bool = True,
        method: str = "GET",
        body: bytes = b"",
        reload: bool = False,
    ) -> tuple[httpx.Response, str]:
        """Navigate to ``path``, following redirects as a browser does; the last response
        and its URL."""
        url = self.base + path
        response = self._send(
            method, url, "document", body, site=site, referer=referer, user=user, reload=reload
        )
        for _ in range(5):
            location = response.headers.get("location")
            if response.status_code not in {301, 302, 303, 307, 308} or location is None:
                break
            url = location if location.startswith("http") else self.base + location
            same = urlsplit(url).netloc == urlsplit(self.base).netloc
            response = self._send(
                "GET", url, "document", site="same-origin" if same else "cross-site",
                referer=referer, user=user,
            )  # fmt: skip
        return response, url

    def _open(
        self,
        path: str,
        *,
        site: FetchSite = "same-origin",
        referer: str | None = None,
        method: str = "GET",
        body: bytes = b"",
    ) -> Page:
        """Navigate like a person: solve a challenge page; after a refusal wait and reload
        once; leave when refused again. The page seen, with its assets loaded."""
        for attempt in range(2):
            response, url = self._document(
                path, site=site, referer=referer, method=method, body=body, reload=attempt > 0
            )
            answer = read_answer(response.status_code, response.text)
            if answer == "challenge":
                self._note(answer)
                response, url = self._solve(response.text, url)
                answer = read_answer(response.status_code, response.text)
            self._note(answer)
            if answer == "ok":
                return self._seen(response, url)
            if answer == "error" or attempt:
                raise _Leave
            retry = response.headers.get("retry-after", "")
            wait = float(retry) if retry.isdigit() else self.rng.uniform(5, 20)
            if wait > 120:
                raise _Leave  # nobody waits that long
            self._pause(wait + self.rng.uniform(1, 6))  # then reload (or send the form again)
        raise _Leave

    def _solve(self, page: str, url: str) -> tuple[httpx.Response, str]:
        """What the challenge page's script does: work, then post the answer; the form's
        redirect is followed back to the page asked for."""
        token, counter = solve_challenge(page)
        self._pause(self.rng.uniform(0.4, 1.5))  # the page renders, the script runs
        body = urlencode({"token": token, "counter": str(counter)}).encode()
        return self._document(VERIFY_PATH, referer=url, user=False, method="POST", body=body)

    def _seen(self, response: httpx.Response, url: str) -> Page:
        text = response.text
        parser = Links()
        parser.feed(text)
        path = url.removeprefix(self.base) or "/"
        page = Page(url, path, parser.links)
        self.outcome.pages += 1
        if page.kind == "record" and response.status_code == 200 and 'class="phone"' in text:
            self.outcome.records.add(path.split("?")[0])
        self._assets([*parser.assets, *((icon, "image") for icon in parser.icons)], url)
        return page

    def _assets(self, assets: Sequence[tuple[str, Dest]], page_url: str) -> None:
        """Load what the page needs that the cache does not hold fresh (one favicon)."""
        for href, dest in assets:
            url = href if href.startswith("http") else self.base + href
            if self.cache.get(url, -1.0) > self._elapsed():
                continue
            response = self._send("GET", url, dest, site="same-origin", referer=page_url)
            answer = read_answer(response.status_code, response.text)
            self._note(answer)
            age = re.search(r"max-age=([0-9]+)", response.headers.get("cache-control", ""))
            if answer == "ok" and age is not None:
                self.cache[url] = self._elapsed() + int(age.group(1))

    # behaviour

    def _browse(self) -> None:
        visit = self.visit
        page = self._open(visit.entry, site=visit.entry_site, referer=visit.entry_referer)
        if visit.persona == "chat_link" and not visit.browse_on:
            self._read(page)
            return
        trail = [page]
        for _ in range(visit.pages - 1):
            self._read(page)
            page = self._next(trail)
            trail.append(page)

    def _next(self, trail: list[Page]) -> Page:
        """The next page: back (from the browser's cache, no request) to the list the person
        came from and on to another record there, or a link on this page."""
        page, rng = trail[-1], self.rng
        if page.kind == "record":
            lists = [p for p in trail if p.kind in {"listing", "search", "home"} and p.records()]
            if lists and rng.random() < 0.65:
                origin = lists[-1]
                self._pause(rng.uniform(1.0, 3.0))  # back, then down the list again
                return self._open(self._unread(origin), referer=origin.url)
        pager = [link for link in page.links if link.startswith("/resumes?page=")]
        weights = {
            "record": 0.55 if page.records() else 0.0,
            "pager": 0.20 if pager else 0.0,
            "/resumes": 0.02 if page.kind == "listing" else 0.15,
            "search": 0.12,
            "/jobs": 0.0 if page.kind == "jobs" else 0.06,
            "/": 0.0 if page.kind == "home" else 0.04,
        }
        target = rng.choices(list(weights), weights=list(weights.values()))[0]
        if target == "record":
            target = self._unread(page)
        elif target == "pager":
            target = rng.choice(pager)
        elif target == "search":
            query = rng.choice(QUERIES)
            self._pause(THINK + KEYSTROKE * len(query))
            target = "/search?" + urlencode({"q": query})
        return self._open(target, referer=page.url)

    def _unread(self, page: Page) -> str:
        records = page.records()
        fresh = [r for r in records if r.split("?")[0] not in self.outcome.records]
        return self.rng.choice(fresh or records)

    def _recruit(self) -> None:
        """Sign in, then work through listings and searches opening candidates."""
        visit = self.visit
        home = self._open("/", site="none")
        self._read(home, "home")
        login = self._open("/login", referer=home.url)
        typing = KEYSTROKE * (len(visit.account or "") + 9) + 2 * THINK
        self._pause(typing if self.rng.random() < 0.6 else self.rng.uniform(1.5, 3.0))
        form = urlencode({"username": visit.account or "", "password": "demo-pass"}).encode()
        listing = self._open("/login", referer=login.url, method="POST", body=form)
        number, idle = 1, 0
        while len(self.outcome.records) < visit.pages and idle < 3:
            self._read(listing, "listing")
            unread = [r for r in dict.fromkeys(listing.records()) if r not in self.outcome.records]
            idle = 0 if unread else idle + 1
            for record in self.rng.sample(unread, min(len(unread), self.rng.randint(2, 8))):
                page = self._open(record, referer=listing.url)
                self._read(page, "close" if self.rng.random() < 0.2 else "skim")
                self._pause(self.rng.uniform(1.0, 2.5))  # back to the list
                if len(self.outcome.records) >= visit.pages:
                    return
            if self.rng.random() < 0.7:
                number += 1
                listing = self._open(f"/resumes?page={number}", referer=listing.url)
            else:
                query = self.rng.choice(QUERIES)
                self._pause(THINK + KEYSTROKE * len(query))
                listing = self._open("/search?" + urlencode({"q": query}), referer=listing.url)
