"""The dashboard's view of the whole site: each worker's activity, shared through the store.

Every :data:`PUBLISH_SECONDS` while it serves, a worker writes a snapshot of its
:class:`~guard.admin.activity.Activity` into one of :data:`SLOTS` small keys, kept
:data:`FRESH_SECONDS`; the dashboard reads them all in one store call and merges the fresh
ones. A worker takes the first slot that is free or stale, and moves on if it finds another
worker's fresh snapshot in its own (two that started at once). On the in-memory store each
process sees itself alone.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Self

from guard.admin.activity import Activity
from guard.admin.beside import Beside
from guard.store.base import Store, ValueGet, ValuePut, actor_key

SLOTS = 16
PUBLISH_SECONDS = 5.0
FRESH_SECONDS = 30.0


class Snapshot:
    """One worker's activity as the store keeps it: JSON."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def pack(self) -> bytes:
        """JSON bytes."""
        return json.dumps(self.data, separators=(",", ":")).encode()

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack` (an empty snapshot for bytes that are not one)."""
        try:
            loaded = json.loads(data)
        except ValueError:
            loaded = {}
        return cls(loaded if isinstance(loaded, dict) else {})


class Board:
    """Publishes this worker's activity and gathers every worker's.

    Args:
        activity: this worker's activity.
        store: the store the workers share.
        prefix: the store key prefix.
    """

    def __init__(self, activity: Activity, store: Store, prefix: str) -> None:
        self.activity = activity
        self.store = store
        self.keys = [actor_key(prefix, "admin", "board", str(slot)) for slot in range(SLOTS)]
        self.worker = secrets.token_hex(6)
        self.slot: int | None = None
        self._beside = Beside(PUBLISH_SECONDS, self.publish, "publish dashboard activity")

    def publish_soon(self, now: float) -> None:
        """Publish beside the current request if the last is :data:`PUBLISH_SECONDS` old."""
        self._beside.soon(now)

    async def publish(self, now: float) -> None:
        """Write this worker's snapshot to its slot (claiming one first if need be)."""
        if self.slot is None or not await self._still_mine(now):
            self.slot = await self._claim(now)
        snapshot = self.activity.snapshot(now) | {"worker": self.worker, "at": now}
        await self.store.execute(
            [ValuePut(self.keys[self.slot], Snapshot(snapshot), FRESH_SECONDS)], now
        )

    async def gather(self, now: float) -> dict[str, Any]:
        """Every fresh snapshot, this worker's as it is now among them, merged."""
        found = await self.store.execute([ValueGet(key, Snapshot) for key in self.keys], now)
        mine = self.activity.snapshot(now) | {"worker": self.worker, "at": now}
        others = [
            s.data
            for s in found
            if isinstance(s, Snapshot) and _fresh(s.data, now) and s.data["worker"] != self.worker
        ]
        return {"snapshots": [mine, *others]}

    async def _still_mine(self, now: float) -> bool:
        assert self.slot is not None
        (held,) = await self.store.execute([ValueGet(self.keys[self.slot], Snapshot)], now)
        return not (isinstance(held, Snapshot) and _fresh(held.data, now)) or (
            held.data.get("worker") == self.worker
        )

    async def _claim(self, now: float) -> int:
        found = await self.store.execute([ValueGet(key, Snapshot) for key in self.keys], now)
        for slot, held in enumerate(found):
            if not (isinstance(held, Snapshot) and _fresh(held.data, now)):
                return slot
        return secrets.randbelow(SLOTS)  # all taken: share one (the dashboard undercounts)

    async def stop(self) -> None:
        """Drop a publish under way."""
        await self._beside.stop()


def _fresh(data: dict[str, Any], now: float) -> bool:
    try:
        return bool(data.get("worker")) and now - float(data.get("at", 0)) < FRESH_SECONDS
    except (TypeError, ValueError):
        return False
