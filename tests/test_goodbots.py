"""Verified good bots: published ranges, forward-confirmed reverse DNS, impostors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from guard.cli import main
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.errors import ConfigError
from guard.facts.client import parse_ip
from guard.goodbots import (
    DnsResolver,
    GoodBot,
    GoodBotVerifier,
    load_good_bots,
    update_good_bots,
)
from guard.middleware import GuardMiddleware
from guard.testing import call_asgi
from guard.testing.dns import LocalDnsServer

pytestmark = pytest.mark.anyio
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LOOPBACK = ("127.0.0.1", 40000)
PTR = "1.0.0.127.in-addr.arpa."
GENUINE = {
    (PTR, "PTR"): ["crawl-66-249-66-1.googlebot.com."],
    ("crawl-66-249-66-1.googlebot.com.", "A"): ["127.0.0.1"],
}


def verifier(server: LocalDnsServer) -> GoodBotVerifier:
    """A verifier asking the local server, with the shipped list of bots."""
    return GoodBotVerifier(load_good_bots(), DnsResolver(["127.0.0.1"], server.port, timeout=0.5))


def googlebot() -> GoodBot:
    """The shipped Googlebot entry."""
    return next(bot for bot in load_good_bots() if bot.name == "googlebot")


def test_the_shipped_list_names_the_big_search_engines() -> None:
    """Googlebot, Bingbot, Applebot, Baiduspider, YandexBot and DuckDuckBot are known."""
    names = {bot.name for bot in load_good_bots()}
    assert {"googlebot", "bingbot", "applebot", "baiduspider", "yandexbot", "duckduckbot"} <= names


async def test_published_ranges_verify_without_dns() -> None:
    """An address in Google's published range is Googlebot; loopback is not."""
    bots = GoodBotVerifier(load_good_bots())
    assert await bots.verify(googlebot(), parse_ip("66.249.66.1"))
    assert not await bots.verify(googlebot(), parse_ip("127.0.0.1"))


@pytest.mark.parametrize(
    ("records", "verified"),
    [
        (GENUINE, True),
        ({(PTR, "PTR"): ["crawl.googlebot.com."]}, False),  # no forward record
        (
            {
                (PTR, "PTR"): ["crawl.googlebot.com."],
                ("crawl.googlebot.com.", "A"): ["192.0.2.1"],  # forward to another address
            },
            False,
        ),
        (
            {
                (PTR, "PTR"): ["googlebot.com.evil.example."],  # the domain is a prefix only
                ("googlebot.com.evil.example.", "A"): ["127.0.0.1"],
            },
            False,
        ),
        (
            {(PTR, "PTR"): ["notgooglebot.com."], ("notgooglebot.com.", "A"): ["127.0.0.1"]},
            False,
        ),
        ({}, False),  # NXDOMAIN
    ],
)
async def test_forward_confirmed_reverse_dns(
    records: dict[tuple[str, str], list[str]], verified: bool
) -> None:
    """Only a PTR name under the engine's domain that resolves back to the address verifies
    (real dnspython lookups against a local DNS server)."""
    with LocalDnsServer(records).running() as server:
        result = await verifier(server).verify(googlebot(), parse_ip("127.0.0.1"))
    assert result is verified


async def test_answers_are_cached() -> None:
    """A second check of the same address asks nothing."""
    with LocalDnsServer(GENUINE).running() as server:
        bots = verifier(server)
        assert await bots.verify(googlebot(), parse_ip("127.0.0.1"))
        asked = server.queries
        assert await bots.verify(googlebot(), parse_ip("127.0.0.1"))
        assert server.queries == asked


async def test_a_silent_resolver_times_out_unverified() -> None:
    """A DNS server that never answers leaves the claim unverified within the timeout."""
    with LocalDnsServer(GENUINE, silent=True).running() as server:
        start = time.perf_counter()
        result = await verifier(server).verify(googlebot(), parse_ip("127.0.0.1"))
        took = time.perf_counter() - start
    assert result is False
    assert took < 3.0  # two lookups at most, each bounded by the 0.5 s timeout


