"""Campaigns: many new clients reading records at once, measured against the site's own usual.

A campaign that rotates addresses looks innocent client by client: each new client reads a
record or two. As a population it does not: the number of networks whose new clients read
records within a minute jumps far above what the site usually sees at that hour. The guard
learns that usual number online, per hour of the site's day (an exponentially weighted
mean of one sample a minute, not learning while a campaign runs, unless it has run for
``LEARN_DESPITE``), and declares a campaign
when the last minute's count is above both ``campaign_floor`` and ``campaign_factor`` times
the usual. The campaign holds until ``HOLD`` seconds after the count was last too high.

While a campaign runs, a young client (first seen in the last ``YOUNG`` seconds) reading a
record is challenged (``campaign``); a person who landed from a link solves it and reads
on, challenged again only when the clearance's few records are spent. A challenge issued
during a campaign is harder and its clearance covers fewer records (see
:mod:`guard.challenge`), and records that no page showed anybody lately are not opened to
young clients at all (see :mod:`guard.signals.exposure`).

While the shared store is out (failing open), a campaign this worker saw running goes on
until its hold ends: an outage is no gap for the crowd to pour through. None starts then.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

from guard.config import GuardConfig
from guard.facts import Facts
from guard.signals.base import BaseSignal, Evidence, Report
from guard.signals.behaviour import NEW_CLIENT_PAGES, PROFILE, local_hour
from guard.signals.profile import ClientProfile
from guard.store.base import DistinctAdd, DistinctCount, Op, Result, ValueGet, ValuePut, actor_key

HOLD = 600.0
REREAD = 1.0
"""Seconds a worker answers from its own view of the sitewide count and state before
reading them again (every record read used to: two reads on the one key every request
shares, a recount of a union of dense sketches each time, and on a cluster one hot shard)."""
REREAD_SHARE = 64
"""...or sooner, once this worker has added a 64th of the count it read (at least one): its
own adds are counted on top, so its view is never short of its own readers, and while the
count is small every add is followed by a fresh read, as before."""
REFRESH = 5.0
"""During a campaign its state is written at most this often, not on every read."""
WINDOW = 60.0
LEARNING_RATE = 0.05
"""Weight of one minute's sample in its hour's usual count (about the last 20 samples)."""
LEARN_DESPITE = 7200.0
"""A campaign that has run for two hours without a break is more likely a site busier than
it has learned (a new deployment, a launch): the usual is learned again despite it."""
STATE_TTL = 30 * 86400.0
CAMPAIGN_WEIGHT = 0.6
"""The default gray threshold: during a campaign every young client reading a record is
challenged."""
YOUNG = 300.0
"""A client first seen this recently is young: during a campaign its record reads are
challenged (a harvester keeping its cookies is past its first pages within a second)."""
_LAYOUT = struct.Struct("<24fIdd")

CAMPAIGN: Evidence[bool] = Evidence("campaign")
"""Whether a campaign is under way (new clients reading records far above the usual)."""
CAMPAIGN_LEFT: Evidence[float] = Evidence("campaign_left")
"""During a campaign: the seconds until it is over, unless the crowd goes on."""


def is_young(profile: ClientProfile | None, now: float) -> bool:
    """Whether the client is on its first pages, or was first seen under ``YOUNG`` s ago."""
    if profile is None or profile.documents <= NEW_CLIENT_PAGES:
        return True
    return now - profile.first_seen < YOUNG


@dataclass(slots=True)
class CampaignState:
    """The site's usual count of new record readers by hour, and the campaign's times."""

    usual: list[float] = field(default_factory=lambda: [0.0] * 24)
    sampled_minute: int = 0
    started: float = 0.0
    last_exceeded: float = 0.0

    def expected(self, hour: int) -> float:
        """The usual count at ``hour``, the larger of it and its neighbours' (traffic
        shifts by an hour from day to day)."""
        usual = self.usual
        return max(usual[(hour - 1) % 24], usual[hour], usual[(hour + 1) % 24])

    def learn(self, hour: int, count: float) -> None:
        """Fold one minute's count into the hour's usual."""
        self.usual[hour] += LEARNING_RATE * (count - self.usual[hour])

    def pack(self) -> bytes:
        """A fixed 124-byte encoding."""
        return _LAYOUT.pack(*self.usual, self.sampled_minute, self.started, self.last_exceeded)

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack`."""
        *usual, minute, started, last = _LAYOUT.unpack(data)
        return cls(list(usual), minute, started, last)


