"""The store's health in the metrics: failures by kind as they happen, and what the store
says of itself (evictions, memory against its limit), read every :data:`EVERY` seconds beside
requests. A full Redis that evicts keys forgets budgets (``benchmarks/results/eviction.md``);
one that refuses writes makes the guard judge from its per-process stand-in. Both deserve an
alert."""

from __future__ import annotations

from guard.admin.beside import Beside
from guard.errors import StorageError
from guard.observe.metrics import Metrics
from guard.store import Store
from guard.store.resilient import ResilientStore

EVERY = 10.0


class StoreWatch:
    """Feeds one store's failures and statistics into ``metrics``."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self.store = store
        self.metrics = metrics
        if isinstance(store, ResilientStore):
            store.on_failure = self.failed
        self._beside = Beside(EVERY, self.read, "read the store's statistics")

    def failed(self, error: StorageError) -> None:
        """Count one failed call by its kind."""
        self.metrics.store_failures.labels(error.kind).inc()

    def soon(self, now: float) -> None:
        """Read the statistics beside the current request when they are due."""
        self._beside.soon(now)

    async def read(self, now: float) -> None:
        """Read the store's statistics into the gauges."""
        stats = await self.store.stats()
        if "evicted_keys" in stats:
            self.metrics.store_evicted.set(stats["evicted_keys"])
        limit = stats.get("maxmemory", 0.0)
        if "used_memory" in stats:
            self.metrics.store_memory.set(stats["used_memory"] / limit if limit else 0.0)

    async def stop(self) -> None:
        """Cancel a read under way."""
        await self._beside.stop()
