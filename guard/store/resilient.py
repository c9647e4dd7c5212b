"""Surviving store outages: a circuit breaker and a per-process fallback store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from guard.errors import StorageError
from guard.store.base import Op, Result, Store

logger = logging.getLogger("guard")


class CircuitBreaker:
    """Opens after ``threshold`` failures in a row; after ``cooldown`` s lets one call probe.

    While open, callers skip the store at once instead of each waiting for a timeout.
    """

    def __init__(self, threshold: int = 3, cooldown: float = 2.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None

    def allows(self, now: float) -> bool:
        """Whether a call may go to the store now (closed, or open long enough to probe)."""
        if self.opened_at is None:
            return True
        if now - self.opened_at >= self.cooldown:
            self.opened_at = now  # one probe per cooldown; the rest keep skipping
            return True
        return False

    def succeeded(self) -> None:
        """Record a success: the circuit closes."""
        if self.opened_at is not None:
            logger.warning("guard: store reachable again; circuit closed")
        self.failures, self.opened_at = 0, None

    def failed(self, now: float, error: Exception | None = None) -> None:
        """Record a failure: enough in a row open the circuit."""
        self.failures += 1
        if self.failures >= self.threshold and self.opened_at is None:
            logger.warning(
                "guard: store failing (%s); circuit open for %.1fs", error, self.cooldown
            )
            self.opened_at = now

    @property
    def open(self) -> bool:
        """Whether the circuit is open now."""
        return self.opened_at is not None


class ResilientStore(Store):
    """Wraps a networked store with a breaker and, optionally, a local fallback.

    With a fallback (fail-open), a batch the primary cannot run goes to the fallback, so
    per-process limits and budgets keep being enforced through the outage. Without one
    (fail-closed), the :class:`StorageError` reaches the middleware, which answers 503.

    Args:
        primary: the shared store (Redis).
        fallback: a local store for outages, or None to fail closed.
        breaker: the circuit breaker; a default one when omitted.
        clock: monotonic seconds, for the breaker's cooldown.
    """

    def __init__(
        self,
        primary: Store,
        fallback: Store | None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.breaker = breaker or CircuitBreaker()
        self.clock = clock
        self.on_failure: Callable[[StorageError], object] | None = None
        """Told of each failed call to the shared store (the guard counts them by kind)."""

    @property
    def degraded(self) -> bool:
        """Whether calls are going to the fallback: the last one failed or the circuit is
        open."""
        return self.fallback is not None and (self.breaker.open or self.breaker.failures > 0)

    async def execute(self, ops: Sequence[Op], now: float) -> list[Result]:
        """Run on the primary when the breaker allows; otherwise (or on failure) fall back."""
        moment = self.clock()
        if self.breaker.allows(moment):
            try:
                results = await self.primary.execute(ops, now)
            except StorageError as exc:
                self.breaker.failed(moment, exc)
                if self.on_failure is not None:
                    self.on_failure(exc)
                if self.fallback is None:
                    raise
            else:
                self.breaker.succeeded()
                return results
        if self.fallback is None:
            raise StorageError("store unavailable: circuit open")
        return await self.fallback.execute(ops, now)

    async def write_later(self, ops: Sequence[Op], now: float) -> None:
        """Hand writes to the primary to batch; while the circuit is open, to the fallback.

        (Writes the primary held and then could not send are lost with the outage: records
        served in that moment go uncounted, never more than one batch.)
        """
        if self.breaker.open or self.breaker.failures:
            if self.fallback is not None:
                await self.fallback.execute(ops, now)
            return
        await self.primary.write_later(ops, now)

    async def stats(self) -> dict[str, float]:
        """The shared store's own account of itself."""
        return await self.primary.stats()

    async def forget(self, key_start: str) -> int:
        """Forget in the shared store, whatever the breaker says (an erasure must reach it or
        fail), and in the fallback, which may hold state from an outage."""
        deleted = await self.primary.forget(key_start)
        if self.fallback is not None:
            deleted += await self.fallback.forget(key_start)
        return deleted

    async def close(self) -> None:
        """Close both stores."""
        await self.primary.close()
        if self.fallback is not None:
            await self.fallback.close()
