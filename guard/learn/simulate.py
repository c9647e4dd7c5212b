"""The traffic simulator: labelled requests from people, recruiters, good bots and harvesters.

``simulate(default_spec())`` gives two days of traffic on the demo job board: about 3,000
people, 300 recruiters, 150 search-engine crawlers and 150-200 actors in each harvesting
family (10 campaigns for ``distributed``). Every actor has its own random source derived
from the seed, so a spec always yields the same events.

Conventions (what the dataset builder and the replay rely on):

- ``host`` is ``127.0.0.1:8000``. ``Event.scope()`` says ``http``; a loopback host is a
  secure context, where browsers send ``sec-fetch-*`` and client hints, as they do to a
  production HTTPS site. A remote host over plain HTTP would make real browsers send
  neither, and their headers would not look like a production site's.
- A client that keeps cookies sends ``cookie: __guard=kept`` on every request after its
  first page (``; session=<name>.<signature>`` once logged in); the dataset builder swaps
  ``kept`` for a signed token. Clients that drop cookies never send ``__guard``.
- ``status`` is what the unguarded demo answers: 200, 404 past the ids or for unknown
  paths, 303 for ``POST /login``, and 304 for a browser revalidating a cached asset (its
  cache keeps the demo's ``max-age=3600``).
- ``actor`` is the operator: a person, a bot, an account, or a distributed campaign.

The families:

=================  ===================================================================
people             1-4 visits, most at the site's day, 20% on another clock (time zone,
                   night shift), 15% at any hour; log-normal think times at a pace of
                   their own (a median of 1.5 s to 3 minutes a resume, never under
                   1 s a page), 0-8 resumes a visit (5% skim 10-25); 25% land on a
                   resume from a search engine or a shared link; assets with caching;
                   2% drop cookies; 4% old browsers and 4% behind a proxy that strips
                   fetch metadata and client hints; phones often (offices sometimes)
                   share NAT addresses; 10% IPv6.
recruiters         log in, read 20-150 resumes from listings and searches, a median of
                   5-60 s a resume with a heavy tail, 1-4 sessions, mostly desktop,
                   15% on shifts.
enumerators        sequential ids (+1, some +2/+3, 15% descending) every 0.2-0.8 s,
                   0.8-1.5 s or 4-6 s with 2-15% jitter; libraries, copied browser UA,
                   or full browser headers; no assets; some run past the last id.
listing_crawlers   page through ``/resumes?page=N`` and fetch its 20 resumes; Scrapy and
                   other libraries or browser UAs; ~1 s delays; robots.txt ignored,
                   some follow the hidden ``/resumes/all``.
low_and_slow       consistent browser headers, cookies kept, a resume every 10-60 s
                   for 1-3 hours, random or sequential ids, assets on the first page.
headless_browsers  HeadlessChrome or a normal Chrome UA, assets cached, listing ->
                   resume -> listing on a 1.5-3 s beat with 3-10% variation.
distributed        campaigns of identities (home address + browser), each asking for
                   1-6 resumes within a few hours; one campaign covers 60-100% of ids.
api_scrapers       ``/api/resumes/{id}`` as JSON from requests, okhttp, axios... every
                   0.05-1.5 s, sequential or random ids.
account_scrapers   a bought employer account reading 80-1200 resumes every 2-10 s from
                   1-5 addresses, assets on the first page only.
search_engines     Googlebot, Bingbot, Applebot, YandexBot and DuckDuckBot from their
                   own ranges; robots.txt first and obeyed; a page every 2-15 s.
=================  ===================================================================
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType

from guard.learn.agents import residential_ip
from guard.learn.events import GOOD_BOT_FAMILIES, HUMAN_FAMILIES, Event, in_time_order
from guard.learn.families import GENERATORS
from guard.learn.spec import SimulationSpec
from guard.learn.visits import Actor, site_for

__all__ = ["FAMILIES", "SimulationSpec", "default_spec", "simulate", "simulate_family"]

FAMILIES: tuple[str, ...] = (
    "people",
    "recruiters",
    "enumerators",
    "listing_crawlers",
    "low_and_slow",
    "headless_browsers",
    "distributed",
    "api_scrapers",
    "account_scrapers",
    "search_engines",
)
"""Every family the simulator knows, people first."""

_DEFAULT_COUNTS: Mapping[str, int] = {
    "people": 3000,
    "recruiters": 300,
    "enumerators": 200,
    "listing_crawlers": 150,
    "low_and_slow": 150,
    "headless_browsers": 150,
    "distributed": 10,
    "api_scrapers": 200,
    "account_scrapers": 150,
    "search_engines": 150,
}


def default_spec(seed: int = 7, scale: float = 1.0) -> SimulationSpec:
    """The standard mix of families, with actor counts times ``scale`` (at least 1 each).

    Args:
        seed: the random seed.
        scale: the traffic volume; 1.0 gives about 370,000 events.
    """
    counts = {family: max(1, round(n * scale)) for family, n in _DEFAULT_COUNTS.items()}
    return SimulationSpec(seed, MappingProxyType(counts))


def simulate(spec: SimulationSpec) -> list[Event]:
    """All the events of ``spec``, in time order.

    Raises:
        ValueError: for an unknown family in ``spec.counts``.
    """
    unknown = sorted(set(spec.counts) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown families: {', '.join(unknown)}")
    events: list[Event] = []
    for family in FAMILIES:
        count = spec.counts.get(family, 0)
        # A generator per family, so changing one family's count leaves the others alone.
        rng = random.Random(f"{spec.seed}/{family}")  # noqa: S311 - simulation, not secrets
        events += simulate_family(family, count, rng, spec)
    return in_time_order(events)


def simulate_family(
    family: str, count: int, rng: random.Random, spec: SimulationSpec
) -> list[Event]:
    """The events of ``count`` actors of ``family``, in time order.

    Args:
        family: one of :data:`FAMILIES`.
        count: how many actors (people, bots, accounts, or campaigns).
        rng: the random source; each actor gets its own, drawn from it.
        spec: the span and the site size (its ``counts`` are not read).

    Raises:
        ValueError: for an unknown family or a negative count.
    """
    if family not in GENERATORS:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    generate = GENERATORS[family]
    bot = family not in HUMAN_FAMILIES | GOOD_BOT_FAMILIES
    site = site_for(spec.resumes)
    shared_ips = tuple(residential_ip(rng) for _ in range(max(1, count // 50)))
    events: list[Event] = []
    for index in range(count):
        own = random.Random(rng.getrandbits(64))  # noqa: S311 - simulation, not secrets
        generate(
            Actor(f"{family}-{index:04d}", family, bot, index, own, spec, site, shared_ips, events)
        )
    return in_time_order(events)
