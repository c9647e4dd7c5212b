"""The simulated site and its visitors: what a client requests, with which cookies, and when.

:class:`Site` answers what the unguarded demo site would (status, which resumes a listing
or a search shows). :class:`Visitor` is one client program at one address: it keeps
cookies (by the simulator's convention, ``__guard=kept`` after its first page, which the
dataset builder swaps for a signed token) and, if it is a browser, loads a page's assets
through an HTTP cache that honours the demo's one-hour ``max-age``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qs

from guard.demo.draws import FIRST_RESUME_ID
from guard.learn.browsers import SITE_URL, Device, Fetch, FetchKind
from guard.learn.events import Event
from guard.learn.records import Records
from guard.learn.spec import SimulationSpec

DEMO_SEED = 58
"""The data seed of ``create_demo_app``'s default site: listings show its resumes."""
PAGE_SIZE = 20
HOME_NEWEST = 5
"""The demo's home page links to its five newest resumes."""
ASSET_MAX_AGE = 3600.0
"""The demo's ``Cache-Control: max-age`` for static files."""

Asset = tuple[str, FetchKind]
PAGE_ASSETS: tuple[Asset, ...] = (
    ("/static/css/site.css", "style"),
    ("/static/js/site.js", "script"),
    ("/static/img/logo.svg", "image"),
    ("/static/img/favicon.svg", "image"),
)
"""What every page of the demo loads, in the order a browser requests it."""
RESUME_ASSETS = (*PAGE_ASSETS[:3], ("/static/img/avatar.svg", "image"), PAGE_ASSETS[3])
"""A resume page also shows the avatar."""

_PAGES = frozenset({"/", "/jobs", "/search", "/robots.txt", "/login", "/resumes/all"})
_STATIC = frozenset(path for path, _ in RESUME_ASSETS)
_RECORD = re.compile(r"/(?:resume|api/resumes)/([0-9]{1,9})")
_LISTING_PAGE = re.compile(r"page=([0-9]{1,9})")


class Site:
    """The unguarded demo site with ``resumes`` records, as far as its answers go."""

    def __init__(self, resumes: int) -> None:
        self.resumes = resumes
        self.pages = max(1, math.ceil(resumes / PAGE_SIZE))
        self._store: Records | None = None
        self._listed: dict[int, list[int]] = {}
        self._found: dict[str, list[int]] = {}

    @property
    def store(self) -> Records:
        """The demo's records, built on first use (ordering them takes a moment)."""
        if self._store is None:
            self._store = Records(self.resumes, DEMO_SEED)
        return self._store

    def status(self, method: str, path: str, query: str = "") -> int:
        """The status the site answers with (a POST is always a good login: 303)."""
        if method == "POST":
            return 303 if path == "/login" else 405
        if path in _PAGES or path in _STATIC:
            return 200
        if path == "/resumes":
            found = _LISTING_PAGE.fullmatch(query)
            return 200 if not query or (found and 1 <= int(found.group(1)) <= self.pages) else 404
        record = _RECORD.fullmatch(path)
        if record is not None and 0 <= int(record.group(1)) - FIRST_RESUME_ID < self.resumes:
            return 200
        return 404

    def listed(self, page: int) -> list[int]:
        """The resume ids that listing page ``page`` links to, in page order."""
        if page not in self._listed:
            self._listed[page] = self.store.newest((page - 1) * PAGE_SIZE, PAGE_SIZE)
        return self._listed[page]

    def found(self, query: str) -> list[int]:
        """The resume ids a search for ``query`` shows."""
        if query not in self._found:
            self._found[query] = self.store.search(query, PAGE_SIZE)
        return self._found[query]

    def shown(self, path: str, query: str = "") -> list[int]:
        """The resume ids a page links to: the home page's newest five, a listing page's
        twenty, a search's results; none for any other page or a page the site has not."""
        if self.status("GET", path, query) != 200:
            return []
        if path == "/":
            return self.listed(1)[:HOME_NEWEST]
        if path == "/resumes":
            found = _LISTING_PAGE.fullmatch(query)
            return self.listed(int(found.group(1)) if found else 1)
        if path == "/search":
            words = parse_qs(query).get("q", [""])[0]
            return self.found(words)
        return []


