"""``/guard/api/policy``: read and change the live policy over HTTP, on every worker.

``GET`` answers the policy as JSON (``mode``, ``thresholds``, ``weights``, ``version``);
``PUT`` takes a partial document (see :mod:`guard.admin.document`), applies it here, and
stores it for the other workers (:mod:`guard.admin.sync`). Both need
``Authorization: Bearer <admin_token>``. A bad change gets a 400 with the reason and
changes nothing; every change is audit-logged (logger ``guard.audit``) with who made it:
the client's address and, when sent, an ``X-Guard-Operator`` header naming the person.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.responses import JSONResponse, Response

from guard.admin.sync import PolicySync
from guard.errors import ConfigError, StorageError
from guard.facts import Facts
from guard.observe.metrics import authorized
from guard.types import Receive, Scope

POLICY_PATH = "/guard/api/policy"
MAX_BODY = 64 * 1024
_OPERATOR = "x-guard-operator"


async def policy_response(
    sync: PolicySync, token: str, facts: Facts, scope: Scope, receive: Receive
) -> Response:
    """The answer to one request for ``/guard/api/policy``."""
    if not authorized(scope, token):
        return error_response(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
    if facts.method in {"GET", "HEAD"}:
        with contextlib.suppress(StorageError):  # the store is down: this worker's applies
            await sync.pull(facts.now)
        return JSONResponse(sync.describe(), headers={"Cache-Control": "no-store"})
    if facts.method != "PUT":
        return error_response(405, "use GET or PUT", {"Allow": "GET, HEAD, PUT"})
    body = await read_body(receive)
    if body is None:
        return error_response(413, f"the body is over {MAX_BODY} bytes")
    try:
        change = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return error_response(400, "the body is not JSON")
    try:
        document = await sync.change(change, who(facts), facts.now)
    except ConfigError as exc:
        return error_response(400, str(exc))
    except StorageError:
        return error_response(503, "the store is unavailable: nothing changed")
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


def who(facts: Facts) -> str:
    """Who made a change: the operator's own name for it, if given, and the address."""
    operator = (facts.headers.get(_OPERATOR) or "").strip()[:64]
    address = str(facts.client_ip) if facts.client_ip is not None else "unknown"
    return f"{operator} ({address})" if operator else address


async def read_body(receive: Receive) -> bytes | None:
    """The request body, or None once it passes :data:`MAX_BODY`."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += bytes(message.get("body", b""))
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            return body


def error_response(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    content: dict[str, Any] = {"error": reason}
    return JSONResponse(content, status, headers={"Cache-Control": "no-store", **(headers or {})})
