"""End to end: a scraper rotating 200 IPs and browser user agents harvests little."""

from __future__ import annotations

import collections
import itertools
import json
import random
import re

import httpx
import pytest

from guard.testing import ManualClock, chrome_headers, live_server
from tests.browser_agents import BROWSER_AGENTS
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.e2e
FIRST_ID = 100000
RECORDS = 10_000
ATTEMPTS = 2_500  # requests the scraper makes (bounds the test's time)
TARGET_SHARE = 200 / 10_000  # fewer than 200 of 10,000 records: under 2% of its attempts
PER_IDENTITY = 3  # requests before it moves to the next address and user agent
PHONE = re.compile(r'class="phone"')
CHROMIUM_AGENTS = [ua for ua in BROWSER_AGENTS if "Chrome/" in ua and "Firefox" not in ua]


@pytest.mark.xfail(
    strict=True,
    reason="issue 4 target not met: this scraper's first request per identity looks like a "
    "person arriving from a shared link, and enough of them are served",
)
def test_scraper_rotating_200_ips_and_agents_gets_fewer_than_200_of_10000(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A scraper that sends Chrome's headers with matching client hints, keeps cookies, and
    moves to the next of 200 addresses (each in its own /24) and a new user agent every few
    requests, retrying refused ids, gets under 2% of what it asks for (the rate of fewer than
    200 of 10,000 records, measured over its first 2,500 requests to bound the test's time)."""
    app, log = guarded(resumes=RECORDS, model="shipped")  # the model is off by default
    rng = random.Random(58)
    queue = collections.deque(range(FIRST_ID, FIRST_ID + RECORDS))
    harvested: set[int] = set()
    attempts = 0
    addresses = itertools.cycle(f"127.20.{n}.1" for n in range(200))
    with live_server(app) as base:
        while queue and attempts < ATTEMPTS:
            address, agent = next(addresses), rng.choice(CHROMIUM_AGENTS)
            transport = httpx.HTTPTransport(local_address=address)
            with httpx.Client(
                base_url=base, headers=chrome_headers(agent), transport=transport
            ) as client:
                for _ in range(PER_IDENTITY):
                    if not queue:
                        break
                    record = queue.popleft()
                    clock.advance(0.05)
                    attempts += 1
                    response = client.get(f"/resume/{record}")
                    if response.status_code == 200 and PHONE.search(response.text):
                        harvested.add(record)
                    else:
                        queue.append(record)  # try it again from another address
                        break
    reasons = collections.Counter(
        reason for line in log.getvalue().splitlines() for reason in json.loads(line)["reasons"][:1]
    )
    print(f"harvested {len(harvested)} in {attempts} requests; first reasons {reasons}")
    assert attempts == ATTEMPTS
    assert len(harvested) < TARGET_SHARE * ATTEMPTS
