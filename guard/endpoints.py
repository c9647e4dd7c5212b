"""The guard's own routes under ``/guard/``: the challenge's answer, and admin endpoints
(metrics, the live policy's API, erasure, the dashboard).

Admin endpoints need ``admin_token`` (sent as ``Authorization: Bearer <token>``, compared in
constant time); without a configured token they do not exist and their paths go to the app.
The challenge's verify path exists only while the guard enforces.
"""

from __future__ import annotations

from guard.admin.api import POLICY_PATH, policy_response
from guard.admin.dashboard import DASHBOARD_PATH, dashboard_response
from guard.admin.erasure import FORGET_PATH, forget_response
from guard.challenge import VERIFY_PATH
from guard.engine import Guard
from guard.i18n import negotiate_language
from guard.observe.metrics import METRICS_PATH, metrics_response
from guard.types import Receive, Scope, Send

PREFIX = "/guard/"
_ADMIN_PATHS = frozenset({METRICS_PATH, POLICY_PATH, DASHBOARD_PATH, FORGET_PATH})


class Endpoints:
    """Answers the guard's own paths for one :class:`~guard.engine.Guard`."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def handles(self, path: str) -> bool:
        """Whether ``path`` is one of the guard's endpoints right now."""
        if not path.startswith(PREFIX):
            return False
        if path == VERIFY_PATH:
            return self.guard.policy.enforced
        return path in _ADMIN_PATHS and self.guard.config.admin_token is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the endpoint at ``scope["path"]`` (one that :meth:`handles`)."""
        guard = self.guard
        if scope.get("path") == VERIFY_PATH:
            await self._verify(scope, receive, send)
            return
        token = guard.config.admin_token or ""
        path = scope.get("path")
        if path in {POLICY_PATH, DASHBOARD_PATH, FORGET_PATH}:
            facts = guard.facts.extract(scope, guard.clock())
            if path == POLICY_PATH:
                response = await policy_response(guard.sync, token, facts, scope, receive)
            elif path == FORGET_PATH:
                response = await forget_response(guard, facts, scope, receive)
            else:
                response = await dashboard_response(guard, facts, scope, receive)
            await response(scope, receive, send)
            return
        await metrics_response(scope, token, guard.metrics.render())(scope, receive, send)

    async def _verify(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The challenge's answer: a redirect back with a clearance, or a 403."""
        guard = self.guard
        facts = guard.facts.extract(scope, guard.clock())
        response = await guard.challenges.verify(
            facts,
            receive,
            lambda: None if facts.tracked else guard.cookie_header(scope, facts),
            secure=scope.get("scheme") == "https",
            language=negotiate_language(facts.headers.get("accept-language")),
        )
        await response(scope, receive, send)
