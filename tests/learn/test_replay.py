"""Tests for guard.learn.replay: simulated traffic through the whole guard, in process."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
import pytest

from guard.demo.app import create_demo_app
from guard.learn.replay import links, replay
from guard.learn.simulate import SimulationSpec, simulate
from guard.learn.visits import DEMO_SEED, Site

RESUMES = 2000
_LINK = re.compile(r'href="/resume/([0-9]+)"')


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/", ""),
        ("/resumes", ""),
        ("/resumes", "page=3"),
        ("/resumes", "page=100"),
        ("/resumes", "page=101"),
        ("/search", urlencode({"q": "Shanghai"})),
        ("/search", urlencode({"q": " wang wei "})),
        ("/jobs", ""),
    ],
)
async def test_the_simulated_site_shows_what_the_demo_shows(path: str, query: str) -> None:
    """Each page the simulated site answers links to the records the demo's page links to,
    in the demo's order."""
    app = create_demo_app(RESUMES, seed=DEMO_SEED)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        page = await client.get(f"{path}?{query}" if query else path)
    shown = [int(found) for found in _LINK.findall(page.text)]
    assert Site(RESUMES).shown(path, query) == list(dict.fromkeys(shown))


def test_links_are_what_the_discovery_scanner_reads() -> None:
    """The replay's page bodies link to each record as the demo's pages do."""
    assert links([100004, 100017]) == b'<a href="/resume/100004"><a href="/resume/100017">'


def test_people_reading_what_pages_showed_them_are_not_turned_back() -> None:
    """Replayed with the site's pages linking to their records, people and recruiters read
    what listings and searches showed them and are never turned back (people are not
    refused at all); replayed with empty pages, some young readers look as if nobody had
    shown them anything."""
    spec = SimulationSpec(seed=5, counts={"people": 60, "recruiters": 6}, resumes=RESUMES)
    events = simulate(spec)
    shown = replay(events, site=Site(RESUMES))
    assert len(shown["people"].sessions) > 60
    assert shown["people"].refused_sessions == set()
    assert sum(o.reasons["unlisted_record"] for o in shown.values()) == 0
    blank = replay(events)
    assert sum(o.reasons["unlisted_record"] for o in blank.values()) > 0
