"""GuardMiddleware: the pure ASGI middleware that judges every HTTP request."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from guard.actions import refusal
from guard.challenge import VERIFY_PATH, Challenges, Keyring
from guard.config import GuardConfig
from guard.cookies import CookieSigner
from guard.errors import StorageError
from guard.facts import FactExtractor, Facts, IdentityExtractor
from guard.goodbots import DnsResolver, GoodBotVerifier, load_good_bots
from guard.lists import AccessLists
from guard.observe.decision_log import DecisionLog
from guard.observe.metrics import METRICS_PATH, Metrics, metrics_response
from guard.policy import Policy, Verdict
from guard.signals import default_signals
from guard.signals.base import Report, Signal
from guard.signals.clearance import ClearanceReplaySignal
from guard.store import Store, store_for
from guard.store.base import Op, Result
from guard.types import Action, ASGIApp, Clock, Message, Receive, Scope, Send

logger = logging.getLogger("guard")

COOKIE_MAX_AGE = 7 * 86400


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict with the facts it was made on and the report its signals wrote."""

    facts: Facts
    verdict: Verdict
    report: Report | None


class GuardMiddleware:
    """Stops bulk harvesting: scores each request and allows, throttles or blocks it.

    Use ``app = GuardMiddleware(app, config=...)`` or Starlette's
    ``app.add_middleware(GuardMiddleware, config=...)``. Websocket and lifespan scopes pass
    through untouched (once the app's shutdown completes, the guard closes its store). The
    verdict is written to ``scope["guard"]`` (a :class:`Verdict`).

    Args:
        app: the ASGI app to protect.
        config: the validated configuration (defaults protect the demo's record routes).
        store: the state store; built from ``config.store_url`` when omitted.
        clock: seconds since the epoch; tests inject one to control time.
        identity: ``(headers, cookies) -> raw identity`` to count budgets per account.
        decision_log: where decisions go; built from ``config.decision_log`` when omitted.
        signals: the signals to run; :func:`guard.signals.default_signals` when omitted.
    """

    def __init__(
        self,
        app: ASGIApp,
        config: GuardConfig | None = None,
        *,
        store: Store | None = None,
        clock: Clock = time.time,
        identity: IdentityExtractor | None = None,
        decision_log: DecisionLog | None = None,
        signals: tuple[Signal, ...] | None = None,
    ) -> None:
        self.app = app
        self.config = config = config or GuardConfig.from_mapping({})
        if config.secret is None and config.mode == "enforce":
            logger.warning(
                "guard: no secret configured; using a per-process key, so guard "
                "cookies do not survive restarts or work across workers"
            )
        self.signer = CookieSigner(config.secret or secrets.token_bytes(32), COOKIE_MAX_AGE)
        self.facts = FactExtractor(config, self.signer, identity)
        self.lists = AccessLists(config.allow, config.deny)
        self.policy = Policy(config.thresholds, enforced=config.mode == "enforce")
        self.store = store if store is not None else store_for(config.store_url, config.fail_closed)
        self.challenges = Challenges(
            Keyring(self.signer.secret, config.previous_secrets),
            self.store,
            prefix=config.key_prefix,
            difficulty=config.challenge_difficulty,
            clearance_ttl=config.clearance_ttl,
            gray=config.thresholds.gray,
        )
        self.signals = (
            signals
            if signals is not None
            else (
                *default_signals(config),
                ClearanceReplaySignal(self.challenges, config.key_prefix),
            )
        )
        self.bots = GoodBotVerifier(
            load_good_bots(config.good_bots) if config.verify_bots != "off" else (),
            DnsResolver() if config.verify_bots == "dns" else None,
        )
        self.clock = clock
        self.log = decision_log or (
            DecisionLog(
                config.decision_log,
                config.log_allow_sample,
                config.hash_ips_in_log,
                self.signer.secret,
            )
            if config.decision_log
            else None
        )
        self._tarpitted = 0
        self.metrics = Metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        if scope["type"] != "http" or self.config.mode == "off":
            await self.app(scope, receive, send)
            return
        if scope.get("path") == VERIFY_PATH and self.config.mode == "enforce":
            await self._verify(scope, receive, send)
            return
        if scope.get("path") == METRICS_PATH and self.config.admin_token:
            text = self.metrics.render(vars(self.challenges.stats))
            await metrics_response(scope, self.config.admin_token, text)(scope, receive, send)
            return
        try:
            decision = await self.decide(scope)
        except Exception:
            logger.exception("guard: could not judge %s; serving it unguarded", scope.get("path"))
            await self.app(scope, receive, send)
            return
        scope["guard"] = decision.verdict
        status = 500  # what the record says if the app raises
        try:
            status = await self._act(decision, scope, receive, send)
        finally:
            await self._record(decision, status)

    async def decide(self, scope: Scope) -> Decision:
        """The whole decision: facts -> lists -> signals -> score -> action."""
        facts = self.facts.extract(scope, self.clock())
        claimed = self.bots.claimed(facts)
        if claimed is not None:
            facts.good_bot = claimed.name
            facts.verified_bot = await self.bots.verify(claimed, facts.client_ip)
        listed = self.lists.check(facts.client_ip)
        if listed is not None:
            reason = "denylist" if listed is Action.BLOCK else "allowlist"
            verdict = Verdict(
                listed, float(listed is Action.BLOCK), (reason,), self.policy.enforced
            )
            return Decision(facts, verdict, None)
        report = Report()
        plans = [signal.plan(facts, report) for signal in self.signals]
        try:
            results = await self.store.execute([op for plan in plans for op in plan], facts.now)
        except StorageError as exc:
            return self._store_down(facts, plans, exc)
        try:
            self._judge(facts, plans, results, report)
        except Exception:
            await self._settle(facts, report, status=0)  # give back what the reads reserved
            raise
        cleared = facts.verified_bot or (
            self.challenges.cleared(facts) and not report.clearance_revoked
        )
        verdict = self.policy.decide(report.findings, report.rate_policies, cleared)
        return Decision(facts, verdict, report)

    def _judge(
        self, facts: Facts, plans: Sequence[Sequence[Op]], results: Sequence[Result], report: Report
    ) -> None:
        """Hand each signal the results of its own ops."""
        start = 0
        for signal, plan in zip(self.signals, plans, strict=True):
            signal.judge(facts, results[start : start + len(plan)], report)
            start += len(plan)

    def _store_down(
        self, facts: Facts, plans: Sequence[Sequence[Op]], exc: StorageError
    ) -> Decision:
        """Without state: fail closed (503), or judge on what needs no state (fail open)."""
        logger.warning(
            "guard: store unavailable (%s); failing %s",
            exc,
            "closed" if self.config.fail_closed else "open",
        )
        if self.config.fail_closed:
            verdict = Verdict(
                Action.BLOCK, 1.0, ("storage_unavailable",), self.policy.enforced, retry_after=5.0
            )
            return Decision(facts, verdict, None)
        report = Report()
        for signal, plan in zip(self.signals, plans, strict=True):
            if not plan:
                signal.judge(facts, (), report)
        report.add("storage_unavailable", 0.0)
        return Decision(facts, self.policy.decide(report.findings), None)

    async def _act(self, decision: Decision, scope: Scope, receive: Receive, send: Send) -> int:
        """Refuse, delay or serve; returns the response status."""
        verdict, facts = decision.verdict, decision.facts
        if verdict.enforced and verdict.action is Action.CHALLENGE:
            navigation = facts.method in {"GET", "HEAD"} and facts.is_document
            if facts.wants_json or not navigation:
                response = refusal(verdict, facts.wants_json, 429)
            else:
                response = self.challenges.page(facts, scope, verdict.score)
            await response(scope, receive, send)
            return response.status_code
        if verdict.refuses:
            unavailable = verdict.reasons[:1] == ("storage_unavailable",)
            response = refusal(verdict, facts.wants_json, 503 if unavailable else None)
            await response(scope, receive, send)
            return response.status_code
        if verdict.enforced and verdict.action is Action.TARPIT:
            if self._tarpitted >= self.config.tarpit_max_concurrent:
                response = refusal(
                    Verdict(
                        Action.THROTTLE,
                        verdict.score,
                        verdict.reasons,
                        retry_after=self.config.tarpit_delay,
                    ),
                    facts.wants_json,
                )
                await response(scope, receive, send)
                return response.status_code
            self._tarpitted += 1
            try:
                await asyncio.sleep(self.config.tarpit_delay)
            finally:
                self._tarpitted -= 1
        return await self._serve(decision, scope, receive, send)

    async def _serve(self, decision: Decision, scope: Scope, receive: Receive, send: Send) -> int:
        """Run the app, noting its status and (when enforcing) issuing the guard cookie."""
        facts = decision.facts
        cookie = None
        if decision.verdict.enforced and facts.is_document and not facts.tracked:
            cookie = self._tracking_cookie(scope, facts).encode()
        status = 0

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if cookie is not None:
                    message["headers"] = [*message.get("headers", ()), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, observed_send)
        return status

    def _tracking_cookie(self, scope: Scope, facts: Facts) -> str:
        """A fresh guard cookie, as a Set-Cookie value."""
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        return (
            f"{self.config.tracking_cookie}={self.signer.issue(facts.now)}; Path=/; "
            f"Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
        )

    async def _verify(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The challenge's answer: a redirect back with a clearance, or a 403."""
        facts = self.facts.extract(scope, self.clock())
        response = await self.challenges.verify(
            facts,
            receive,
            lambda: None if facts.tracked else self._tracking_cookie(scope, facts),
            secure=scope.get("scheme") == "https",
        )
        await response(scope, receive, send)

    async def _record(self, decision: Decision, status: int) -> None:
        """After the response: write state back and log. Failures here only get logged."""
        facts = decision.facts
        self.metrics.count(decision.verdict.action, decision.verdict.enforced)
        try:
            if decision.report is not None:
                await self._settle(facts, decision.report, status)
            if self.log is not None and self.log.wants(decision.verdict):
                self.log.write(facts, decision.verdict, status)
        except Exception:
            logger.exception("guard: could not record the decision on %s", facts.path)

    async def _settle(self, facts: Facts, report: Report, status: int) -> None:
        """The signals' writes once the status is known (0: no response, count nothing)."""
        ops = [op for signal in self.signals for op in signal.settle(facts, status, report)]
        if ops:
            await self.store.write_later(ops, facts.now)

    def _closing_on_shutdown(self, send: Send) -> Send:
        """Pass lifespan messages on unchanged; as the app's shutdown completes, close the store
        (before saying so to the server, which may end the event loop right after)."""

        async def observed(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.aclose()
            await send(message)

        return observed

    async def aclose(self) -> None:
        """Close the store and the decision log."""
        await self.store.close()
        if self.log is not None:
            self.log.close()
