"""Judging logged requests through the guard's own engine, on the log's clock.

A log holds less than a request: no ``Accept-*`` headers, fetch metadata or client hints,
no cookies, no response bodies, and no client that could answer a challenge. Replay judges
a log on what it holds: the signals and findings that need what a log lacks are off
(:data:`LOG_BLIND` names them), never counted as missing. Everything else is the engine
that serves: facts, lists, rate limits, budgets, user agents, behaviour, campaigns, address
strikes and the model, with an in-memory store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from guard.config import GuardConfig
from guard.engine import Decision, Guard
from guard.learn.events import Event
from guard.signals import order_signals
from guard.signals.headers import HeaderSignal

LOG_BLIND: Mapping[str, str] = {
    "request headers": "Accept-*, fetch metadata and client hints are not logged",
    "cookies": "the guard's cookie is not logged; judged as in shadow mode, where it is kept",
    "records shown": "a log holds no response bodies, so no listing showed anything",
    "challenges": "a logged client cannot answer one; its later requests are judged as they came",
}
"""What replay cannot see in a combined-format log, and why the signals that need it are off."""


class _LogClock:
    """The log's clock: the time of the line being judged, never going back (a server
    writes a line when the response ends, so lines are a little out of order)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def move_to(self, when: float) -> None:
        self.now = max(self.now, when)


def log_config(config: GuardConfig) -> GuardConfig:
    """``config`` as replay runs it: in shadow mode (no cookie is set, so none is missed),
    no page showing records (no bodies), verified crawlers by their published ranges (no
    DNS), an in-memory store and no decision log."""
    routes = tuple(dataclasses.replace(route, shows_records=False) for route in config.routes)
    return dataclasses.replace(
        config,
        mode="shadow",
        routes=routes,
        store_url="memory://",
        verify_bots="off" if config.verify_bots == "off" else "ranges",
        decision_log=None,
    )


def blind_spots(headers_logged: bool) -> dict[str, str]:
    """What replay cannot see in a log: all of :data:`LOG_BLIND`, less the request headers
    when the log holds them."""
    return {k: v for k, v in LOG_BLIND.items() if not (headers_logged and k == "request headers")}


class LogJudge:
    """One guard judging a log's requests in order.

    Args:
        config: the guard's config as it serves (replay adapts it with :func:`log_config`).
        headers_logged: the log holds the request headers (a JSON log with ``http_accept``
            and the like): the header signal runs.
    """

    def __init__(self, config: GuardConfig, headers_logged: bool = False) -> None:
        self.clock = _LogClock()
        self.guard = Guard(log_config(config), clock=self.clock)
        if not headers_logged:
            # Header findings need headers a log does not hold: without them every logged
            # browser would look like a script that sends none.
            self.guard.signals = order_signals(
                tuple(s for s in self.guard.signals if not isinstance(s, HeaderSignal))
            )

    async def judge(self, event: Event) -> Decision:
        """The guard's decision on one logged request, its state updated with the status
        the site answered."""
        self.clock.move_to(event.time)
        decision = await self.guard.decide(event.scope())
        await self.guard.settle(decision, event.status)
        return decision

    async def aclose(self) -> None:
        """Release the store."""
        await self.guard.aclose()
