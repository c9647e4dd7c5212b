"""Replay request events through the whole guard, in process, on simulated time.

This measures what users meet: every signal, the model and the policy together, with a
memory store and a manual clock. Each simulated client keeps the cookies the guard really
sets (when the simulator says it keeps cookies), and a refused request serves nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from guard.challenge import CLEARANCE_COOKIE
from guard.config import GuardConfig
from guard.demo.config import demo_config
from guard.facts.client import network_group, parse_ip
from guard.learn.dataset import KEPT_COOKIE
from guard.learn.events import GOOD_BOT_FAMILIES, Event
from guard.learn.visits import Site
from guard.middleware import GuardMiddleware
from guard.policy import Verdict
from guard.testing import ManualClock
from guard.types import Action, Message, Receive, Scope, Send


@dataclass
class FamilyOutcome:
    """What the guard did to one family's actors."""

    family: str
    bot: bool
    actors: set[str] = field(default_factory=set)
    refused_actors: set[str] = field(default_factory=set)
    blocked_actors: set[str] = field(default_factory=set)  # refused at least once with a 403
    requests: int = 0
    refused: int = 0
    records_served: int = 0
    records_wanted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # the top reason of each refusal
    sessions: set[tuple[str, int]] = field(default_factory=set)
    refused_sessions: set[tuple[str, int]] = field(default_factory=set)
    blocked_sessions: set[tuple[str, int]] = field(default_factory=set)
    challenged_sessions: set[tuple[str, int]] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        actors = len(self.actors)
        return {
            "family": self.family,
            "bot": self.bot,
            "actors": actors,
            "actors_refused": len(self.refused_actors),
            "actors_refused_share": round(len(self.refused_actors) / actors, 4) if actors else 0,
            "actors_blocked": len(self.blocked_actors),
            "sessions": len(self.sessions),
            "sessions_refused": len(self.refused_sessions),
            "sessions_blocked": len(self.blocked_sessions),
            "sessions_challenged": len(self.challenged_sessions),
            "requests": self.requests,
            "requests_refused": self.refused,
            "records_wanted": self.records_wanted,
            "records_served": self.records_served,
            "top_refusal_reasons": dict(self.reasons.most_common(5)),
        }


HTML = [(b"content-type", b"text/html; charset=utf-8")]
SOLVERS = frozenset({"people", "recruiters", "headless_browsers"})
"""Families whose clients run JavaScript, and so solve a challenge when they meet one."""
SOLVE_SECONDS = 1.0
SESSION_GAP = 1800.0
"""A person's requests more than 30 minutes apart belong to different sessions (visits)."""