@lru_cache(maxsize=8)
def site_for(resumes: int) -> Site:
    """The shared :class:`Site` with ``resumes`` records."""
    return Site(resumes)


def resume_path(record_id: int) -> str:
    """The path of a resume page."""
    return f"/resume/{record_id}"


def listing_query(page: int) -> str:
    """The query string of listing page ``page``."""
    return f"page={page}"


def session_cookie(account: str) -> str:
    """The demo's session cookie value for ``account`` (``name.signature``, fixed per account)."""
    signature = hashlib.sha256(f"simulated/{account}".encode()).hexdigest()
    return f"{account}.{signature}"


@dataclass(slots=True)
class Actor:
    """One simulated operator and where its requests are written.

    Args:
        name: the actor id of its events.
        family: its family.
        bot: its label.
        index: its number within the family (accounts are numbered by it).
        rng: its own random source.
        spec: the simulation it belongs to.
        site: the site it visits.
        shared_ips: addresses that several actors of the family share (carrier NAT).
        events: where its events go.
        pace: a person's median seconds on a resume (people skim or read closely).
        glance: a person's median seconds on any other page.
        skims: a person who skims many resumes in a visit, a few seconds each.
    """

    name: str
    family: str
    bot: bool
    index: int
    rng: random.Random
    spec: SimulationSpec
    site: Site
    shared_ips: tuple[str, ...] = ()
    events: list[Event] = field(default_factory=list)
    pace: float = 25.0
    glance: float = 10.0
    skims: bool = False

    def any_time(self) -> float:
        """A moment in the simulated span, any hour alike."""
        return self.spec.start + self.rng.random() * self.spec.duration

    def random_id(self) -> int:
        """A resume id that exists."""
        return FIRST_RESUME_ID + self.rng.randrange(self.site.resumes)


class Visitor:
    """One client program at one address, with its cookies and its HTTP cache.

    Args:
        actor: who runs it.
        device: the program.
        ip: its address (change it to move the same program to another network).
        keeps_cookies: whether it returns cookies.
    """

    def __init__(self, actor: Actor, device: Device, ip: str, *, keeps_cookies: bool) -> None:
        self.actor = actor
        self.device = device
        self.ip = ip
        self.keeps_cookies = keeps_cookies
        self.session: str | None = None
        self.url: str | None = None
        """The page on screen: the Referer of the next link followed."""
        self._has_cookie = False
        self._cache: dict[str, float] = {}

    def cookie(self) -> str | None:
        """The Cookie header it sends now, if any."""
        if not self._has_cookie:
            return None
        return f"__guard=kept; session={self.session}" if self.session else "__guard=kept"

    def send(
        self,
        t: float,
        path: str,
        query: str = "",
        *,
        kind: FetchKind = "document",
        site: str = "none",
        referer: str | None = None,
        method: str = "GET",
        revalidate: bool = False,
    ) -> int:
        """Send one request at ``t``; returns the status."""
        status = 304 if revalidate else self.actor.site.status(method, path, query)
        fetch = Fetch(kind, site, referer, self.cookie(), revalidate)
        actor = self.actor
        actor.events.append(
            Event(
                t,
                self.ip,
                method,
                path,
                query,
                self.device.headers(fetch),
                status,
                actor.name,
                actor.family,
                actor.bot,
            )
        )
        if kind in {"document", "form"} and self.keeps_cookies:
            self._has_cookie = True  # the guard sets its cookie on every page response
        return status

    def open(
        self, t: float, path: str, query: str = "", *, via: str = "link", assets: bool = True
    ) -> int:
        """Navigate to a page at ``t``, then load its assets (if ``assets``) that are not cached.

        Args:
            t: when.
            path: the page's path.
            query: its query string.
            via: ``link`` (followed from the page on screen), ``typed`` (address bar,
                bookmark or script: no Referer) or the URL of the page linking to it.
            assets: whether to load the page's statics (a browser does; scripts do not).
        """
        referer = self.url if via == "link" else None if via == "typed" else via
        if referer is None:
            site = "none"
        else:
            site = "same-origin" if referer.startswith(SITE_URL) else "cross-site"
        status = self.send(t, path, query, site=site, referer=referer)
        self.url = f"{SITE_URL}{path}?{query}" if query else f"{SITE_URL}{path}"
        if assets:
            resume = path.startswith("/resume/") and status == 200
            self._load_assets(t, RESUME_ASSETS if resume else PAGE_ASSETS)
        return status

    def login(self, t: float, account: str, *, typing: float) -> float:
        """Open the login form, post it ``typing`` seconds later and follow the redirect.

        Returns:
            the time the page after login (the resume listing) was requested.
        """
        self.open(t, "/login")
        t += typing
        self.send(t, "/login", method="POST", kind="form", site="same-origin", referer=self.url)
        self.session = session_cookie(account)
        t += self.actor.rng.uniform(0.05, 0.3)
        self.open(t, "/resumes")
        return t

    def _load_assets(self, t: float, assets: tuple[Asset, ...]) -> None:
        rng = self.actor.rng
        page = self.url
        reload = rng.random() < 0.01  # the user pressed reload: revalidate everything
        delays = sorted(rng.uniform(0.02, 0.4) for _ in assets)
        for (path, kind), delay in zip(assets, delays, strict=True):
            fetched = self._cache.get(path)
            if fetched is None or reload or t - fetched > ASSET_MAX_AGE:
                self._cache[path] = t
                self.send(
                    t + delay,
                    path,
                    kind=kind,
                    site="same-origin",
                    referer=page,
                    revalidate=fetched is not None,
                )


