"""What a harvesting campaign does, where it comes from, and what it got."""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field
from typing import Literal

Order = Literal["sequential", "random", "listing"]
HeaderStyle = Literal["full", "basic"]


def campaign_address(n: int) -> str:
    """The source address of the ``n``-th address of a campaign: ``127.{20+n//250}.{n%250}.1``,
    so every address is in its own /24 and all stay inside 127.0.0.0/8 (n < 59,000)."""
    return f"127.{20 + n // 250}.{n % 250}.1"


@dataclass(frozen=True)
class CampaignSpec:
    """How a harvesting campaign behaves.

    Args:
        addresses: source addresses it rotates through, each in its own /24.
        per_address: record reads an identity makes before the campaign rotates to a fresh
            one (it rotates sooner when refused).
        order: ``sequential`` walks ids upward from the first; ``random`` draws ids uniformly
            without repeats; ``listing`` has every identity fetch a listing page first and
            read only ids that page showed it, as a crawler following links.
        cookies: keep a cookie jar per identity (else every request goes without cookies,
            but for the session of a ``login`` campaign).
        assets: after each page, load the CSS, script and images it names that this
            identity has not loaded yet (a browser's cache).
        headers: ``full``: Chrome's navigation headers (fetch metadata, client hints,
            Accept-Language, Upgrade-Insecure-Requests, a Referer within the site);
            ``basic``: Chrome's user agent with Accept, Accept-Language, Accept-Encoding.
        solve: solve every proof-of-work challenge natively, then ask for the page again.
        login: each identity first signs in with a bought account, round robin.
        pace: least seconds between two pages or records from one address (an identity's
            own, and those of the next identity to use the address); assets follow their
            page at once, as a browser's do.
        tries: record reads the campaign makes in all.
        seed: seeds the id order and each identity's user agent.
    """

    addresses: int = 200
    per_address: int = 3
    order: Order = "random"
    cookies: bool = True
    assets: bool = False
    headers: HeaderStyle = "full"
    solve: bool = False
    login: bool = False
    pace: float = 0.0
    tries: int = 2_000
    seed: int = 58

    def __post_init__(self) -> None:
        if not 1 <= self.addresses <= 59_000:
            raise ValueError("addresses must be from 1 to 59,000")
        if self.per_address < 1 or self.tries < 0 or not 0.0 <= self.pace < math.inf:
            raise ValueError("per_address must be positive, tries and pace not negative")


@dataclass
class CampaignResult:
    """What a campaign got.

    Args:
        tried: record reads made; a read challenged, solved and asked again is one try.
        harvested: distinct ids served with their contact data.
        statuses: the status of every response to a record request.
        challenges: challenge pages met (on records, listings or the login).
        solves: solutions the site accepted.
        pow_cpu_seconds: CPU seconds the solver spent (in its own processes).
        requests: every HTTP request made: records, listings, assets, logins, solutions.
        errors: requests that failed without a response (timeouts, resets).
        seconds: wall time of the run.
        asked: record id -> times it was tried (at most twice).
        listed: ids the listing pages fetched showed.
    """

    tried: int = 0
    harvested: set[int] = field(default_factory=set)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    challenges: int = 0
    solves: int = 0
    pow_cpu_seconds: float = 0.0
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    asked: collections.Counter[int] = field(default_factory=collections.Counter)
    listed: set[int] = field(default_factory=set)
