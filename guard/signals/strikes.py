"""Address strikes: an address whose client was just blocked for its behaviour stays suspect.

A scraper that rotates user agents on the same addresses starts a fresh client profile with
each new agent; the address remembers. A strike is soft evidence (people can share an address
behind a NAT), enough to refuse only together with something else, such as a campaign of
new clients reading records.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from guard.facts import Facts
from guard.policy import Policy
from guard.signals.base import BaseSignal, Report
from guard.store.base import Op, Result, ValueGet, ValuePut, actor_key
from guard.types import Action

STRIKE_WEIGHT = 0.45
STRIKE_TTL = 3600.0
_NOT_OWN_EVIDENCE = ("flagged_address", "campaign")
_LAYOUT = struct.Struct("<d")


@dataclass(frozen=True, slots=True)
class Strike:
    """When a client at the address was last blocked for how it behaved."""

    at: float

    def pack(self) -> bytes:
        """Eight bytes: the time."""
        return _LAYOUT.pack(self.at)

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack`."""
        return cls(_LAYOUT.unpack(data)[0])


class AddressStrikeSignal(BaseSignal):
    """Marks an address for an hour when a request from it is blocked on its own evidence
    (score at or above ``block``, not a budget or rate limit), and reports the mark on its
    later requests for records.

    Args:
        prefix: the store key prefix.
        policy: the live policy (its block threshold and weights, read at each request).
    """

    def __init__(self, prefix: str, policy: Policy) -> None:
        self.prefix = prefix
        self.policy = policy

    def _key(self, facts: Facts) -> str:
        return actor_key(self.prefix, "ip", facts.actors["ip"], "s")

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        if not facts.route.route_class.sensitive or facts.client_ip is None:
            return ()
        return (ValueGet(self._key(facts), Strike),)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        if results and isinstance(results[0], Strike):
            report.add("flagged_address", STRIKE_WEIGHT)

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        if status != 403 or not facts.route.route_class.sensitive or facts.client_ip is None:
            return ()
        own = [
            f
            for f in report.findings
            if f.action is Action.ALLOW and not f.reason.startswith(_NOT_OWN_EVIDENCE)
        ]
        if not any(f.hard for f in own) or self.policy.combined(own) < self.policy.thresholds.block:
            return ()
        return (ValuePut(self._key(facts), Strike(facts.now), STRIKE_TTL),)
