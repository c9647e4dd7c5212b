"""The shared state of one campaign run: the ids still to try, the budget, the result."""

from __future__ import annotations

import collections
import itertools
import math
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor

from guard.testing.campaigns.spec import CampaignResult, CampaignSpec

PAGE_SIZE = 20
"""Links on one listing page of the demo."""


class CampaignState:
    """The shared state of one run: the ids still to try, the budget, the result."""

    def __init__(
        self, base: str, spec: CampaignSpec, first_id: int, records: int, stop_at: float
    ) -> None:
        self.base, self.spec, self.stop_at = base, spec, stop_at
        self.lock = threading.Lock()
        self.result = CampaignResult()
        self.solver: Executor | None = None
        self.identities: Iterator[int] = itertools.count()
        self.active = 0
        rng = random.Random(spec.seed)  # noqa: S311 - a scraper's order, not a secret
        span = range(first_id, first_id + records)
        wanted = min(records, spec.tries)
        ordered = rng.sample(span, wanted) if spec.order == "random" else span[:wanted]
        self.fresh = collections.deque(ordered if spec.order != "listing" else ())
        self.retry: collections.deque[int] = collections.deque()
        # Listing order: ids each page showed and nobody has claimed yet (or to retry).
        self.unread_pages = collections.deque(range(1, math.ceil(records / PAGE_SIZE) + 1))
        self.pending: dict[int, list[int]] = {}
        self.listing_refusals = 0
        self.last_page: dict[str, float] = {}  # address -> when its last page went (pace)

    def expired(self) -> bool:
        """Whether the run should stop starting requests."""
        return time.monotonic() >= self.stop_at or self.result.tried >= self.spec.tries

    def exhausted(self) -> bool:
        """Nothing to start an identity on (called under the lock): no ids left, or (listing
        order) no page left to fetch nor shown id to read, or every listing refused lately."""
        if self.spec.order != "listing":
            return not (self.fresh or self.retry)
        if self.listing_refusals >= 2 * self.spec.addresses:
            return True
        return not self.unread_pages and not any(self.pending.values())

    def claim(self, count: int) -> list[int]:
        """Up to ``count`` ids for a fresh identity: ids to retry first, then untried ones."""
        with self.lock:
            claimed: list[int] = []
            while len(claimed) < count and (self.retry or self.fresh):
                claimed.append((self.retry or self.fresh).popleft())
            return claimed

    def give_back(self, ids: list[int]) -> None:
        """Ids an identity claimed but did not read, back to the front of their queues."""
        with self.lock:
            for record in reversed(ids):
                (self.retry if self.result.asked[record] else self.fresh).appendleft(record)

    def page_to_fetch(self) -> int | None:
        """The listing page an identity should fetch: the first with ids left to read, else
        the next one nobody has read yet."""
        with self.lock:
            started = [page for page, ids in self.pending.items() if ids]
            if started:
                return min(started)
            return self.unread_pages.popleft() if self.unread_pages else None

    def listing_refused(self, page: int) -> None:
        """A listing page was refused: a later identity fetches it instead."""
        with self.lock:
            self.listing_refusals += 1
            if page not in self.pending:
                self.unread_pages.appendleft(page)

    def claim_shown(self, page: int, shown: list[int], count: int) -> list[int]:
        """Up to ``count`` of the ids ``page`` showed that are still to read."""
        with self.lock:
            self.result.listed.update(shown)
            self.listing_refusals = 0
            if page not in self.pending:
                self.pending[page] = [i for i in shown if not self.result.asked[i]]
            left = self.pending[page]
            claimed = [i for i in shown if i in left][:count]
            self.pending[page] = [i for i in left if i not in claimed]
            return claimed

    def refused(self, record: int, page: int | None) -> None:
        """A read of ``record`` was refused: a fresh identity tries it once more."""
        with self.lock:
            if self.result.asked[record] >= 2:
                return
            if page is None:
                self.retry.append(record)
            else:
                self.pending.setdefault(page, []).append(record)

    def reserve_try(self, record: int) -> bool:
        """Count a read of ``record`` against the budget; False when it is spent."""
        with self.lock:
            if self.result.tried >= self.spec.tries or time.monotonic() >= self.stop_at:
                return False
            self.result.tried += 1
            self.result.asked[record] += 1
            return True

    def count(self, requests: int = 1, **fields: int) -> None:
        """Add to the result's counters under the lock."""
        with self.lock:
            self.result.requests += requests
            for name, value in fields.items():
                setattr(self.result, name, getattr(self.result, name) + value)
