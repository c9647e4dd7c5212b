"""Two `guard demo` processes share one Redis: one budget, one profile, one verdict.

Also the guard on a 3-master Redis Cluster, end to end.
"""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import httpx
import pytest

from guard import GuardMiddleware
from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.testing import ManualClock, chrome_headers, live_server
from guard.testing.redis import RedisClusterProcess
from tests.conftest import SECRET
from tests.e2e.test_cli_demo import demo

pytestmark = pytest.mark.e2e
PHONE = re.compile(r'class="phone"')


def write_config(tmp_path: Path, prefix: str, **tables: str) -> Path:
    """A config file with a shared secret, its own key prefix and the given TOML tables."""
    path = tmp_path / f"{prefix}.toml"
    body = "\n".join(f"[{name}]\n{text}" for name, text in tables.items())
    # The model is off: these tests count what budgets let through across workers.
    path.write_text(f'secret = "{SECRET}"\nkey_prefix = "{prefix}"\nmodel = "off"\n{body}\n')
    return path


LINK = re.compile(r'href="/resume/(\d+)"')


def harvest(bases: list[str], ids: list[int] | int, headers: dict[str, str], seed: int = 3) -> int:
    """Fetch records round-robin across the servers; count the records actually served.

    ``ids`` as a number: first fetch the first listing pages from every server, then read
    that many of the records they showed, in a random order (a harvester following
    listings, so that only budgets, not records nobody showed it, stop it)."""
    clients = [httpx.Client(base_url=base, headers=headers) for base in bases]
    try:
        if isinstance(ids, int):
            shown: set[int] = set()
            for client, page in itertools.product(clients, (1, 2, 3)):
                shown.update(map(int, LINK.findall(client.get(f"/resumes?page={page}").text)))
            ids = random.Random(seed).sample(sorted(shown), ids)
        served = 0
        for client, record in zip(itertools.cycle(clients), ids, strict=False):
            response = client.get(f"/resume/{record}")
            served += response.status_code == 200 and bool(PHONE.search(response.text))
        return served
    finally:
        for client in clients:
            client.close()


def test_two_workers_enforce_one_budget(redis_url: str, tmp_path: Path) -> None:
    """A scraper alternating between two workers gets one budget's worth, not two."""
    budget = 'budgets = { ip = ["12/hour"] }\n'
    config = write_config(
        tmp_path,
        "workers-budget",
        **{"thresholds": "gray = 1.0\nblock = 1.0", "routes.sensitive": budget},
    )
    with (
        demo("--config", str(config), "--redis-url", redis_url) as one,
        demo("--config", str(config), "--redis-url", redis_url) as two,
    ):
        served = harvest([one, two], 40, chrome_headers())
    assert served == 12


def test_workers_without_shared_state_would_each_give_a_budget(tmp_path: Path) -> None:
    """The contrast: with per-process memory stores the same scraper gets twice as much."""
    config = write_config(
        tmp_path,
        "workers-memory",
        **{
            "thresholds": "gray = 1.0\nblock = 1.0",
            "routes.sensitive": 'budgets = { ip = ["12/hour"] }\n',
        },
    )
    with demo("--config", str(config)) as one, demo("--config", str(config)) as two:
        served = harvest([one, two], 40, chrome_headers())
    assert served == 24


def test_alternating_scraper_is_stopped_as_fast_as_on_one_worker(
    redis_url: str, tmp_path: Path
) -> None:
    """With the shipped policy, a Chrome-spoofing sequential scraper is stopped as soon
    across two workers as on one: the client profile lives in Redis."""
    ids = list(range(100000, 100060))
    single = write_config(tmp_path, "workers-single")
    double = write_config(tmp_path, "workers-double")
    with demo("--config", str(single), "--redis-url", redis_url) as base:
        alone = harvest([base], ids, chrome_headers())
    with (
        demo("--config", str(double), "--redis-url", redis_url) as one,
        demo("--config", str(double), "--redis-url", redis_url) as two,
    ):
        alternating = harvest([one, two], ids, chrome_headers())
    assert alone < 20
    assert alternating <= alone + 1


def test_the_guard_on_a_redis_cluster(redis_cluster: RedisClusterProcess) -> None:
    """On a 3-master cluster a scraper is stopped and a budget holds across actors' slots."""
    clock = ManualClock()
    config = demo_config(
        {
            "secret": SECRET,
            "store": f"{redis_cluster.url}?timeout=1",
            "key_prefix": "cluster-e2e",
            "model": "off",
            "routes": {"sensitive": {"budgets": {"identity": ["15/hour"]}}},
            "thresholds": {"gray": 0.9, "block": 0.9},
        }
    )
    app = GuardMiddleware(create_demo_app(1000), config, clock=clock)
    served = 0
    with live_server(app) as base:
        login = httpx.post(f"{base}/login", data={"username": "employer3", "password": "demo-pass"})
        cookies = {"session": login.cookies["session"]}
        for n, record in enumerate(random.Random(9).sample(range(100000, 101000), 30)):
            clock.advance(4)
            transport = httpx.HTTPTransport(local_address=f"127.0.0.{20 + n % 10}")
            with httpx.Client(base_url=base, transport=transport, cookies=cookies) as client:
                served += (
                    client.get(f"/resume/{record}", headers=chrome_headers()).status_code == 200
                )
        bot = httpx.get(f"{base}/resume/100001", headers={"user-agent": "Scrapy/2.11"})
    assert served == 15
    assert bot.status_code == 403
