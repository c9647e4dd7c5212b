"""Workers of one site for the admin tests: guards sharing a Redis under one key prefix."""

from __future__ import annotations

from guard.demo.app import create_demo_app
from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.testing import ManualClock
from tests.conftest import SECRET


def worker(redis_url: str, prefix: str, clock: ManualClock, token: str) -> GuardMiddleware:
    """One worker of a site whose guards share ``redis_url`` under ``prefix``, with the
    admin ``token``."""
    config = demo_config(
        {
            "secret": SECRET,
            "admin_token": token,
            "store": f"{redis_url}?timeout=1",
            "key_prefix": prefix,
            "model": "off",
        }
    )
    return GuardMiddleware(create_demo_app(200), config, clock=clock)
