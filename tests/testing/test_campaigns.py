"""Harvesting campaigns (``guard.testing.campaigns``) against the demo on a real uvicorn."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import sys

import pytest

from guard.challenge.work import solves
from guard.demo.app import create_demo_app
from guard.testing import live_server
from guard.testing.campaigns import (
    CampaignSpec,
    campaign_address,
    run_campaign,
    solve_challenge,
    solver,
)
from tests.conftest import GuardedFactory, expose

pytestmark = pytest.mark.e2e
FIRST_ID, RECORDS = 100000, 1_000
DEADLINE = 120.0  # generous: the campaigns here take a second or two on an idle machine
CHALLENGE_EVERY_READ = {
    # Any finding reaches the gray zone, and Chrome's user agent without fetch metadata
    # (the "basic" headers) is one on every page over loopback (a secure context).
    "thresholds": {"gray": 0.0, "block": 1.0},
    "challenge_difficulty": 8,
}


def test_addresses_are_distinct_slash_24s_inside_loopback() -> None:
    """Every address of a campaign is in its own /24, all inside 127.0.0.0/8."""
    addresses = [ipaddress.IPv4Address(campaign_address(n)) for n in range(2_000)]
    assert all(a in ipaddress.IPv4Network("127.0.0.0/8") for a in addresses)
    networks = {ipaddress.IPv4Network(f"{a}/24", strict=False) for a in addresses}
    assert len(networks) == len(addresses)
    assert campaign_address(0) == "127.20.0.1"
    assert campaign_address(251) == "127.21.1.1"


def test_spec_refuses_impossible_campaigns() -> None:
    """A campaign without addresses, or reading no records per address, is refused."""
    with pytest.raises(ValueError, match="addresses"):
        CampaignSpec(addresses=0)
    with pytest.raises(ValueError, match="per_address"):
        CampaignSpec(per_address=0)


def test_native_solver_finds_what_the_guard_accepts() -> None:
    """The campaign's own solver finds a counter the guard's check accepts, and counts
    the CPU it spent."""
    counter, cpu = solve_challenge("c2|token-for-a-test", 10)
    assert solves("c2|token-for-a-test", counter, 10)
    assert cpu >= 0.0


def test_native_solver_runs_alone_on_the_standard_library() -> None:
    """The solver's file runs as a script with no site-packages (as the load tests run it,
    apart from their event loop) and prints the counter it finds in-process."""
    command = [sys.executable, "-I", "-S", str(solver.__file__), "c2|token-for-a-test", "10"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    assert int(done.stdout) == solve_challenge("c2|token-for-a-test", 10)[0]


def test_solving_campaign_is_served_records(guarded: GuardedFactory) -> None:
    """Where every record read is challenged, a campaign that solves the proofs of work
    natively passes them and is served records, and its solver's CPU is counted."""
    app, _ = guarded(resumes=RECORDS, **CHALLENGE_EVERY_READ)
    spec = CampaignSpec(addresses=4, per_address=5, headers="basic", solve=True, tries=20)
    with live_server(app) as base:
        result = run_campaign(base, spec, FIRST_ID, RECORDS, deadline=DEADLINE, workers=4)
    assert result.tried == 20
    assert result.challenges > 0
    assert result.solves > 0
    assert result.harvested
    assert result.pow_cpu_seconds > 0.0
    assert app.guard.challenges.stats.passed == result.solves


def test_campaign_that_does_not_solve_is_served_nothing(guarded: GuardedFactory) -> None:
    """The same campaign without a solver is served no record; each refused id is tried
    once more from a fresh identity, never a third time, and both tries are counted."""
    app, _ = guarded(resumes=RECORDS, **CHALLENGE_EVERY_READ)
    # Shown to someone: each refusal is then the challenge, not a turn back to the listings.
    asyncio.run(expose(app, range(FIRST_ID, FIRST_ID + RECORDS)))
    spec = CampaignSpec(addresses=4, per_address=5, headers="basic", tries=20)
    with live_server(app) as base:
        result = run_campaign(base, spec, FIRST_ID, RECORDS, deadline=DEADLINE, workers=4)
    assert not result.harvested
    assert result.solves == 0
    assert result.pow_cpu_seconds == 0.0
    assert result.tried == sum(result.asked.values()) == 20
    assert result.statuses == {429: 20}
    assert result.challenges == 20
    assert max(result.asked.values()) == 2


def test_listing_campaign_reads_only_ids_its_listings_showed(guarded: GuardedFactory) -> None:
    """In listing order a campaign reads only ids the listing pages it fetched showed,
    which are the site's newest resumes, not ids it made up."""
    app, _ = guarded(resumes=RECORDS, mode="shadow")  # judged, never refused
    spec = CampaignSpec(addresses=10, per_address=3, order="listing", assets=True, tries=30)
    with live_server(app) as base:
        result = run_campaign(base, spec, FIRST_ID, RECORDS, deadline=DEADLINE, workers=4)
    store = create_demo_app(RECORDS).state.resume_store  # the same seed: the same resumes
    newest = {resume.id for resume in store.newest(0, 200)}
    assert result.tried == 30
    assert set(result.asked) <= result.listed <= newest
    assert result.harvested == set(result.asked)
    assert result.requests > 30 + 10  # listings and assets as well as records


def test_sequential_campaign_walks_ids_upward(guarded: GuardedFactory) -> None:
    """In sequential order a campaign reads the ids from the first one upward."""
    app, _ = guarded(resumes=RECORDS, mode="shadow")
    spec = CampaignSpec(addresses=5, per_address=4, order="sequential", cookies=False, tries=20)
    with live_server(app) as base:
        result = run_campaign(base, spec, FIRST_ID, RECORDS, deadline=DEADLINE, workers=4)
    assert set(result.asked) == set(range(FIRST_ID, FIRST_ID + 20))
    assert result.harvested == set(result.asked)
