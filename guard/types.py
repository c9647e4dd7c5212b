"""Short aliases shared across the package."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Clock = Callable[[], float]
"""Seconds since the epoch; injected so tests control time instead of sleeping."""

ActorKind = Literal["ip", "network", "fingerprint", "identity", "client", "global"]
"""Who a counter belongs to. `client` is one IP with one user agent; `global` is everyone."""

ACTOR_KINDS: tuple[ActorKind, ...] = (
    "ip",
    "network",
    "fingerprint",
    "identity",
    "client",
    "global",
)

Mode = Literal["enforce", "shadow", "off"]


class Action(enum.IntEnum):
    """What the guard does with a request, ordered by severity."""

    ALLOW = 0
    TARPIT = 1
    CHALLENGE = 2  # below THROTTLE: solving it must not get round a rate limit
    THROTTLE = 3
    BLOCK = 4

    @property
    def label(self) -> str:
        """The lower-case name used in config files, logs and `scope["guard"]`."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Action:
        """Read an action name such as ``"throttle"``; raises ValueError for unknown names."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(a.label for a in cls)
            raise ValueError(f"unknown action {text!r}; expected one of {names}") from None
