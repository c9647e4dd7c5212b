"""Request events: one HTTP request as the middleware sees it, with who sent it and why.

The simulator writes them, access logs are parsed into them, and the dataset builder turns
them into ASGI scopes for the same fact extraction and feature code the middleware runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guard.types import Scope

HUMAN_FAMILIES = frozenset({"people", "recruiters"})
"""Families whose sessions the guard must not refuse."""

GOOD_BOT_FAMILIES = frozenset({"search_engines"})
"""Honest automation: not harvesting, judged by its own rules (robots.txt, verification)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One request and its response status.

    Args:
        time: seconds since the epoch.
        client_ip: the address the request came from (what the server sees as the peer).
        method: the HTTP method.
        path: the URL path, without the query string.
        query: the raw query string, without ``?`` ('' when none).
        headers: header (name, value) pairs in the order sent, names lower-case.
        status: the status the site answered with when unguarded.
        actor: who sent it: one simulated person, bot or account (the unit of labels and of
            cross-validation groups).
        family: the family of clients the actor belongs to (``people``, ``enumerators``...).
        bot: whether the request is part of harvesting (the label). Search engines are
            automation but not harvesters: False.
    """

    time: float
    client_ip: str
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    status: int
    actor: str
    family: str
    bot: bool

    def scope(self) -> Scope:
        """The ASGI HTTP scope for this request, as a server would pass it to the app."""
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode("utf-8", "replace"),
            "query_string": self.query.encode("latin-1", "replace"),
            "root_path": "",
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1", "replace"))
                for name, value in self.headers
            ],
            "client": (self.client_ip, 50000),
            "server": ("127.0.0.1", 8000),
        }

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


def in_time_order(events: Iterable[Event]) -> list[Event]:
    """Events sorted by time (stable, so one actor's same-instant requests keep their order)."""
    return sorted(events, key=lambda event: event.time)
