"""User agents through the middleware: declared crawlers refused on records, browsers served."""

from __future__ import annotations

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from guard.testing import call_asgi
from tests.browser_agents import BROWSER_AGENTS
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.anyio
ORDINARY = {
    "accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "accept-language": "en-US,en;q=0.9",
    "accept-encoding": "gzip, deflate, br",
}


async def test_every_declared_crawler_example_is_refused_on_records(
    guarded: GuardedFactory,
) -> None:
    """Each example UA in crawler-user-agents, from its own IP, is refused a resume page."""
    app, _ = guarded()
    served = []
    examples = [ua for entry in CRAWLER_USER_AGENTS_DATA for ua in entry.get("instances", [])]
    assert len(examples) > 1000
    for n, ua in enumerate(examples):
        client = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", 1)
        reply = await call_asgi(
            app, "/resume/100001", headers={**ORDINARY, "user-agent": ua}, client=client
        )
        if reply.status == 200:
            served.append(ua)
    assert served == []


@pytest.mark.parametrize("ua", BROWSER_AGENTS)
async def test_real_browsers_are_served_on_their_first_visit(
    guarded: GuardedFactory, ua: str
) -> None:
    """A real browser UA with ordinary headers reads a record on its first visit."""
    app, _ = guarded()
    reply = await call_asgi(app, "/resume/100001", headers={**ORDINARY, "user-agent": ua})
    assert reply.status == 200
    assert 'class="phone"' in reply.text


async def test_declared_crawlers_may_read_public_listings(guarded: GuardedFactory) -> None:
    """Robots.txt allows listings, so honest crawlers are served there: Bingbot from Bing's
    published range, and a crawler that claims no search engine; a "Bingbot" from any other
    address is an impostor and refused."""
    app, _ = guarded()
    bing = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
    headers = {**ORDINARY, "user-agent": bing}
    reply = await call_asgi(app, "/resumes?page=2", headers=headers, client=("157.55.39.10", 1))
    assert reply.status == 200
    other = {**ORDINARY, "user-agent": "Mozilla/5.0 (compatible; AhrefsBot/7.0)"}
    assert (await call_asgi(app, "/resumes?page=2", headers=other)).status == 200
    impostor = await call_asgi(app, "/resumes?page=2", headers=headers)
    assert impostor.status == 403