# --- time --------------------------------------------------------------------------------

# People's activity by hour of day (UTC): most in the working day and evening.
DAY_HOURS = (
    1.0, 0.6, 0.4, 0.3, 0.4, 0.8, 2, 4, 6, 8, 9, 9, 8, 7, 8, 8, 8, 7, 7, 7, 6, 5, 4, 2,
)  # fmt: skip
ANY_HOUR = (1.0,) * 24


def person_hours(rng: random.Random) -> tuple[float, ...]:
    """When one person tends to be online, by hour of day (UTC): most keep the site's day,
    some keep another (a time zone away, a night shift), some come at any hour."""
    roll = rng.random()
    if roll < 0.65:
        return DAY_HOURS
    if roll < 0.85:
        shift = rng.randrange(1, 24)
        return DAY_HOURS[shift:] + DAY_HOURS[:shift]
    return ANY_HOUR


def day_time(actor: Actor, hours: tuple[float, ...] = DAY_HOURS) -> float:
    """A moment in the simulated span when a person with these ``hours`` (weights by hour
    of day) is likely to be online."""
    rng, spec = actor.rng, actor.spec
    midnight = spec.start - spec.start % 86400
    days = math.ceil((spec.start + spec.duration - midnight) / 86400)
    for _ in range(20):
        hour = rng.choices(range(24), weights=hours)[0]
        t = midnight + rng.randrange(days) * 86400 + (hour + rng.random()) * 3600
        if spec.start <= t < spec.start + spec.duration:
            return t
    return actor.any_time()


def lognormal(rng: random.Random, median: float, sigma: float, cap: float = math.inf) -> float:
    """A log-normal draw with ``median`` (heavy right tail for large ``sigma``), at most ``cap``."""
    return min(median * math.exp(rng.gauss(0.0, sigma)), cap)


def jittered(rng: random.Random, value: float, spread: float) -> float:
    """``value`` give or take a fraction ``spread`` of it, uniformly."""
    return value * (1.0 + rng.uniform(-spread, spread))


def clamp(value: float, low: int, high: int) -> int:
    """``value`` rounded into ``[low, high]``."""
    return max(low, min(high, round(value)))


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` cut at random into ``parts`` positive shares (fewer if it is too small)."""
    parts = max(1, min(parts, total))
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    return [b - a for a, b in itertools.pairwise([0, *cuts, total])]
