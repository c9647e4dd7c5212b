"""Guard: the engine that judges requests, apart from any web framework.

:class:`Guard` owns the facts, the lists, the signals, the live policy, the store and the
responses; :class:`~guard.middleware.GuardMiddleware` only adapts ASGI to it, and replay,
tests and the admin endpoints use the same engine.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict, Unpack, cast

from starlette.responses import Response

from guard.actions import (
    KIND_STATUS,
    Refusal,
    RefusalKind,
    Responder,
    apply_refusal_headers,
    default_responder,
    incident_id,
)
from guard.admin.activity import Activity
from guard.admin.board import Board
from guard.admin.reload import ConfigReload
from guard.admin.sync import PolicySync
from guard.challenge import Challenges
from guard.config import GuardConfig
from guard.config_file import load_config
from guard.errors import StorageError
from guard.facts import FactExtractor, Facts, IdentityExtractor
from guard.goodbots import DnsResolver, GoodBotVerifier, load_good_bots
from guard.i18n import negotiate_language
from guard.lists import AccessLists
from guard.observe.addresses import AddressMode, address_shower
from guard.observe.decision_log import DecisionLog
from guard.observe.metrics import Metrics
from guard.observe.store_watch import StoreWatch
from guard.policy import Policy, Verdict
from guard.signals import Report, Signal, default_signals, order_signals
from guard.signals.campaign import CAMPAIGN
from guard.signals.clearance import CLEARED, ClearanceSignal
from guard.signals.discovery import DiscoverySignal
from guard.signals.rate_limit import RATE_POLICIES
from guard.signing import Signer
from guard.store import Store, store_for
from guard.store.base import Op, Result
from guard.types import Action, Clock, Scope

logger = logging.getLogger("guard")

COOKIE_MAX_AGE = 7 * 86400


class GuardOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Guard` besides its config."""

    store: Store
    clock: Clock
    identity: IdentityExtractor
    decision_log: DecisionLog
    signals: Sequence[Signal]
    builtin_signals: bool
    responder: Responder
    reload: ConfigReload


@dataclass(slots=True)
class Decision:
    """A verdict with the facts it was made on and the report its signals wrote."""

    facts: Facts
    verdict: Verdict
    report: Report | None
    settled: bool = False


