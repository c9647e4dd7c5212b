"""Tests for guard.learn.simulate: labelled traffic that looks like its families."""

from __future__ import annotations

import inspect
import ipaddress
import itertools
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable

import httpx
import pytest

from guard.demo.app import ROBOTS_TXT, create_demo_app
from guard.demo.config import demo_config
from guard.demo.draws import FIRST_RESUME_ID
from guard.facts import FactExtractor
from guard.learn.events import Event
from guard.learn.families import GENERATORS
from guard.learn.simulate import (
    FAMILIES,
    SimulationSpec,
    default_spec,
    simulate,
    simulate_family,
)
from guard.learn.visits import ASSET_MAX_AGE, DEMO_SEED, PAGE_ASSETS, RESUME_ASSETS, Site
from guard.signals.base import Report
from guard.signals.headers import HeaderSignal
from guard.signing import Signer

SPEC = default_spec(seed=11, scale=0.05)
SMALL = SimulationSpec(seed=3, counts=dict.fromkeys(FAMILIES, 2), resumes=2000)
EXTRACTOR = FactExtractor(demo_config({}), Signer(b"k" * 32))
DISALLOWED = tuple(line.split(": ", 1)[1] for line in ROBOTS_TXT.splitlines() if "Disallow" in line)
_RECORD = re.compile(r"/resume/(\d+)")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    """The traffic of the test spec (5% of the default volume)."""
    return simulate(SPEC)


def of(events: Iterable[Event], family: str) -> list[Event]:
    """The events of one family."""
    return [event for event in events if event.family == family]


