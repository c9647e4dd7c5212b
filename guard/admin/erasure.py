"""Erasure: delete what the guard holds about one person, on request.

``POST /guard/api/forget`` (``Authorization: Bearer <admin_token>``) takes JSON naming the
person as the guard knows them: ``ip`` (their address), ``user_agents`` (the user agents
they used, which with the address name their behaviour profiles) and ``identity`` (the raw
session id or API key, as the identity extractor reads it; the guard keeps only its keyed
hash). It deletes every store key of those actors (rate limits, budgets, strikes,
profiles), in Redis for every worker, and this worker's dashboard entries for the address
(other workers' drop theirs within :data:`~guard.admin.activity.RETAIN`). It answers how
many keys of each kind went; the decision log, a file the operator keeps, is theirs to
filter (``docs/privacy.md``). Each erasure is audit-logged without the data it erased.

What it does not delete: counters shared by many people (a network's, a fingerprint's, the
site-wide campaign state), which hold counts and record ids, not this person.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response

from guard.admin.api import error_response, read_body, who
from guard.errors import StorageError
from guard.facts import Facts, client_key
from guard.facts.client import parse_ip
from guard.facts.fingerprint import hash_identity
from guard.observe.metrics import authorized
from guard.store.base import actor_keys
from guard.types import Receive, Scope

if TYPE_CHECKING:
    from guard.engine import Guard

FORGET_PATH = "/guard/api/forget"
MAX_USER_AGENTS = 100
audit = logging.getLogger("guard.audit")


@dataclass(frozen=True, slots=True)
class Person:
    """Whom to forget, as the guard knows people."""

    ip: str | None = None
    user_agents: Sequence[str] = field(default_factory=tuple)
    identity: str | None = None

    @classmethod
    def from_json(cls, document: Any) -> Person:
        """A person from the endpoint's JSON.

        Raises:
            ValueError: not an object, an address that is not one, user agents without an
                address or not a list of strings, or nothing to forget.
        """
        if not isinstance(document, dict) or set(document) - {"ip", "user_agents", "identity"}:
            raise ValueError("expected an object with ip, user_agents and/or identity")
        ip, agents, identity = (document.get(k) for k in ("ip", "user_agents", "identity"))
        if ip is not None and (not isinstance(ip, str) or parse_ip(ip) is None):
            raise ValueError(f"ip: not an address: {ip!r}")
        agents = agents or []
        if not isinstance(agents, list) or not all(isinstance(a, str) for a in agents):
            raise ValueError("user_agents: expected a list of strings")
        if len(agents) > MAX_USER_AGENTS:
            raise ValueError(f"user_agents: at most {MAX_USER_AGENTS}")
        if agents and ip is None:
            raise ValueError("user_agents name profiles together with an ip")
        if identity is not None and (not isinstance(identity, str) or not identity):
            raise ValueError("identity: expected a non-empty string")
        if ip is None and identity is None:
            raise ValueError("nothing to forget: give an ip, an identity or both")
        return cls(ip, tuple(agents), identity)


async def forget(guard: Guard, person: Person) -> dict[str, int]:
    """Delete the person's state from the guard's store and this worker's dashboard.

    Returns:
        Keys deleted by actor kind (``ip``, ``client``, ``identity``), and ``dashboard``
        entries dropped.

    Raises:
        StorageError: the store could not be reached; part may have been deleted, so ask
            again once it is back.
    """
    prefix = guard.config.key_prefix
    address = None if person.ip is None else str(parse_ip(person.ip))
    actors: list[tuple[str, str]] = []
    if address is not None:
        actors.append(("ip", address))
        actors += [("client", client_key(address, agent)) for agent in person.user_agents]
    if person.identity is not None:
        actors.append(("identity", hash_identity(person.identity, guard.signer.secret)))
    deleted = {"ip": 0, "client": 0, "identity": 0}
    for kind, actor in actors:
        deleted[kind] += await guard.store.forget(actor_keys(prefix, kind, actor))
    if address is not None:
        deleted["dashboard"] = guard.activity.forget(address)
    return deleted


async def forget_response(guard: Guard, facts: Facts, scope: Scope, receive: Receive) -> Response:
    """The answer to one request for ``/guard/api/forget``."""
    if not authorized(scope, guard.config.admin_token or ""):
        return error_response(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
    if facts.method != "POST":
        return error_response(405, "use POST", {"Allow": "POST"})
    body = await read_body(receive)
    if body is None:
        return error_response(413, "the body is too large")
    try:
        person = Person.from_json(json.loads(body))
    except (UnicodeDecodeError, ValueError) as exc:
        return error_response(400, str(exc))
    try:
        deleted = await forget(guard, person)
    except StorageError:
        audit.warning("erasure failed, store unavailable (by %s)", who(facts))
        return error_response(503, "the store is unavailable: ask again once it is back")
    audit.info("erasure by %s: %s", who(facts), deleted)
    return JSONResponse({"deleted": deleted}, headers={"Cache-Control": "no-store"})