class Guard:
    """Judges requests: facts -> lists -> signals -> score -> action -> record.

    Build one with :meth:`from_config`. ``guard.policy`` is the live policy (mode,
    thresholds, weights): change it while serving and every part sees the change.

    Args:
        config: the validated configuration (the library's defaults when omitted).
        store: the state store; built from ``config.store_url`` when omitted.
        clock: seconds since the epoch; tests inject one to control time.
        identity: ``(headers, cookies) -> raw identity`` to count budgets per account.
        decision_log: where decisions go; built from ``config.decision_log`` when omitted.
        signals: signals of your own, run beside the built-in ones.
        builtin_signals: False to run only ``signals``.
        responder: turns a :class:`~guard.actions.Refusal` into the response sent (the
            translated default pages when omitted).
        reload: a config file to watch: its live settings apply when it changes (set by
            :meth:`from_config` when given a path).
    """

    def __init__(
        self,
        config: GuardConfig | None = None,
        *,
        store: Store | None = None,
        clock: Clock = time.time,
        identity: IdentityExtractor | None = None,
        decision_log: DecisionLog | None = None,
        signals: Sequence[Signal] = (),
        builtin_signals: bool = True,
        responder: Responder | None = None,
        reload: ConfigReload | None = None,
    ) -> None:
        self.config = config = config or GuardConfig()
        if config.secret is None and config.mode == "enforce":
            logger.warning(
                "guard: no secret configured; using a per-process key, so guard "
                "cookies do not survive restarts or work across workers"
            )
        self.policy = Policy(config.mode, config.thresholds, config.weights, config.shadow)
        self.signer = Signer(
            config.secret or secrets.token_bytes(32), config.previous_secrets, COOKIE_MAX_AGE
        )
        self.facts = FactExtractor(config, self.signer, identity, self.policy)
        self.lists = AccessLists(config.allow, config.deny)
        self.store = store if store is not None else store_for(config.store_url, config.fail_closed)
        self.metrics = Metrics()
        self.challenges = Challenges(
            self.signer,
            self.store,
            prefix=config.key_prefix,
            difficulty=config.challenge_difficulty,
            clearance_ttl=config.clearance_ttl,
            policy=self.policy,
            records=config.clearance_records,
            on_outcome=self.metrics.challenge,
        )
        builtin = (
            (
                *default_signals(config, self.policy),
                ClearanceSignal(self.challenges, config.key_prefix),
            )
            if builtin_signals
            else ()
        )
        self.signals = order_signals((*builtin, *signals))
        self.discovery = next((s for s in self.signals if isinstance(s, DiscoverySignal)), None)
        self.bots = GoodBotVerifier(
            load_good_bots(config.good_bots) if config.verify_bots != "off" else (),
            DnsResolver() if config.verify_bots == "dns" else None,
        )
        self.clock = clock
        self.log = decision_log or (
            DecisionLog(
                config.decision_log,
                config.log_allow_sample,
                secret=self.signer.secret,
                addresses=self.address_mode,
            )
            if config.decision_log
            else None
        )
        self.responder = responder or default_responder
        self.sync = PolicySync(self.policy, self.store, config.key_prefix, self.metrics)
        self.reload = reload
        if reload is not None:
            reload.attach(self.policy, config, self.metrics)
        self.activity = Activity(address_shower(self.address_mode, self.signer.secret))
        self.board = Board(self.activity, self.store, config.key_prefix)
        self.store_watch = StoreWatch(self.store, self.metrics)
        self._tarpitted = 0
        self._degraded = False

    @classmethod
    def from_config(
        cls, config: GuardConfig | str | Path | None = None, **options: Unpack[GuardOptions]
    ) -> Guard:
        """A guard from a config, or from a TOML file's path (``GUARD_*`` variables apply);
        ``options`` are :class:`Guard`'s keyword arguments.

        Raises:
            ConfigError: the file or a value in it is invalid.
        """
        if not isinstance(config, GuardConfig | None):
            path = config
            options.setdefault("reload", ConfigReload(path, lambda: load_config(path)))
            config = load_config(path)
        return cls(config, **options)

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
            results = await self._execute([op for plan in plans for op in plan], facts.now)
        except StorageError as exc:
            return self._store_down(facts, plans, exc)
        report.degraded = self._degraded
        try:
            self._judge(facts, plans, results, report)
        except Exception:
            await self._settle(facts, report, status=0)  # give back what the reads reserved
            raise
        cleared = facts.verified_bot or self._cleared(facts, report)
        rate_policy = report.read(RATE_POLICIES) or ()
        verdict = self.policy.decide(report.findings, rate_policy, cleared)
        return Decision(facts, verdict, report)

    async def _execute(self, ops: list[Op], now: float) -> Sequence[Result]:
        """The store call a decision waits for, timed and counted; afterwards
        ``self._degraded`` says whether it had to fall back to the local store."""
        began = time.perf_counter()
        try:
            return await self.store.execute(ops, now)
        finally:
            self.metrics.store_latency.observe(time.perf_counter() - began)
            degraded = self.store.degraded
            if degraded:
                self.metrics.store_errors.labels("fallback").inc()
            if degraded is not self._degraded:
                self._degraded = degraded
                self.metrics.circuit_open.set(float(degraded))

    def _cleared(self, facts: Facts, report: Report) -> bool:
        """Whether the clearance covers this request: as the clearance signal found, or, when
        it does not run (``builtin_signals=False``), whether one is valid for this client."""
        found = report.read(CLEARED)
        return self.challenges.cleared(facts) if found is None else found

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
        fail_closed = self.config.fail_closed
        self.metrics.store_errors.labels("closed" if fail_closed else "unjudged").inc()
        logger.warning(
            "guard: store unavailable (%s); failing %s", exc, "closed" if fail_closed else "open"
        )
        if fail_closed:
            verdict = Verdict(
                Action.BLOCK, 1.0, ("storage_unavailable",), self.policy.enforced, retry_after=5.0
            )
            return Decision(facts, verdict, None)
        report = Report(degraded=True)
        for signal, plan in zip(self.signals, plans, strict=True):
            if not plan:
                signal.judge(facts, (), report)
        report.add("storage_unavailable", 0.0)
        return Decision(facts, self.policy.decide(report.findings), None)

    async def act(self, decision: Decision, scope: Scope) -> Response | None:
        """The response that refuses or challenges the request, or None to serve it (after
        the tarpit's delay, when that is the action). A refusal gets an incident id, which
        ``decision.verdict`` then carries into the log."""
        verdict, facts = decision.verdict, decision.facts
        if not verdict.enforced or verdict.action is Action.ALLOW:
            return None
        kind: RefusalKind
        if verdict.action is Action.TARPIT:
            if self._tarpitted < self.config.tarpit_max_concurrent:
                await self._tarpit()
                return None
            kind = "throttle"  # the tarpit is full; no rate limit was spent
            verdict = replace(
                verdict,
                action=Action.THROTTLE,
                retry_after=self.config.tarpit_delay,
                rate_policy=(),
                exceeded_policy=None,
            )
        elif verdict.action is Action.CHALLENGE:
            kind = "challenge"
        elif verdict.reasons[:1] == ("storage_unavailable",):
            kind = "unavailable"
        else:
            kind = "throttle" if verdict.action is Action.THROTTLE else "block"
        navigation = facts.method in {"GET", "HEAD"} and facts.is_document
        campaign = decision.report is not None and decision.report.read(CAMPAIGN) is True
        ticket = (
            self.challenges.ticket(facts, scope, verdict.score, campaign)
            if kind == "challenge" and navigation and not facts.wants_json
            else None
        )
        decision.verdict = verdict = replace(verdict, incident=incident_id())
        refusal = Refusal(
            kind=kind,
            status=KIND_STATUS[kind],
            verdict=verdict,
            incident=verdict.incident or "",
            language=negotiate_language(facts.headers.get("accept-language")),
            wants_json=facts.wants_json,
            path=facts.path,
            ticket=ticket,
        )
        return self._respond(refusal)

    def _respond(self, refusal: Refusal) -> Response:
        """The responder's response with the refusal headers it did not set; the default
        page (which sets them all itself) when there is no responder or it fails."""
        if self.responder is default_responder:
            return default_responder(refusal)
        try:
            response = self.responder(refusal)
            if not isinstance(response, Response):
                raise TypeError(f"expected a starlette Response, got {type(response).__name__}")
        except Exception:
            logger.exception("guard: the responder failed; sending the default page")
            return default_responder(refusal)
        return apply_refusal_headers(response, refusal)

    async def _tarpit(self) -> None:
        self._tarpitted += 1
        try:
            await asyncio.sleep(self.config.tarpit_delay)
        finally:
            self._tarpitted -= 1

    def body_scanner(self, decision: Decision) -> Callable[[bytes, str | None], None] | None:
        """For a served page whose route class shows records: what reads its body, chunk by
        chunk with the response's Content-Encoding, to note the records it links to."""
        if self.discovery is None or decision.report is None:
            return None
        scanner = self.discovery.scanner(decision.facts, decision.report)
        return None if scanner is None else scanner.feed

    def tracking_cookie(self, decision: Decision, scope: Scope) -> str | None:
        """The guard cookie to set on a served page (Set-Cookie value), if any: enforcing,
        a page, and a client that does not return one yet."""
        facts = decision.facts
        if not (decision.verdict.enforced and facts.is_document and not facts.tracked):
            return None
        return self.cookie_header(scope, facts)

    def cookie_header(self, scope: Scope, facts: Facts) -> str:
        """A fresh guard cookie, as a Set-Cookie value."""
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        return (
            f"{self.config.tracking_cookie}={self.signer.issue(facts.now)}; Path=/; "
            f"Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
        )

    async def settle(self, decision: Decision, status: int) -> None:
        """Write the request's state back (once): the middleware calls it before the last
        chunk of a served response goes out, so that the client's next request to this
        process finds its profile with this one counted (and the records this page showed
        noted), not a copy from before it (another worker sees it once held writes are
        sent). Failures here only get logged."""
        if decision.report is None or decision.settled:
            return
        decision.settled = True
        try:
            await self._settle(decision.facts, decision.report, status)
        except Exception:
            logger.exception("guard: could not store the state of %s", decision.facts.path)

    async def record(self, decision: Decision, status: int) -> None:
        """After the response: write state back (unless :meth:`settle` did) and log.
        Failures here only get logged."""
        facts = decision.facts
        self.metrics.decided(decision.verdict)
        self.store_watch.soon(facts.now)
        if self.config.admin_token is not None:
            self.activity.observe(facts, decision.verdict, status)
        try:
            if decision.report is not None and not decision.settled:
                decision.settled = True
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

    @property
    def address_mode(self) -> AddressMode:
        """How the log and the dashboard show addresses (``hash_ips_in_log`` is the older
        spelling of ``hashed``)."""
        mode = "hashed" if self.config.hash_ips_in_log else self.config.log_addresses
        return cast(AddressMode, mode)

    async def aclose(self) -> None:
        """Close the store and the decision log."""
        await self.sync.stop()
        await self.board.stop()
        await self.store_watch.stop()
        await self.store.close()
        if self.log is not None:
            self.log.close()