async def _status_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the status the event recorded (the site's own answer), and a body
    linking to the records the page shows, so that the guard notes what it showed."""
    status = scope["guard.replay.status"]
    await send({"type": "http.response.start", "status": status, "headers": HTML})
    await send({"type": "http.response.body", "body": scope["guard.replay.body"]})


def links(records: list[int]) -> bytes:
    """A page body linking to ``records``' pages, as the demo's listings do."""
    return b"".join(b'<a href="/resume/%d">' % record for record in records)


def replay(
    events: Iterable[Event],
    config: GuardConfig | None = None,
    progress: Callable[[int], None] | None = None,
    site: Site | None = None,
) -> dict[str, FamilyOutcome]:
    """Run ``events`` (in time order) through a guard; the outcome per family.

    Args:
        events: the requests, in time order.
        config: the guard's config (the demo's by default).
        progress: called with the number of events done, now and then.
        site: the simulated site the events were written for: its listing, search and home
            pages answer with links to the records they show, as the real pages do. Without
            it every page answers with an empty body, so no page shows any record.
    """
    return asyncio.run(_replay(events, config, progress, site))


async def _replay(
    events: Iterable[Event],
    config: GuardConfig | None,
    progress: Callable[[int], None] | None,
    site: Site | None,
) -> dict[str, FamilyOutcome]:
    config = config or demo_config({"secret": "replay-secret-0123456789"})
    clock = ManualClock(0.0)
    guard = GuardMiddleware(_status_app, config, clock=clock)
    engine = guard.guard
    sensitive = engine.facts.routes
    jars: dict[tuple[str, str, str], bytes] = {}
    outcomes: dict[str, FamilyOutcome] = {}
    name = config.tracking_cookie.encode()
    last_seen: dict[str, tuple[float, int]] = {}
    for count, event in enumerate(events, 1):
        clock.now = event.time
        jar_key = (event.actor, event.client_ip, event.header("user-agent") or "")
        body = links(site.shown(event.path, event.query)) if site is not None else b""
        status, scope = await _request(guard, event, name, jars, jar_key, body=body)
        verdict: Verdict | None = scope.get("guard")
        challenged = verdict is not None and verdict.enforced and verdict.action is Action.CHALLENGE
        if challenged and event.family in SOLVERS:
            # The browser runs the challenge's script; the answer sets the guard's cookie (if
            # it had none) and a clearance, and the browser asks again.
            clock.now = event.time + SOLVE_SECONDS
            tracking = jars.get(jar_key) or engine.signer.issue(clock.now).encode()
            network = _network(event.client_ip)
            clearance = engine.challenges.clearance(network, jar_key[2], clock.now)
            jars[jar_key] = (
                tracking.split(b";", 1)[0] + f"; {CLEARANCE_COOKIE}={clearance}".encode()
            )
            status, scope = await _request(guard, event, name, jars, jar_key, body=body, retry=True)
            verdict = scope.get("guard")
        outcome = outcomes.setdefault(event.family, FamilyOutcome(event.family, event.bot))
        outcome.actors.add(event.actor)
        outcome.requests += 1
        before, number = last_seen.get(event.actor, (event.time, 0))
        number += event.time - before > SESSION_GAP
        last_seen[event.actor] = (event.time, number)
        session = (event.actor, number)
        outcome.sessions.add(session)
        is_record = sensitive.match(event.path).route_class.sensitive and event.status == 200
        outcome.records_wanted += is_record
        if challenged:
            outcome.challenged_sessions.add(session)
        if verdict is not None and verdict.refuses:
            outcome.refused += 1
            outcome.refused_actors.add(event.actor)
            outcome.refused_sessions.add(session)
            if verdict.action is Action.BLOCK:
                outcome.blocked_actors.add(event.actor)
                outcome.blocked_sessions.add(session)
            outcome.reasons[verdict.reasons[0] if verdict.reasons else "?"] += 1
        elif is_record and status == 200 and not (verdict and verdict.action is Action.CHALLENGE):
            outcome.records_served += 1
        if progress is not None and count % 10_000 == 0:
            progress(10_000)
    await engine.aclose()
    return outcomes


async def _request(
    guard: GuardMiddleware,
    event: Event,
    name: bytes,
    jars: dict[tuple[str, str, str], bytes],
    jar_key: tuple[str, str, str],
    *,
    body: bytes = b"",
    retry: bool = False,
) -> tuple[int, Scope]:
    """Send ``event`` with the client's cookies; keep what the guard sets. Returns the status
    and the scope (with the verdict). The site answers with ``body``. A ``retry`` after a
    challenge sends the cookies even on a client's first request, as the browser would."""
    scope = event.scope()
    scope["guard.replay.status"] = event.status
    scope["guard.replay.body"] = body
    headers = scope["headers"]
    if retry and not any(key == b"cookie" for key, _ in headers):
        headers.append((b"cookie", name + b"=" + KEPT_COOKIE.encode()))
    scope["headers"] = _with_cookie(headers, name, jars.get(jar_key))
    status, cookie = await _call(guard, scope)
    if cookie is not None:
        jars[jar_key] = cookie
    return status, scope


def _network(client_ip: str) -> str:
    address = parse_ip(client_ip)
    return network_group(address) if address is not None else "unknown"


def _with_cookie(
    headers: list[tuple[bytes, bytes]], name: bytes, jar: bytes | None
) -> list[tuple[bytes, bytes]]:
    """The simulator's ``__guard=kept`` replaced by the cookie the guard set (or dropped)."""
    kept = name + b"=" + KEPT_COOKIE.encode()
    out = []
    for key, value in headers:
        if key != b"cookie" or kept not in value:
            out.append((key, value))
            continue
        replaced = value.replace(kept, name + b"=" + jar) if jar else value.replace(kept, b"")
        cookie = b"; ".join(part for part in replaced.split(b"; ") if part)
        if cookie:
            out.append((key, cookie))
    return out


async def _call(app: GuardMiddleware, scope: Scope) -> tuple[int, bytes | None]:
    """One request; the status and the guard cookie's value, if it set one."""
    status = 0
    cookie: bytes | None = None
    prefix = app.guard.config.tracking_cookie.encode() + b"="

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status, cookie
        if message["type"] == "http.response.start":
            status = message["status"]
            for key, value in message.get("headers", ()):
                if key == b"set-cookie" and value.startswith(prefix):
                    cookie = value[len(prefix) :].split(b";", 1)[0]

    await app(scope, receive, send)
    return status, cookie


def people_share(outcomes: dict[str, FamilyOutcome], which: str = "refused") -> float:
    """The share of people's sessions (not bots', not search engines') with at least one
    request ``refused`` (429 or 403), ``blocked`` (403) or ``challenged``."""
    people = [o for o in outcomes.values() if not o.bot and o.family not in GOOD_BOT_FAMILIES]
    sessions = sum(len(o.sessions) for o in people)
    hit = sum(len(getattr(o, f"{which}_sessions")) for o in people)
    return hit / sessions if sessions else 0.0
