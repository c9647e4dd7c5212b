"""One live policy for every worker: a change is kept in the store, and each worker looks
for a new one at most twice a second while it serves.

A ``PUT /guard/api/policy`` on any worker applies the change there at once and writes it to
the store; every other worker sharing the store (Redis, or Redis Cluster: one small key)
applies it within :data:`POLL_SECONDS` of its next request, and ``GET /guard/api/policy``
looks before it answers. A worker that starts later takes the last change on its first
request. With the in-memory store each process is on its own, as its state is.

The look rides on requests (a task started beside one, not awaited by it) rather than on a
timer of its own: an idle worker has nothing to apply a policy to, and no task outlives the
event loop that serves.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from guard.admin.beside import Beside
from guard.admin.document import PolicyRecord, apply_document, merged, read_policy
from guard.errors import ConfigError
from guard.observe.metrics import Metrics
from guard.policy import Policy
from guard.store.base import Store, ValueGet, ValuePut, actor_key

POLL_SECONDS = 0.5
KEEP_SECONDS = 30 * 86400.0
"""How long the store keeps the last change (each change renews it); after that, workers
keep what they have and new ones start from their config."""

audit = logging.getLogger("guard.audit")
logger = logging.getLogger("guard")


class PolicySync:
    """Applies and spreads policy changes for one guard.

    Args:
        policy: the guard's live policy.
        store: the store its workers share.
        prefix: the store key prefix.
        metrics: where changes are counted, by origin (``api`` here, ``store`` from
            another worker).
    """

    def __init__(
        self, policy: Policy, store: Store, prefix: str, metrics: Metrics | None = None
    ) -> None:
        self.policy = policy
        self.metrics = metrics
        self.store = store
        self.key = actor_key(prefix, "admin", "policy", "live")
        self.applied = ""
        self.version = 0
        self._beside = Beside(POLL_SECONDS, self.pull, "look for policy changes")

    async def change(self, change: Any, by: str, now: float) -> dict[str, Any]:
        """Validate ``change`` (a partial document), apply it here, and store it for the
        other workers. Returns the whole new document.

        Raises:
            ConfigError: the change is invalid; nothing changed.
            StorageError: the store could not be read or written; nothing changed.
        """
        document = merged(self.policy, change)
        (current,) = await self.store.execute([ValueGet(self.key, PolicyRecord)], now)
        version = max(self.version, current.version if isinstance(current, PolicyRecord) else 0)
        stamp = f"{version + 1}-{secrets.token_hex(4)}"
        record = PolicyRecord(document, stamp, now, by)
        await self.store.execute([ValuePut(self.key, record, KEEP_SECONDS)], now)
        before = read_policy(self.policy)
        apply_document(self.policy, document)
        self.applied, self.version = stamp, version + 1
        self._count("api")
        audit.info(
            "%s",
            json.dumps(
                {
                    "event": "policy_changed",
                    "by": by,
                    "version": self.version,
                    "before": before,
                    "after": document,
                }
            ),
        )
        return self.describe()

    async def pull(self, now: float) -> bool:
        """Apply the stored change if this worker has not yet. Returns whether it did."""
        (record,) = await self.store.execute([ValueGet(self.key, PolicyRecord)], now)
        if not isinstance(record, PolicyRecord) or record.stamp == self.applied:
            return False
        try:
            apply_document(self.policy, record.document)
        except (ConfigError, KeyError, TypeError) as exc:
            logger.error("guard: ignored an invalid stored policy (%s): %s", record.stamp, exc)
            self.applied = record.stamp
            return False
        self.applied, self.version = record.stamp, record.version
        self._count("store")
        audit.info(
            "%s",
            json.dumps(
                {"event": "policy_applied", "by": record.changed_by, "version": record.version}
            ),
        )
        return True

    def _count(self, origin: str) -> None:
        if self.metrics is not None:
            self.metrics.policy_changes.labels(origin).inc()

    def describe(self) -> dict[str, Any]:
        """The live policy, with the number of the last change this worker applied."""
        return read_policy(self.policy) | {"version": self.version}

    def refresh_soon(self, now: float) -> None:
        """Look for a change beside the current request, if the last look is
        :data:`POLL_SECONDS` old (wall time) and none is under way."""
        self._beside.soon(now)

    async def stop(self) -> None:
        """Stop a look under way."""
        await self._beside.stop()
