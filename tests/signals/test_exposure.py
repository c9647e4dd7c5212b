"""Tests for guard.signals.exposure: the records the site showed anyone lately."""

from __future__ import annotations

import re

import pytest

from guard.demo.config import demo_config
from guard.engine import Guard
from guard.signals.exposure import (
    BUCKETS,
    CRAWLED_TTL,
    LOCAL_NOTES,
    TTL,
    Exposure,
    Shown,
    exposure_key,
)
from guard.store.base import ValueGet
from guard.testing import ManualClock, chrome_headers
from tests.conftest import SECRET

pytestmark = pytest.mark.anyio


def test_markers_are_written_again_only_after_a_quarter_of_their_life() -> None:
    """A process writes a record's marker once, again only after TTL / 4, and forgets
    what it wrote past LOCAL_NOTES rather than growing."""
    exposure = Exposure("t")
    assert [op.key for op in exposure.mark(["7", "8"], 1000.0)] == [
        exposure_key("t", "7"),
        exposure_key("t", "8"),
    ]
    assert exposure.mark(["7", "8"], 1000.0 + TTL / 8) == []
    assert len(exposure.mark(["7"], 1000.0 + TTL / 4)) == 1
    exposure.mark((str(n) for n in range(LOCAL_NOTES + 10)), 5000.0)
    assert len(exposure._written) <= LOCAL_NOTES


def test_markers_share_a_few_hash_tags() -> None:
    """On Redis Cluster a listing's markers go to at most BUCKETS slots."""
    tags = {re.search(r"\{[^}]*\}", exposure_key("g", str(n))).group(0) for n in range(2000)}  # type: ignore[union-attr]
    assert len(tags) == BUCKETS


async def test_a_verified_crawlers_read_exposes_the_record(clock: ManualClock) -> None:
    """A record served to a verified search engine crawler is marked shown (people land on
    it from the results); one served to anyone else is not."""
    guard = Guard(demo_config({"secret": SECRET, "model": "off"}), clock=clock)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/resume/100321",
        "raw_path": b"/resume/100321",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in chrome_headers().items()],
        "client": ("66.249.66.1", 1),
        "server": ("testserver", 80),
        "scheme": "http",
        "root_path": "",
    }
    key = exposure_key(guard.config.key_prefix, "100321")
    person = await guard.decide(scope)
    await guard.settle(person, 200)
    assert await guard.store.execute([ValueGet(key, Shown)], clock()) == [None]
    crawler = await guard.decide(scope)
    crawler.facts.verified_bot = True
    await guard.settle(crawler, 200)
    assert isinstance((await guard.store.execute([ValueGet(key, Shown)], clock()))[0], Shown)
    clock.advance(CRAWLED_TTL - 60)  # the results link to it for weeks
    assert isinstance((await guard.store.execute([ValueGet(key, Shown)], clock()))[0], Shown)
    await guard.aclose()