def by_actor(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Events grouped by actor, each group in time order."""
    groups: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        groups[event.actor].append(event)
    return groups


def record_id(event: Event) -> int | None:
    """The resume id an HTML record request names."""
    found = _RECORD.fullmatch(event.path)
    return int(found.group(1)) if found else None


def header_findings(event: Event) -> list[str]:
    """What HeaderSignal finds in an event's request."""
    report = Report()
    HeaderSignal().judge(EXTRACTOR.extract(event.scope(), event.time), (), report)
    return [finding.reason for finding in report.findings]


def test_same_spec_gives_same_events() -> None:
    """A spec always yields the same events; another seed yields others."""
    first = simulate(SMALL)
    assert first == simulate(SMALL)
    other = simulate(SimulationSpec(seed=4, counts=SMALL.counts, resumes=2000))
    assert first != other


def test_families_appear_with_their_labels(events: list[Event]) -> None:
    """Every family is there; only people, recruiters and search engines are not bots."""
    labels = {event.family: event.bot for event in events}
    assert set(labels) == set(FAMILIES) == set(GENERATORS)
    assert {family for family, bot in labels.items() if not bot} == {
        "people",
        "recruiters",
        "search_engines",
    }
    assert all(event.actor.startswith(event.family) for event in events)


def test_events_are_in_time_order_within_the_span(events: list[Event]) -> None:
    """Events come sorted by time, and actors start within the simulated span."""
    times = [event.time for event in events]
    assert times == sorted(times)
    firsts = [group[0].time for group in by_actor(events).values()]
    assert all(SPEC.start <= t < SPEC.start + SPEC.duration for t in firsts)


def test_default_spec_counts() -> None:
    """The default mix matches the documented one, and scaling keeps every family."""
    counts = default_spec().counts
    assert counts["people"] == 3000
    assert counts["recruiters"] == 300
    assert counts["distributed"] == 10
    assert all(150 <= counts[f] <= 300 for f in FAMILIES if f not in {"people", "distributed"})
    assert min(default_spec(scale=0.001).counts.values()) == 1


def test_bad_specs_are_refused() -> None:
    """Unknown families, negative counts and an empty site are errors, not silence."""
    with pytest.raises(ValueError, match="unknown"):
        simulate(SimulationSpec(seed=1, counts={"martians": 3}))
    with pytest.raises(ValueError, match="unknown"):
        simulate_family("martians", 1, random.Random(1), SPEC)
    with pytest.raises(ValueError, match="negative"):
        SimulationSpec(seed=1, counts={"people": -1})
    with pytest.raises(ValueError, match="at least one resume"):
        SimulationSpec(seed=1, counts={}, resumes=0)


def test_search_engines_read_and_obey_robots_txt(events: list[Event]) -> None:
    """Crawlers fetch robots.txt first and never a path it disallows."""
    crawlers = by_actor(of(events, "search_engines"))
    assert crawlers
    assert all(group[0].path == "/robots.txt" for group in crawlers.values())
    assert "/login" in DISALLOWED
    assert not [e.path for e in of(events, "search_engines") if e.path.startswith(DISALLOWED)]


def test_enumerators_mostly_step_by_one(events: list[Event]) -> None:
    """Consecutive record ids of an enumerator mostly differ by exactly one."""
    steps: Counter[int] = Counter()
    for group in by_actor(of(events, "enumerators")).values():
        ids = [i for i in map(record_id, group) if i is not None]
        steps.update(abs(b - a) for a, b in itertools.pairwise(ids))
    assert steps[1] / steps.total() > 0.9


def test_people_load_page_assets_unless_cached(events: list[Event]) -> None:
    """Every page a person opens loads its assets, or has them fresh in the cache."""
    for group in by_actor(of(events, "people")).values():
        fetched: dict[str, list[float]] = defaultdict(list)
        for event in group:
            fetched[event.path].append(event.time)
        for page in (e for e in group if not e.path.startswith("/static/")):
            resume = page.path.startswith("/resume/") and page.status == 200
            for asset, _ in RESUME_ASSETS if resume else PAGE_ASSETS:
                times = fetched[asset]
                assert any(page.time - ASSET_MAX_AGE <= t <= page.time + 0.4 for t in times)


def test_asset_loads_follow_their_page_quickly(events: list[Event]) -> None:
    """A browser asks for assets 20-400 ms after the page, referred by the page."""
    for group in by_actor(of(events, "people")).values():
        page: Event | None = None
        for event in group:
            if not event.path.startswith("/static/"):
                page = event
                continue
            assert page is not None
            assert 0.02 <= event.time - page.time <= 0.4
            url = f"{page.path}?{page.query}" if page.query else page.path
            assert (event.header("referer") or "").endswith(url)


@pytest.mark.parametrize(
    "family", ["people", "recruiters", "low_and_slow", "distributed", "account_scrapers"]
)
def test_browsers_raise_no_header_findings(events: list[Event], family: str) -> None:
    """Real browsers, and bots that use real browsers' headers, look consistent; one whose
    fetch metadata never arrives (an old browser, a privacy proxy) raises only that."""
    sent = of(events, family)
    assert sent
    assert [e for e in sent if header_findings(e) and e.header("sec-fetch-site")] == []
    assert {r for e in sent for r in header_findings(e)} <= {"no_fetch_metadata"}


def test_some_people_browse_without_fetch_metadata(events: list[Event]) -> None:
    """A few people's browsers send no fetch metadata or client hints: old browsers, and
    current ones behind a proxy that strips them."""
    agents = {
        e.header("user-agent") or "": e.header("sec-fetch-site") is None
        for e in of(events, "people")
        if not e.path.startswith("/static/")
    }
    stripped = [agent for agent, bare in agents.items() if bare]
    assert 0.02 < len(stripped) / len(agents) < 0.2
    assert any(re.search(r"Chrome/7[45]\.|Firefox/78\.|Version/1[45]\.", a) for a in stripped)
    assert any(re.search(r"(?:Chrome|CriOS|Firefox)/1[23][0-9]\.", a) for a in stripped)


def test_clumsy_spoofers_are_visible_in_headers(events: list[Event]) -> None:
    """Some enumerators copy only a browser's User-Agent, and HeaderSignal sees it."""
    found = Counter(r for e in of(events, "enumerators") for r in header_findings(e))
    assert found["no_fetch_metadata"] > 0


def test_distributed_identities_are_brief_and_spread(events: list[Event]) -> None:
    """Each identity of a campaign makes a few requests, from many different /24s."""
    identities: Counter[tuple[str, str]] = Counter(
        (e.client_ip, e.header("user-agent") or "") for e in of(events, "distributed")
    )
    assert len(identities) > 200
    assert sum(n <= 7 for n in identities.values()) / len(identities) > 0.97
    networks = {ipaddress.ip_network(f"{ip}/24", strict=False) for ip, _ in identities}
    assert len(networks) > 0.8 * len(identities)
    assert not [e for e in of(events, "distributed") if e.path.startswith("/static/")]


def test_statuses_match_the_site(events: list[Event]) -> None:
    """Statuses follow the site: 404 past the ids, 303 for a login, 304 on revalidation."""
    site = Site(SPEC.resumes)
    last = FIRST_RESUME_ID + SPEC.resumes - 1
    for event in events:
        if event.status == 304:
            assert event.path.startswith("/static/")
            assert event.header("if-none-match")
        else:
            assert event.status == site.status(event.method, event.path, event.query)
        number = record_id(event)
        if number is not None and number > last:
            assert event.status == 404
    statuses = Counter(event.status for event in events)
    assert statuses[404] > 0
    assert statuses[303] > 0


@pytest.mark.anyio
async def test_demo_app_answers_as_simulated(events: list[Event]) -> None:
    """The real demo app gives a sample of the simulated GETs the simulated status."""
    assert inspect.signature(create_demo_app).parameters["seed"].default == DEMO_SEED
    sample = {(e.path, e.query): e.status for e in events if e.method == "GET" and e.status != 304}
    transport = httpx.ASGITransport(app=create_demo_app(SPEC.resumes))
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        for (path, query), status in random.Random(1).sample(sorted(sample.items()), 150):
            response = await client.get(f"{path}?{query}" if query else path)
            assert response.status_code == status, (path, query)
        listing = (await client.get("/resumes?page=3")).text
    linked = [int(i) for i in re.findall(r'href="/resume/(\d+)"', listing)]
    assert linked == Site(SPEC.resumes).listed(3)


def test_cookies_follow_the_convention(events: list[Event]) -> None:
    """No cookie before a client's first page; a logged-in recruiter sends its session."""
    for group in by_actor(of(events, "people")).values():
        assert group[0].header("cookie") is None
    for group in by_actor(of(events, "recruiters")).values():
        login = next(i for i, e in enumerate(group) if e.method == "POST")
        assert all("session=employer" in (e.header("cookie") or "") for e in group[login + 1 :])
    api = of(events, "api_scrapers")
    assert not [e for e in api if e.header("cookie")]
    assert all("json" in (e.header("accept") or "") for e in api)


def test_harvesters_touch_traps_and_people_do_not(events: list[Event]) -> None:
    """Listing crawlers follow the hidden link and ignore robots.txt; people do neither."""
    crawled = {e.path for e in of(events, "listing_crawlers")}
    assert "/resumes/all" in crawled
    assert not [e for e in of(events, "people") if e.path in {"/resumes/all", "/robots.txt"}]


def test_addresses_are_public(events: list[Event]) -> None:
    """No simulated address is private, loopback or reserved, and some people use IPv6."""
    addresses = {event.client_ip for event in events}
    assert all(ipaddress.ip_address(address).is_global for address in addresses)
    assert any(":" in e.client_ip for e in of(events, "people"))


def test_people_come_at_any_hour_mostly_by_day(events: list[Event]) -> None:
    """Some people's pages are at night (UTC): other time zones, night shifts, no pattern;
    fewer than of harvesters that run around the clock."""

    def night_share(family: str) -> float:
        pages = [e for e in of(events, family) if not e.path.startswith("/static/")]
        return sum(time.gmtime(e.time).tm_hour < 6 for e in pages) / len(pages)

    assert 0.08 < night_share("people") < 0.35
    assert night_share("people") < night_share("enumerators")


def test_people_read_at_every_pace(events: list[Event]) -> None:
    """People's median pause between pages ranges from about a second to minutes."""
    medians = []
    for group in by_actor(of(events, "people")).values():
        times = [e.time for e in group if not e.path.startswith("/static/")]
        gaps = sorted(b - a for a, b in itertools.pairwise(times) if b - a < 1800)
        if len(gaps) >= 3:
            medians.append(gaps[len(gaps) // 2])
    assert min(medians) < 3.0
    assert max(medians) > 120.0
    assert all(gap >= 1.0 for gap in medians)


def test_small_scale_is_quick() -> None:
    """Five percent of the default volume simulates in well under ten seconds."""
    began = time.perf_counter()
    assert len(simulate(default_spec(seed=5, scale=0.05))) > 5000
    assert time.perf_counter() - began < 10
