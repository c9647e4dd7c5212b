"""Who visits: the personas, and each visit drawn before it starts.

* Visits come from search for roughly half of a typical site's traffic (BrightEdge Research,
  2019: organic search 53%), direct for a fifth to a third, links for the rest; links shared
  in chat apps and e-mail arrive with no Referer ("dark social": RadiumOne, 2014-2016,
  most sharing happens in such private channels).
* Carrier-grade NAT puts many subscribers behind one address, in most cellular networks and
  a sixth of other ISPs (Richter et al., "A multi-perspective analysis of carrier-grade NAT
  deployment", IMC 2016).

Each person has its own source address on loopback (``127.30.x.y``, one /24 each, then
``127.31.x.y`` past 255 persons; the CGNAT persona's persons share ``127.30.0.77``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guard.testing.people.browsers import browser_for, carrier_phone, pick
from guard.testing.people.headers import Browser, FetchSite
from guard.testing.people.pacing import pages_per_visit, recruiter_records

CGNAT_ADDRESS = "127.30.0.77"

PERSONAS: Mapping[str, float] = {
    "chrome_desktop": 0.20,
    "firefox_desktop": 0.04,
    "safari_macos": 0.05,
    "safari_ios": 0.14,
    "chrome_android": 0.20,
    "old_browser": 0.04,
    "privacy_proxy": 0.04,
    "cgnat": 0.08,
    "chat_link": 0.09,
    "search_lander": 0.08,
    "recruiter": 0.04,
}
"""Each persona's share of visits (devices and browsers after StatCounter, sources after
BrightEdge and the dark-social reports; see :mod:`~guard.testing.people.browsers` and this
module's docstring)."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One person's visit, drawn before it starts.

    Args:
        index: its place in the run.
        persona: a :data:`PERSONAS` key.
        browser: the browser the person uses.
        address: the loopback source address.
        entry: the first path asked for.
        entry_site: that navigation's ``Sec-Fetch-Site``.
        entry_referer: that navigation's Referer, if any.
        pages: pages the person means to see (records, for a recruiter).
        browse_on: whether a chat-link visitor goes on browsing after the record.
        account: the demo account a recruiter signs in with.
        seed: seeds the visit's own random choices.
    """

    index: int
    persona: str
    browser: Browser
    address: str
    entry: str
    entry_site: FetchSite
    entry_referer: str | None
    pages: int
    browse_on: bool = False
    account: str | None = None
    seed: str = ""


def _address(index: int) -> str:
    """The person's own /24 inside 127.30.0.0/16 (127.31... past 255 persons)."""
    block = 1 + index % 255
    return f"127.{30 + index // 255}.{block}.{1 + (index * 37) % 254}"


def plan_visits(
    sessions: int,
    seed: int,
    personas: Sequence[str] | None = None,
    *,
    shared_ids: Sequence[int] = range(100000, 101000),
) -> list[Visit]:
    """The visits of a run: who comes, with which browser, from where, and how far they go.

    With at least as many sessions as personas, each persona comes at least once; the rest
    follow the :data:`PERSONAS` shares.

    Args:
        sessions: how many visits.
        seed: the same seed gives the same visits.
        personas: the personas to draw from (all by default).
        shared_ids: the records a shared link or a search result can point to.
    """
    names = list(personas) if personas is not None else list(PERSONAS)
    unknown = set(names) - set(PERSONAS)
    if unknown:
        raise ValueError(f"unknown personas: {sorted(unknown)}")
    rng = random.Random(f"people:{seed}")  # noqa: S311 - who comes, not a secret
    cast = rng.sample(names, len(names))[:sessions]
    cast += rng.choices(names, weights=[PERSONAS[n] for n in names], k=sessions - len(cast))
    popular = carrier_phone(seed)
    return [_visit(i, name, seed, popular, shared_ids) for i, name in enumerate(cast)]


def _visit(index: int, persona: str, seed: int, popular: Browser, ids: Sequence[int]) -> Visit:
    own = f"{seed}:{index}"
    rng = random.Random(f"visit:{own}")  # noqa: S311 - simulated choices
    address = CGNAT_ADDRESS if persona == "cgnat" else _address(index)
    entry = pick(rng, (("/", 70), ("/resumes", 18), ("/jobs", 12)))
    site: FetchSite = "none"
    referer: str | None = None
    browse_on = False
    account = None
    pages = pages_per_visit(rng)
    browser = browser_for(persona, rng, popular)
    if persona == "chat_link":
        entry, browse_on = f"/resume/{rng.choice(ids)}", rng.random() < 0.35
    elif persona == "search_lander":
        site = "cross-site"
        referer = pick(rng, (("https://www.google.com/", 60), ("https://www.baidu.com/", 30),
                             ("https://www.bing.com/", 10)))  # fmt: skip
        entry = pick(rng, (("/", 45), ("/resumes", 20), ("/jobs", 25), ("record", 10)))
        if entry == "record":
            entry = f"/resume/{rng.choice(ids)}"
    elif persona == "recruiter":  # signed in
        entry, pages, account = "/", recruiter_records(rng), f"employer{index % 50 + 1}"
    return Visit(
        index, persona, browser, address, entry, site, referer, pages, browse_on, account, own
    )
