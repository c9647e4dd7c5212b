"""People and recruiters: browsers at human hours, with log-normal think times.

People vary widely, so that a model trained on them holds for people it never saw: any hour
(most keep the site's day, some another time zone's or a night shift's, some no pattern),
a reading pace from about a second to minutes a page, current, older and privacy-minded
browsers (:func:`~guard.learn.agents.browser_device`), carrier and office NAT, links shared
in chat apps.

A person opens pages in a tab (:class:`_Tab`): each page is looked at for a while, a resume
is read and left with the back button (the back-forward cache requests nothing), and a new
visit may come hours later from the same browser, cookies and cache included.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from urllib.parse import urlencode

from guard.demo.draws import CITIES, JOB_WISHES, SURNAMES
from guard.learn.agents import browser_device, residential_ip
from guard.learn.browsers import Device
from guard.learn.visits import (
    DAY_HOURS,
    Actor,
    Visitor,
    clamp,
    day_time,
    listing_query,
    lognormal,
    person_hours,
    resume_path,
    split,
)

SEARCH_REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "https://www.baidu.com/")
_QUERIES = CITIES + JOB_WISHES + SURNAMES
_TYPOS = ("/jbos", "/job", "/serach", "/resume", "/resume/10023", "/resumes/al")


@dataclass(slots=True)
class _Tab:
    """A person's browser tab: what is on screen, and the time."""

    visitor: Visitor
    t: float
    shown: list[int] = field(default_factory=list)
    page: int = 0
    read: set[int] = field(default_factory=set)

    def go(self, path: str, query: str = "", *, via: str = "link") -> None:
        """Open a page and look at it for a while."""
        self.visitor.open(self.t, path, query, via=via)
        self.t += think(self.visitor.actor.rng, self.visitor.actor.glance, 0.8, cap=600.0)

    def listing(self, page: int, *, via: str = "link") -> None:
        """Open listing page ``page``."""
        self.page, self.shown = page, self.visitor.actor.site.listed(page)
        self.go("/resumes", listing_query(page), via=via)

    def search(self) -> None:
        """Type a query into the search box and submit it."""
        rng = self.visitor.actor.rng
        query = rng.choice(_QUERIES)
        self.t += lognormal(rng, 6.0, 0.5)
        self.page, self.shown = 0, self.visitor.actor.site.found(query)
        self.go("/search", urlencode({"q": query}))

    def other(self, path: str) -> None:
        """Open a page that lists no resumes."""
        self.page, self.shown = 0, []
        self.go(path)

    def unread(self) -> list[int]:
        """Resumes on screen not read yet."""
        return [record for record in self.shown if record not in self.read]

    def read_one(self, median: float, sigma: float) -> None:
        """Open an unread resume on screen, read it, and go back (from the back-forward
        cache, so going back requests nothing)."""
        rng = self.visitor.actor.rng
        record = rng.choice(self.unread())
        back = self.visitor.url
        self.visitor.open(self.t, resume_path(record))
        self.read.add(record)
        self.t += think(rng, median, sigma, cap=1800.0)
        self.visitor.url = back


MIN_THINK = 1.0
"""Nobody opens the next page sooner than about a second after the last one appeared."""


def think(rng: random.Random, median: float, sigma: float, cap: float) -> float:
    """Seconds a person spends on a page: log-normal around ``median``, 1 s to ``cap``."""
    return max(lognormal(rng, median, sigma, cap=cap), MIN_THINK)


def log_uniform(rng: random.Random, low: float, high: float) -> float:
    """A draw between ``low`` and ``high``, each order of magnitude alike."""
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _home_ip(actor: Actor, device: Device) -> str:
    """Where a person connects from: a phone is often behind its carrier's shared NAT, and
    some desktops behind an office's or a campus's."""
    shared = 0.5 if device.mobile else 0.1
    if actor.shared_ips and actor.rng.random() < shared:
        return actor.rng.choice(actor.shared_ips)
    return residential_ip(actor.rng, v6_share=0.1)


def _session_starts(
    actor: Actor, weights: tuple[float, ...], hours: tuple[float, ...]
) -> list[float]:
    count = actor.rng.choices(range(1, len(weights) + 1), weights=weights)[0]
    return sorted(day_time(actor, hours) for _ in range(count))


def people(actor: Actor) -> None:
    """Job seekers and visitors: a few short visits, reading 0-8 resumes in each, at their
    own pace (a median of 1 s to 3 minutes a resume) and their own hours."""
    rng = actor.rng
    actor.skims = rng.random() < 0.05  # reads 10-25 resumes a visit, a few seconds each
    actor.pace = log_uniform(rng, 1.0, 8.0) if actor.skims else log_uniform(rng, 1.5, 180.0)
    actor.glance = max(actor.pace * rng.uniform(0.3, 1.0), MIN_THINK)
    device = browser_device(rng)
    home = _home_ip(actor, device)
    visitor = Visitor(actor, device, home, keeps_cookies=rng.random() >= 0.02)
    hours = person_hours(rng)
    end = -math.inf
    for n, start in enumerate(_session_starts(actor, (65, 20, 10, 5), hours)):
        visitor.ip = home if n == 0 or rng.random() < 0.7 else _home_ip(actor, device)
        end = _visit(visitor, max(start, end + rng.uniform(600, 3600)))


