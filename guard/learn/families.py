"""The generators of bots: harvesters in their many disguises, and honest search engines.

Each generator writes one actor's events through :class:`~guard.learn.visits.Visitor`.
Harvesters run at any hour with the steady pace of a loop; ``guard.learn.simulate``'s
docstring sums up every family's parameters. :data:`GENERATORS` maps each family,
people and recruiters (from :mod:`guard.learn.humans`) included, to its generator.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

from guard.demo.draws import FIRST_RESUME_ID
from guard.learn.agents import (
    SEARCH_ENGINES,
    browser_device,
    datacenter_ip,
    headless_device,
    residential_ip,
    tool_device,
)
from guard.learn.browsers import SITE_URL, Device
from guard.learn.humans import people, recruiters
from guard.learn.visits import (
    Actor,
    Visitor,
    clamp,
    jittered,
    listing_query,
    lognormal,
    resume_path,
    split,
)

ACCOUNT_SCRAPER_FIRST = 5001
"""Bought accounts are numbered apart from recruiters' own (``employer1`` ...)."""

_SCRIPT_TOOLS = ("requests", "aiohttp", "go", "curl")
_CRAWL_TOOLS = ("scrapy", "scrapy", "scrapy", "requests", "go", "colly", "java", "node", "wget")


def _harvester_device(actor: Actor, tools: tuple[str, ...], tool: float, spoof: float) -> Device:
    """A library (share ``tool``), a library with a copied browser UA (``spoof``), or a real
    browser's full, consistent headers (the rest)."""
    rng = actor.rng
    roll = rng.random()
    if roll < tool:
        return tool_device(rng, rng.choice(tools))
    if roll < tool + spoof:
        return tool_device(rng, rng.choice(("spoof", "spoof_lang")))
    return browser_device(rng, desktop_share=0.9)


def _walk(
    visitor: Visitor,
    t: float,
    records: Iterator[int],
    *,
    pause: Callable[[], float],
    request: Callable[[float, int], int],
    patience: int,
) -> float:
    """Request each record in turn; give up after ``patience`` 404s in a row."""
    misses = 0
    for record in records:
        misses = misses + 1 if request(t, record) == 404 else 0
        t += pause()
        if misses >= patience:
            break
    return t


def _ids(actor: Actor, start: int, step: int, skips: float) -> Iterator[int]:
    """Ids from ``start`` by ``step``, skipping one or two with probability ``skips``."""
    record = start
    while record > 0:
        yield record
        record += step * (actor.rng.choice((2, 3)) if actor.rng.random() < skips else 1)


def _random_ids(actor: Actor, beyond: float = 0.0) -> Iterator[int]:
    """Random ids, a share ``beyond`` of them past the last record."""
    span = int(actor.site.resumes * (1 + beyond))
    while True:
        yield FIRST_RESUME_ID + actor.rng.randrange(span)