def guard_with(server: LocalDnsServer, **settings: object) -> GuardMiddleware:
    """The demo behind a guard whose bot verification asks the local DNS server."""
    config = demo_config({"secret": "goodbots-secret-0123456789", **settings})
    app = GuardMiddleware(create_demo_app(100), config)
    app.guard.bots = verifier(server)
    return app


async def test_a_fake_googlebot_is_refused_everywhere() -> None:
    """A "Googlebot" from 127.0.0.1 with no Google DNS is refused on records and listings."""
    with LocalDnsServer({}).running() as server:
        app = guard_with(server)
        headers = {"user-agent": GOOGLEBOT, "accept": "text/html"}
        record = await call_asgi(app, "/resume/100001", headers=headers, client=LOOPBACK)
        listing = await call_asgi(app, "/resumes", headers=headers, client=LOOPBACK)
    assert (record.status, listing.status) == (403, 403)
    assert record.text.count("automated_traffic") == 1


async def test_a_verified_bot_crawls_listings_and_never_meets_a_challenge() -> None:
    """Googlebot verified by DNS is served on listings even with a gray threshold it would
    otherwise reach, and gets a 403 (never a challenge) on records robots.txt disallows."""
    with LocalDnsServer(GENUINE).running() as server:
        app = guard_with(server, thresholds={"gray": 0.05, "block": 0.9})
        headers = {"user-agent": GOOGLEBOT, "accept": "text/html"}
        listing = await call_asgi(app, "/resumes", headers=headers, client=LOOPBACK)
        record = await call_asgi(app, "/resume/100001", headers=headers, client=LOOPBACK)
    assert listing.status == 200
    assert record.status == 403
    assert app.guard.challenges.stats.issued == 0


def test_update_bots_takes_the_published_ranges(tmp_path: Path) -> None:
    """`guard update-bots` replaces a bot's ranges with its operator's published list, and
    the guard uses the written file."""
    published = tmp_path / "googlebot.json"
    published.write_text(
        json.dumps(
            {
                "creationTime": "2026-11-01T00:00:00",
                "prefixes": [{"ipv4Prefix": "192.0.2.0/24"}, {"ipv6Prefix": "2001:db8::/32"}],
            }
        )
    )
    out = tmp_path / "bots.json"
    assert main(["update-bots", "--bot", "googlebot", str(published), "--out", str(out)]) == 0
    bots = {bot.name: bot for bot in load_good_bots(out)}
    assert [str(r) for r in bots["googlebot"].ranges] == ["192.0.2.0/24", "2001:db8::/32"]
    assert bots["bingbot"].ranges  # the others are kept


def test_update_bots_refuses_unknown_bots_and_bad_files(tmp_path: Path) -> None:
    """An unknown bot name or a file that is not a published range list is a clear error."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"nothing": []}')
    with pytest.raises(ConfigError, match="unknown bot"):
        update_good_bots([("nosuchbot", bad)])
    with pytest.raises(ConfigError, match="not a published range list"):
        update_good_bots([("googlebot", bad)])


async def test_a_claim_that_cannot_be_checked_is_no_impostor() -> None:
    """Without DNS, a YandexBot (no published ranges shipped) is judged as a plain declared
    bot: served on listings, refused on records like any crawler."""
    app = GuardMiddleware(
        create_demo_app(100), demo_config({"secret": "goodbots-secret-0123456789"})
    )
    yandex = {"user-agent": "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"}
    listing = await call_asgi(app, "/resumes", headers=yandex, client=("5.255.253.1", 1))
    record = await call_asgi(app, "/resume/100001", headers=yandex, client=("5.255.253.1", 1))
    assert (listing.status, record.status) == (200, 403)