def _plan_visit(actor: Actor) -> tuple[int, int]:
    """How many resumes a visit reads, and how many steps (pages) it takes at most."""
    rng = actor.rng
    if actor.skims:
        reads = rng.randint(10, 25)
        return reads, reads * 2 + 4
    reads = rng.choices(range(9), weights=(20, 18, 16, 13, 10, 8, 6, 5, 4))[0]
    return reads, rng.randint(1, 10)


def _visit(visitor: Visitor, t: float) -> float:
    """One visit by a person; returns when it ends."""
    rng = visitor.actor.rng
    tab = _Tab(visitor, t)
    visitor.url = None
    reads, steps = _plan_visit(visitor.actor)
    entry = rng.random()
    if entry < 0.25:  # from a search engine (or a link in a chat or mail: no Referer) to a resume
        landing = resume_path(visitor.actor.random_id())
        shared_link = rng.random() < 0.5
        visitor.open(tab.t, landing, via="typed" if shared_link else rng.choice(SEARCH_REFERRERS))
        tab.t += think(rng, visitor.actor.pace, 0.9, cap=1800.0)
        reads = max(0, reads - 1)
        if rng.random() < 0.5:
            return tab.t
        tab.listing(1)  # "Back to resumes"
    elif entry < 0.58:
        tab.go("/", via="typed" if rng.random() < 0.8 else rng.choice(SEARCH_REFERRERS))
    elif entry < 0.72:
        tab.listing(1, via="typed")
    else:
        tab.go("/jobs", via="typed")
    for _ in range(steps):
        roll = rng.random()
        if roll < 0.55 and reads > 0 and tab.unread():
            tab.read_one(visitor.actor.pace, 0.9)
            reads -= 1
        elif roll < 0.7 and tab.page:
            tab.listing(min(tab.page + 1, visitor.actor.site.pages))
        elif roll < 0.82:
            tab.search()
        elif roll < 0.92:
            tab.other("/jobs")
        else:
            tab.listing(1)
    if rng.random() < 0.03:
        tab.go(rng.choice(_TYPOS), via="typed")
    return tab.t


def recruiters(actor: Actor) -> None:
    """Employers at work: log in, read 20-150 resumes from listings and searches, carefully."""
    rng = actor.rng
    actor.pace = log_uniform(rng, 5.0, 60.0)  # a skim takes about 7 s, a close read minutes
    device = browser_device(rng, desktop_share=0.85)
    office = residential_ip(rng, v6_share=0.05)
    visitor = Visitor(actor, device, office, keeps_cookies=True)
    wanted = clamp(lognormal(rng, 55, 0.6), 20, 150)
    hours = DAY_HOURS if rng.random() < 0.85 else person_hours(rng)  # some work shifts
    starts = _session_starts(actor, (35, 35, 20, 10), hours)
    shares = split(wanted, len(starts), actor.rng)
    end = -math.inf
    for n, (start, reads) in enumerate(zip(starts, shares, strict=False)):
        visitor.ip = office if rng.random() < 0.85 else residential_ip(rng)  # sometimes from home
        visitor.url = None
        tab = _Tab(visitor, max(start, end + rng.uniform(600, 3600)))
        tab.go("/", via="typed")
        # The session cookie lives as long as the browser: later sessions may still have it.
        if n == 0 or rng.random() < 0.6:
            account = f"employer{actor.index + 1}"
            tab.t = visitor.login(tab.t, account, typing=lognormal(rng, 8, 0.5))
            tab.page, tab.shown = 1, actor.site.listed(1)
            tab.t += lognormal(rng, 6, 0.6)
        else:
            tab.listing(1)
        _read_as_recruiter(tab, reads)
        end = tab.t


def _read_as_recruiter(tab: _Tab, reads: int) -> None:
    """Read ``reads`` resumes, paging on when a page is done and searching now and then."""
    rng, pages = tab.visitor.actor.rng, tab.visitor.actor.site.pages
    for _ in range(reads * 4):  # bounded: a small site may run out of unread resumes
        if reads == 0:
            return
        if not tab.unread() and tab.page:
            tab.listing(tab.page % pages + 1)
        roll = rng.random()
        if roll < 0.9 and tab.unread():
            tab.read_one(tab.visitor.actor.pace, 1.0)
            reads -= 1
        elif roll < 0.95 or not tab.page:
            tab.search()
        else:
            tab.listing(tab.page % pages + 1)