def _enumeration_start(actor: Actor, total: int, step: int) -> int:
    """Where a sequential run starts: anywhere, at an end, or close enough to run past it."""
    rng, first = actor.rng, FIRST_RESUME_ID
    last = first + actor.site.resumes - 1
    roll = rng.random()
    if roll < 0.15:
        near = rng.randrange(total // 2 + 1)
        return last - near if step > 0 else first + near
    if roll < 0.25:
        return first if step > 0 else last
    return actor.random_id()


def enumerators(actor: Actor) -> None:
    """58.com-style scripts: resume ids one after another at a machine's steady pace."""
    rng = actor.rng
    device = _harvester_device(actor, _SCRIPT_TOOLS, tool=0.5, spoof=0.3)
    visitor = Visitor(actor, device, datacenter_ip(rng), keeps_cookies=rng.random() < 0.15)
    gap = rng.uniform(*rng.choice(((0.2, 0.8), (0.8, 1.5), (4.0, 6.0))))
    spread = rng.uniform(0.02, 0.15)
    step = -1 if rng.random() < 0.15 else 1
    total = clamp(lognormal(rng, 200, 0.7), 40, 2500)
    records = _ids(actor, _enumeration_start(actor, total, step), step, rng.choice((0, 0, 0.1)))
    patience = rng.choice((10, 50, 10_000))
    t = actor.any_time()
    if rng.random() < 0.1:
        visitor.open(t, "/robots.txt", via="typed", assets=False)
        t += gap
    runs = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    for run in range(runs):
        if run:
            t += rng.uniform(2, 12) * 3600
            if rng.random() < 0.5:
                visitor.ip = datacenter_ip(rng)
        t = _walk(
            visitor,
            t,
            itertools.islice(records, total // runs),
            pause=lambda: jittered(rng, gap, spread),
            request=lambda when, record: visitor.open(
                when, resume_path(record), via="typed", assets=False
            ),
            patience=patience,
        )


def listing_crawlers(actor: Actor) -> None:
    """Crawlers that page through the listing and follow every resume link on each page."""
    rng, site = actor.rng, actor.site
    device = _harvester_device(actor, _CRAWL_TOOLS, tool=0.65, spoof=0.25)
    keeps = device.style == "scrapy" or device.is_browser or rng.random() < 0.3
    visitor = Visitor(actor, device, datacenter_ip(rng), keeps_cookies=keeps)
    delay = lognormal(rng, 1.0, 0.6, cap=5.0)

    def pause() -> float:
        return jittered(rng, delay, 0.5)  # like Scrapy's RANDOMIZE_DOWNLOAD_DELAY

    t = actor.any_time()
    if rng.random() < 0.4:  # read robots.txt, then ignore it
        visitor.open(t, "/robots.txt", via="typed", assets=False)
        t += pause()
    if rng.random() < 0.5:
        visitor.open(t, "/", via="typed", assets=False)
        t += pause()
    first = 1 if rng.random() < 0.8 else rng.randint(1, site.pages)
    last = min(site.pages, first + clamp(lognormal(rng, 8, 0.8), 2, site.pages) - 1)
    extras = [path for path, p in (("/resumes/all", 0.35), ("/jobs", 0.3)) if rng.random() < p]
    for page in range(first, last + 1):
        visitor.open(t, "/resumes", listing_query(page), assets=False)
        t += pause()
        listing = visitor.url
        for path in [*extras, *map(resume_path, site.listed(page))]:
            visitor.open(t, path, via=listing or "typed", assets=False)
            t += pause()
        extras = []


def low_and_slow(actor: Actor) -> None:
    """Patient browsers-in-disguise: one resume every 10-60 s for hours, cookies kept."""
    rng, site = actor.rng, actor.site
    visitor = Visitor(
        actor, browser_device(rng, desktop_share=0.9), datacenter_ip(rng), keeps_cookies=True
    )
    gap = rng.uniform(10, 60)
    from_listing = rng.random() < 0.4
    ids = _ids(actor, actor.random_id(), 1, 0.0) if rng.random() < 0.4 else _random_ids(actor)
    assets = rng.random() < 0.5
    t = actor.any_time()
    for _ in range(rng.choices((1, 2), weights=(80, 20))[0]):
        end = t + rng.uniform(1, 3) * 3600
        listing: str | None = None
        shown: Iterator[int] = iter(())
        while t < end:
            if from_listing:
                record = next(shown, None)
                if record is None:
                    page = rng.randint(1, site.pages)
                    visitor.open(t, "/resumes", listing_query(page), via="typed", assets=assets)
                    listing, shown, assets = visitor.url, iter(site.listed(page)), False
                    t += jittered(rng, gap, 0.4)
                    continue
            else:
                record = next(ids)
            record = FIRST_RESUME_ID + (record - FIRST_RESUME_ID) % site.resumes
            visitor.open(t, resume_path(record), via=listing or "typed", assets=assets)
            assets = False
            t += jittered(rng, gap, 0.4)
        t += rng.uniform(6, 20) * 3600


def headless_browsers(actor: Actor) -> None:
    """Automated real browsers: listing, resume, listing... with assets, at a robot's beat."""
    rng, site = actor.rng, actor.site
    device = headless_device(rng) if rng.random() < 0.5 else browser_device(rng, desktop_share=1.0)
    visitor = Visitor(actor, device, datacenter_ip(rng), keeps_cookies=True)
    beat, wobble = rng.uniform(1.5, 3.0), rng.uniform(0.03, 0.1)

    def pause() -> float:
        return max(0.3, beat * (1 + rng.gauss(0.0, wobble)))

    back_to_listing = rng.random() < 0.6
    first = 1 if rng.random() < 0.6 else rng.randint(1, site.pages)
    last = min(site.pages, first + clamp(lognormal(rng, 5, 0.6), 1, 30) - 1)
    t = actor.any_time()
    for page in range(first, last + 1):
        visitor.open(t, "/resumes", listing_query(page), via="typed" if page == first else "link")
        t += pause()
        listing = visitor.url
        for record in site.listed(page):
            visitor.open(t, resume_path(record), via=listing or "typed")
            t += pause()
            if back_to_listing:
                visitor.open(t, "/resumes", listing_query(page))
                t += pause()


def distributed(actor: Actor) -> None:
    """A campaign rotating home addresses and browsers: each identity asks for 1-6 resumes.

    The first campaign covers most of the id space; the others a slice each.
    """
    rng, site = actor.rng, actor.site
    share = rng.uniform(0.6, 1.0) if actor.index == 0 else rng.uniform(0.05, 0.3)
    size = max(1, int(site.resumes * share))
    offset = rng.randrange(site.resumes)
    ids = [FIRST_RESUME_ID + (offset + i) % site.resumes for i in range(size)]
    if rng.random() < 0.5:
        rng.shuffle(ids)
    start, window = actor.any_time(), rng.uniform(2, 24) * 3600
    keeps = rng.random() < 0.5
    listing_first = rng.uniform(0.0, 0.4)
    # Some campaigns replay headers copied from a browser's click, Referer and all.
    copied_referer = rng.random() < 0.3
    addresses: list[str] = []
    done = 0
    while done < size:
        chunk = ids[done : done + rng.randint(1, 6)]
        done += len(chunk)
        reuse = bool(addresses) and rng.random() < 0.1  # the proxy pool hands out an address again
        addresses.append(rng.choice(addresses) if reuse else residential_ip(rng))
        visitor = Visitor(actor, browser_device(rng), addresses[-1], keeps_cookies=keeps)
        t = start + rng.random() * window
        via = "typed"
        if copied_referer:
            via = f"{SITE_URL}/resumes?{listing_query(rng.randint(1, site.pages))}"
        elif rng.random() < listing_first:
            visitor.open(t, "/resumes", listing_query(rng.randint(1, site.pages)), assets=False)
            via = visitor.url or via
            t += lognormal(rng, 3.0, 0.6)
        for record in chunk:
            visitor.open(t, resume_path(record), via=via, assets=False)
            t += lognormal(rng, 3.0, 0.6)


def api_scrapers(actor: Actor) -> None:
    """Scripts on the JSON API: ``/api/resumes/{id}``, fast, sequential or random ids."""
    rng = actor.rng
    style = rng.choices(
        ("requests", "okhttp", "axios", "aiohttp", "go", "spoof"), weights=(30, 20, 20, 10, 10, 10)
    )[0]
    visitor = Visitor(actor, tool_device(rng, style), datacenter_ip(rng), keeps_cookies=False)
    gap, spread = rng.uniform(0.05, 1.5), rng.uniform(0.1, 0.4)
    total = clamp(lognormal(rng, 180, 0.8), 30, 2500)
    if rng.random() < 0.5:
        records = _ids(actor, _enumeration_start(actor, total, 1), 1, 0.0)
    else:
        records = _random_ids(actor, beyond=0.05)

    def fetch(when: float, record: int) -> int:
        return visitor.send(when, f"/api/resumes/{record}", kind="json")

    _walk(
        visitor,
        actor.any_time(),
        itertools.islice(records, total),
        pause=lambda: jittered(rng, gap, spread),
        request=fetch,
        patience=rng.choice((20, 10_000)),
    )


def account_scrapers(actor: Actor) -> None:
    """Bought employer accounts read far more resumes than a recruiter, every 2-10 s,
    from up to five addresses."""
    rng, site = actor.rng, actor.site
    addresses = [
        datacenter_ip(rng) if rng.random() < 0.6 else residential_ip(rng)
        for _ in range(rng.randint(1, 5))
    ]
    device = browser_device(rng, desktop_share=0.9)
    visitor = Visitor(actor, device, addresses[0], keeps_cookies=True)
    account = f"employer{ACCOUNT_SCRAPER_FIRST + actor.index}"
    low = rng.uniform(2, 5)
    high = rng.uniform(low + 1, 10)
    rotate = rng.randint(30, 150)
    from_listing = rng.random() < 0.5
    ids = _ids(actor, actor.random_id(), 1, 0.0) if rng.random() < 0.5 else _random_ids(actor)
    total = clamp(lognormal(rng, 250, 0.6), 80, 1200)
    t = actor.any_time()
    page, count = 1, 0
    for reads in split(total, rng.choice((1, 1, 2)), rng):
        visitor.url = None
        t = visitor.login(t, account, typing=lognormal(rng, 4, 0.4)) + rng.uniform(low, high)
        listing, shown = visitor.url, iter(site.listed(page))
        for _ in range(reads):
            count += 1
            visitor.ip = addresses[count // rotate % len(addresses)]
            record = next(shown, None) if from_listing else next(ids)
            if record is None:
                page = page % site.pages + 1
                visitor.open(
                    t, "/resumes", listing_query(page), via=listing or "typed", assets=False
                )
                listing, shown = visitor.url, iter(site.listed(page))
                t += rng.uniform(low, high)
                record = next(shown)
            record = FIRST_RESUME_ID + (record - FIRST_RESUME_ID) % site.resumes
            visitor.open(
                t,
                resume_path(record),
                via=(listing or "typed") if from_listing else "typed",
                assets=False,
            )
            t += rng.uniform(low, high)
        t += rng.uniform(8, 20) * 3600


def search_engines(actor: Actor) -> None:
    """Honest crawlers: robots.txt first, then only allowed pages, politely."""
    rng, site = actor.rng, actor.site
    engine = rng.choices(SEARCH_ENGINES, weights=[e.weight for e in SEARCH_ENGINES])[0]
    device = Device("crawler", rng.choice(engine.agents), "")
    addresses = [engine.address(rng) for _ in range(rng.randint(1, 4))]
    visitor = Visitor(actor, device, addresses[0], keeps_cookies=False)
    pages = min(site.pages - 1, clamp(lognormal(rng, 25, 0.7), 3, 200))
    frontier = [("/", ""), ("/resumes", ""), ("/jobs", "")]
    if rng.random() < 0.5:
        frontier.append(("/search", ""))
    listed = sorted(rng.sample(range(2, site.pages + 1), pages))
    frontier += [("/resumes", listing_query(page)) for page in listed]
    renders = engine.name == "google" and rng.random() < 0.3  # Google renders with assets
    t, robots_read = actor.any_time(), -math.inf
    for path, query in frontier:
        visitor.ip = rng.choice(addresses)
        if t - robots_read > 86400:
            visitor.send(t, "/robots.txt")
            robots_read = t
            t += rng.uniform(2, 15)
        visitor.open(t, path, query, via="typed", assets=renders)
        t += rng.uniform(2, 15)
        if rng.random() < 0.05:  # the crawl is rescheduled
            t += rng.uniform(1, 30) * 3600


GENERATORS: dict[str, Callable[[Actor], None]] = {
    "people": people,
    "recruiters": recruiters,
    "enumerators": enumerators,
    "listing_crawlers": listing_crawlers,
    "low_and_slow": low_and_slow,
    "headless_browsers": headless_browsers,
    "distributed": distributed,
    "api_scrapers": api_scrapers,
    "account_scrapers": account_scrapers,
    "search_engines": search_engines,
}
"""The generator of each family: it writes one actor's events."""
