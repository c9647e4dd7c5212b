"""GuardMiddleware: the pure ASGI shell around the :class:`~guard.engine.Guard` engine."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Unpack

from guard.config import GuardConfig
from guard.endpoints import Endpoints
from guard.engine import Decision, Guard, GuardOptions
from guard.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("guard")


class GuardMiddleware:
    """Stops bulk harvesting: judges each HTTP request and serves, challenges or refuses it.

    Use ``app = GuardMiddleware(app, config=...)`` or ``app.add_middleware(GuardMiddleware,
    config=...)``. The engine is ``middleware.guard``, and on Starlette and FastAPI apps
    also ``app.state.guard`` once the app has started (or served a request). Websocket and
    lifespan scopes pass through (as the app's shutdown completes, the guard closes its
    store). The verdict is written to ``scope["guard"]`` (a :class:`~guard.policy.Verdict`).

    Args:
        app: the ASGI app to protect.
        config: the configuration (the library's defaults when omitted).
        guard: an engine built beforehand with :meth:`Guard.from_config` (then ``config``
            and ``options`` must be left out).
        options: passed to :meth:`Guard.from_config` (store, clock, identity, signals, ...).
    """

    def __init__(
        self,
        app: ASGIApp,
        /,
        config: GuardConfig | None = None,
        *,
        guard: Guard | None = None,
        **options: Unpack[GuardOptions],
    ) -> None:
        if guard is not None and (config is not None or options):
            raise TypeError("GuardMiddleware: pass either guard= or config and options")
        self.app = app
        self.guard = guard or Guard.from_config(config, **options)
        self.endpoints = Endpoints(self.guard)
        self._published = False
        self._publish(app)  # wrapping a Starlette or FastAPI app directly

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._published:
            # Under add_middleware the app is known only from the first scope (the lifespan's,
            # or the first request's): after that there is nothing left to look for.
            self._publish(scope.get("app"))
            self._published = True
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        guard = self.guard
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if guard.reload is not None:
            guard.reload.check()  # the config file changed: its live settings apply
        if guard.config.admin_token is not None:
            now = guard.clock()
            guard.sync.refresh_soon(now)  # a policy change made on another worker
            guard.board.publish_soon(now)  # this worker's activity, for the dashboard
        if self.endpoints.handles(scope.get("path") or ""):
            await self.endpoints(scope, receive, send)
            return
        if guard.policy.mode == "off":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        try:
            decision = await guard.decide(scope)
        except Exception:
            logger.exception("guard: could not judge %s; serving it unguarded", scope.get("path"))
            await self.app(scope, receive, send)
            return
        scope["guard"] = decision.verdict
        status = 500  # what the record says if the app raises
        try:
            response = await guard.act(decision, scope)
            guard.metrics.latency.observe(time.perf_counter() - began)
            scope["guard"] = decision.verdict  # now with the refusal's incident id, if any
            if response is None:
                status = await self._serve(decision, scope, receive, send)
            else:
                status = response.status_code
                await response(scope, receive, send)
        finally:
            await guard.record(decision, status)

    async def _serve(self, decision: Decision, scope: Scope, receive: Receive, send: Send) -> int:
        """Run the app, noting its status and adding the guard cookie when one is due; on a
        page that shows records, note which records its body links to."""
        cookie = self.guard.tracking_cookie(decision, scope)
        scan = self.guard.body_scanner(decision)
        path = decision.facts.path
        status = 0
        encoding: str | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, encoding, scan
            if message["type"] == "http.response.start":
                status = message["status"]
                if scan is not None:
                    message["headers"] = headers = list(message.get("headers", ()))
                    encoding = _content_encoding(headers)
                if cookie is not None:
                    extra = (b"set-cookie", cookie.encode("latin-1"))
                    message["headers"] = [*message.get("headers", ()), extra]
            elif message["type"] == "http.response.body":
                if scan is not None:
                    try:
                        scan(message.get("body", b""), encoding)
                    except Exception:
                        logger.exception("guard: could not read the records %s shows", path)
                        scan = None
                if not message.get("more_body", False):
                    await self.guard.settle(decision, status)
            await send(message)

        await self.app(scope, receive, observed_send)
        return status

    def _publish(self, app: object) -> None:
        """Make the engine ``app.state.guard`` when ``app`` is a Starlette-style app."""
        state = getattr(app, "state", None)
        if state is not None:
            state.guard = self.guard

    def _closing_on_shutdown(self, send: Send) -> Send:
        """Pass lifespan messages on unchanged; as the app's shutdown completes, close the
        guard (before saying so to the server, which may end the event loop right after)."""

        async def observed(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.guard.aclose()
            await send(message)

        return observed


def _content_encoding(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The Content-Encoding of a response's raw headers, if any."""
    for name, value in headers:
        if name.lower() == b"content-encoding":
            return value.decode("latin-1")
    return None
