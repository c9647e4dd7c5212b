"""Harvesting campaigns: a scraper operator's configurable run against a guarded site.

Real clients over loopback, each identity its own source address (a distinct /24 inside
127.0.0.0/8), its own Chrome user agent and connection, optionally its own cookie jar,
browser assets, a native proof-of-work solver and a bought login. For tests and
``benchmarks/attack_matrix.py``; needs httpx (the ``dev`` extra).

* :mod:`~guard.testing.campaigns.spec`: what a campaign does (:class:`CampaignSpec`) and
  what it got (:class:`CampaignResult`).
* :mod:`~guard.testing.campaigns.solver`: the native proof-of-work solver.
* :mod:`~guard.testing.campaigns.identity`: one identity's requests, as a scraper sends them.
* :mod:`~guard.testing.campaigns.state`: the ids, budget and result the identities share.
* :mod:`~guard.testing.campaigns.runner`: :func:`run_campaign`, the workers and solvers.
"""

from __future__ import annotations

from guard.testing.campaigns.identity import ACCOUNTS, AGENTS, PASSWORD, SESSION_COOKIE
from guard.testing.campaigns.runner import run_campaign
from guard.testing.campaigns.solver import solve_challenge
from guard.testing.campaigns.spec import (
    CampaignResult,
    CampaignSpec,
    HeaderStyle,
    Order,
    campaign_address,
)
from guard.testing.campaigns.state import PAGE_SIZE

__all__ = [
    "ACCOUNTS",
    "AGENTS",
    "PAGE_SIZE",
    "PASSWORD",
    "SESSION_COOKIE",
    "CampaignResult",
    "CampaignSpec",
    "HeaderStyle",
    "Order",
    "campaign_address",
    "run_campaign",
    "solve_challenge",
]
