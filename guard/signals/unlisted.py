"""Unlisted records: young clients reading what no page showed anybody lately.

A person who lands on a record from outside the site follows a link someone made from what
the site showed (see :mod:`guard.signals.exposure`). A harvester reading ids from the whole
id space reads records no page showed anybody. So a young client (see
:func:`~guard.signals.campaign.is_young`) reading a record that neither it nor anyone else
was shown lately is turned back to the site's own pages (``unlisted_record``, a 429 that no
challenge opens): during a campaign at once, otherwise from the ``UNLISTED_RUN``-th record
in a row nobody showed it. A farm that solves challenges natively gets no more of the id
space than a client that solves none; a person finds the record through a listing or
search, where it is shown to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.config import GuardConfig
from guard.facts import Facts
from guard.signals.base import BaseSignal, Report
from guard.signals.behaviour import PROFILE
from guard.signals.campaign import CAMPAIGN, CAMPAIGN_LEFT, is_young
from guard.signals.discovery import DISCOVERY, scannable
from guard.signals.exposure import Exposure, Shown, exposure_key
from guard.store.base import Op, Result, ValueGet
from guard.types import Action

UNLISTED_RUN = 3
"""Outside a campaign, the record in a row nobody showed a young client from which records
nobody showed anybody are turned back (two links from an old message still open)."""
UNLISTED = 0.6


class UnlistedSignal(BaseSignal):
    """Turns young clients back from records no page showed anybody lately.

    The markers are written by :class:`~guard.signals.discovery.DiscoverySignal` from the
    pages it scans; this signal reads the marker of each record read. It is active only
    when some route class has ``shows_records = true``.

    Args:
        config: its routes and key prefix are used.
        exposure: the markers the discovery signal writes (what this process marked lately
            counts as shown, whether or not its write has landed).
    """

    reads = (PROFILE, DISCOVERY, CAMPAIGN, CAMPAIGN_LEFT)
    provides = ()

    def __init__(self, config: GuardConfig, exposure: Exposure) -> None:
        self.prefix = config.key_prefix
        self.exposure = exposure
        self.active = any(route.shows_records for route in config.routes)

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        record = facts.route.record_id
        if not self.active or record is None or not facts.route.route_class.sensitive:
            return ()
        if facts.verified_bot or not scannable(record):
            return ()  # a crawler let in; an id no link scan can note: nothing to ask
        return (ValueGet(exposure_key(self.prefix, record), Shown),)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        profile, record = report.read(PROFILE), facts.route.record_id
        if len(results) != 1 or results[0] is not None or profile is None or record is None:
            return
        if report.degraded:
            return  # the stand-in store of an outage knows no markers
        if self.exposure.noted(record, facts.now):
            return  # this process marked it lately (and the write may not have landed)
        if report.read(DISCOVERY) is not False or not is_young(profile, facts.now):
            return
        left = report.read(CAMPAIGN_LEFT) if report.read(CAMPAIGN) else None
        if left is None and profile.ledger.streak < UNLISTED_RUN:
            return
        report.add("unlisted_record", UNLISTED, action=Action.THROTTLE, retry_after=left)