@dataclass(slots=True)
class _View:
    """This worker's copy of the sitewide count and state, and its own adds since."""

    count: int
    state: CampaignState
    read_at: float
    added: int = 0

    def fresh(self, now: float) -> bool:
        """Whether it may still answer for the store at ``now``."""
        return 0.0 <= now - self.read_at < REREAD and self.added < max(
            1, self.count // REREAD_SHARE
        )


_FROM_VIEW = object()
"""Kept by ``plan`` when the request is judged from the worker's view (no reads planned)."""


@dataclass(frozen=True, slots=True)
class _Seen:
    newcomer: bool
    exceeded: bool
    active: bool
    count: int
    state: CampaignState


class CampaignSignal(BaseSignal):
    """Counts the networks whose new clients read records, sitewide, against the usual.

    Args:
        config: its ``campaign_floor``, ``campaign_factor``, ``utc_offset_hours`` and key
            prefix are used.
    """

    reads = (PROFILE,)
    provides = (CAMPAIGN, CAMPAIGN_LEFT)

    def __init__(self, config: GuardConfig) -> None:
        self.floor = config.campaign_floor
        self.factor = config.campaign_factor
        self.utc_offset_hours = config.utc_offset_hours
        prefix = config.key_prefix
        self.readers_key = actor_key(prefix, "global", "all", "cr")
        self.state_key = actor_key(prefix, "global", "all", "cs")
        self._view: _View | None = None

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        if facts.route.record_id is None or not facts.route.route_class.sensitive:
            return ()
        if self._view is not None and self._view.fresh(facts.now):
            report.keep(self, _FROM_VIEW)
            return ()
        return (DistinctCount(self.readers_key, WINDOW), ValueGet(self.state_key, CampaignState))

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        if report.degraded:
            self._judge_in_outage(facts, report)
            return
        view = self._view
        if len(results) == 2:
            count = results[0] if isinstance(results[0], int) else 0
            state = results[1] if isinstance(results[1], CampaignState) else CampaignState()
            view = self._view = _View(count, state, facts.now)
        elif view is None or report.kept(self) is not _FROM_VIEW:
            return  # not a record read, or judged without the store (it is out)
        count, state = view.count + view.added, view.state
        profile = report.read(PROFILE)
        newcomer = profile is None or profile.documents <= NEW_CLIENT_PAGES
        young = is_young(profile, facts.now)
        hour = local_hour(facts.now, self.utc_offset_hours)
        limit = max(float(self.floor), self.factor * state.expected(hour))
        exceeded = newcomer and count + 1 > limit
        left = HOLD if exceeded else state.last_exceeded + HOLD - facts.now
        active = 0.0 < left <= HOLD
        report.publish(CAMPAIGN, active)
        if active:
            report.publish(CAMPAIGN_LEFT, left)
        report.keep(self, _Seen(newcomer, exceeded, active, count, state))
        if active and young:
            report.add("campaign", CAMPAIGN_WEIGHT)

    def _judge_in_outage(self, facts: Facts, report: Report) -> None:
        """Without the shared store: a campaign this worker saw running goes on until its hold
        ends, young readers challenged as before (to the stand-in store every client looks
        young). Nothing new starts (every client looks new to it: no crowd to measure), and
        nothing is written back."""
        view = self._view
        if view is None or facts.route.record_id is None or not facts.route.route_class.sensitive:
            return
        left = view.state.last_exceeded + HOLD - facts.now
        if not 0.0 < left <= HOLD:
            return
        report.publish(CAMPAIGN, True)
        report.publish(CAMPAIGN_LEFT, left)
        if is_young(report.read(PROFILE), facts.now):
            report.add("campaign", CAMPAIGN_WEIGHT)

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        seen = report.kept(self)
        if not isinstance(seen, _Seen):
            return ()
        ops: list[Op] = []
        if seen.newcomer and status:
            ops.append(DistinctAdd(self.readers_key, facts.actors["network"], WINDOW))
            if self._view is not None:
                self._view.added += 1
        state, minute = seen.state, int(facts.now // 60)
        since, dirty = facts.now - state.last_exceeded, False
        if seen.exceeded and not 0.0 <= since < REFRESH:
            if not 0.0 <= since < HOLD:
                state.started = facts.now
            state.last_exceeded, dirty = facts.now, True
        if minute > state.sampled_minute and (
            not seen.active or facts.now - state.started > LEARN_DESPITE
        ):
            state.learn(local_hour(facts.now, self.utc_offset_hours), seen.count)
            state.sampled_minute, dirty = minute, True
        if dirty:
            ops.append(ValuePut(self.state_key, state, STATE_TTL))
        return ops
