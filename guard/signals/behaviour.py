"""Behaviour signals: how a client walks the site, from its profile over many requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from guard.facts import Facts
from guard.policy import Policy
from guard.signals.base import BaseSignal, Evidence, Report
from guard.signals.profile import (
    REFERRER_NONE,
    REFERRER_OTHER,
    REFERRER_SITE,
    ClientProfile,
    profile_type,
    record_number,
)
from guard.store.base import Op, Result, ValueGet, ValuePut, actor_key

PROFILE_TTL = 6 * 3600.0
PROFILE: Evidence[ClientProfile] = Evidence("profile")
"""The client's profile with this request counted (its status not yet)."""
FIRST_VISIT = 300.0
"""A client first seen this recently is on its first visit: its browser has no cached assets."""
BURST_GAP = 0.5
"""Pages this close together on average, over three or more gaps, are not opened by a
person's hand: pointing at a link and clicking takes about 1.1 s (the Keystroke-Level
Model's P + B operators, Card, Moran and Newell 1983), even to open links in new tabs."""
NEW_CLIENT_PAGES = 3
"""A client is new for its first pages; after that it has a history to be judged on."""


def profile_key(prefix: str, facts: Facts) -> str:
    """Where the request's client's profile is stored."""
    return actor_key(prefix, "client", facts.actors["client"], "p")


def referrer_kind(headers: Mapping[str, str]) -> int:
    """Where the Referer points: nowhere, this site (the Host header's) or elsewhere."""
    referrer = headers.get("referer")
    if not referrer:
        return REFERRER_NONE
    parts = referrer.split("/", 3)
    host = headers.get("host")
    return REFERRER_SITE if host and len(parts) > 2 and parts[2] == host else REFERRER_OTHER


def local_hour(now: float, utc_offset_hours: float) -> int:
    """The hour of day (0-23) on the site's clock."""
    return int((now + utc_offset_hours * 3600.0) % 86400.0 // 3600.0)


class BehaviourSignal(BaseSignal):
    """Keeps a :class:`ClientProfile` per client and scores the habits of machines.

    Each finding needs several requests of evidence, and none alone reaches the default gray
    threshold: a person can look odd once; a harvester looks odd in several ways at once.

    Args:
        prefix: the store key prefix.
        honeypot_paths: paths linked invisibly, so only a crawler fetches them.
        robots_disallow: path prefixes robots.txt disallows.
        policy: the live policy: only while it enforces does the guard set its cookie, so
            that a client that never returns it can be told apart.
        utc_offset_hours: the site's time zone, for night-time activity.
    """

    def __init__(
        self,
        prefix: str,
        honeypot_paths: Sequence[str],
        robots_disallow: Sequence[str],
        policy: Policy,
        utc_offset_hours: float = 0.0,
    ) -> None:
        self.prefix = prefix
        self.utc_offset_hours = utc_offset_hours
        self.honeypot_paths = frozenset(honeypot_paths)
        self.robots_disallow = tuple(robots_disallow)
        self.policy = policy
        self.profiles = profile_type()
        """The profile class: the compiled twin unless it is not built or turned off."""

    provides = (PROFILE,)

    def _key(self, facts: Facts) -> str:
        return profile_key(self.prefix, facts)

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        return (ValueGet(self._key(facts), self.profiles),)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        found = results[0]
        profile = found if isinstance(found, self.profiles) else self.profiles()
        profile.observe(
            facts.now,
            static=facts.route.route_class.static,
            record=record_number(facts.route.record_id),
            tracked=facts.tracked,
            robots=facts.path == "/robots.txt",
            honeypot=facts.path in self.honeypot_paths,
            path=facts.path,
            referrer=referrer_kind(facts.headers),
            head=facts.method == "HEAD",
            api=facts.wants_json,
            local_hour=local_hour(facts.now, self.utc_offset_hours),
        )
        report.publish(PROFILE, profile)
        self._score(facts, profile, report)

    def _score(self, facts: Facts, p: ClientProfile, report: Report) -> None:
        if p.honeypot_hits:
            report.add("honeypot", 0.95, hard=True)
        if p.robots_fetches and facts.path.startswith(self.robots_disallow):
            report.add("robots_ignored", 0.7, hard=True)
        if facts.agent.kind == "declared_bot":
            return  # it says it is a machine: judged on rate and robots.txt, not habits
        if p.sequential_steps >= 5 and p.sequential_steps * 2 >= p.records - 1:
            report.add("sequential_ids", 0.55)
        browser = facts.agent.kind == "browser"
        first_visit = browser and facts.now - p.first_seen < FIRST_VISIT
        if p.statics == 0 and (p.documents >= 6 or (p.documents >= 3 and first_visit)):
            # A browser's first visit always loads the pages' assets (nothing is cached yet).
            report.add("no_static_assets", 0.5 if p.documents >= 6 else 0.45)
        if self.policy.enforced and p.documents >= 5 and p.cookie_returns == 0:
            report.add("no_cookies", 0.5)
        if browser and p.doc_gap_count >= 3 and p.doc_gap_mean < BURST_GAP:
            report.add("fast_pace", 0.6)  # a browser UA at a pace no hand clicks: challenge
        elif p.doc_gap_count >= 8 and p.doc_gap_mean < 1.0:
            report.add("fast_pace", 0.5)
        if p.doc_gap_count >= 10 and p.doc_gap_cv < 0.25:
            report.add("machine_timing", 0.45)
        if p.requests >= 10 and p.client_errors * 2 > p.requests:
            report.add("many_errors", 0.4)

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        profile = report.read(PROFILE)
        if profile is None:
            return ()
        profile.observe_status(status)
        return (ValuePut(self._key(facts), profile, PROFILE_TTL),)
