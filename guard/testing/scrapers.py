"""Scrapers to test a guarded site with: real clients over loopback, for tests and benchmarks."""

from __future__ import annotations

import collections
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from guard.testing import ManualClock, chrome_headers

PHONE = re.compile(r'class="phone"')


@dataclass
class Harvest:
    """What a scraper got: the records served (with their contact data) and its requests."""

    records: set[int] = field(default_factory=set)
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)


def rotating_scraper(
    base: str,
    ids: Sequence[int],
    agents: Sequence[str],
    *,
    addresses: int = 200,
    per_identity: int = 3,
    attempts: int = 10_000,
    clock: ManualClock | None = None,
    pace: float = 0.05,
    seed: int = 58,
) -> Harvest:
    """A scraper that rotates ``addresses`` loopback addresses (each in its own /24,
    ``127.20.N.1``) and browser user agents with matching Chrome headers, keeps cookies per
    identity, makes ``per_identity`` requests before moving on, and puts refused ids back in
    its queue, until it has made ``attempts`` requests or has every record.

    ``clock`` (the guard's, in tests) moves ``pace`` seconds per request.
    """
    rng = random.Random(seed)  # noqa: S311 - which user agent to wear next, not a secret
    queue = collections.deque(ids)
    harvest = Harvest()
    rotation = itertools.cycle(f"127.20.{n}.1" for n in range(addresses))
    while queue and harvest.requests < attempts:
        transport = httpx.HTTPTransport(local_address=next(rotation))
        headers = chrome_headers(rng.choice(list(agents)))
        with httpx.Client(base_url=base, headers=headers, transport=transport) as client:
            for _ in range(per_identity):
                if not queue or harvest.requests >= attempts:
                    break
                record = queue.popleft()
                if clock is not None:
                    clock.advance(pace)
                harvest.requests += 1
                response = client.get(f"/resume/{record}")
                harvest.statuses[response.status_code] += 1
                if response.status_code == 200 and PHONE.search(response.text):
                    harvest.records.add(record)
                else:
                    queue.append(record)  # try it again from another address
                    break
    return harvest
