"""Discovery: whether a client reads records it was shown, or records nobody showed it.

A person reads the records a listing or a search showed them, or lands on one from a link
elsewhere (a search engine, a message). A harvester that knows the id space reads records
no page of the site ever showed it. For each client the guard keeps a small ledger of the
record ids it saw in the pages it served that client from route classes marked
``shows_records`` (their bodies are scanned for links to record routes), kept in the
client's profile (:class:`~guard.signals.ledger.Ledger`), and on each record read asks the
ledger whether this record was shown.

One record nobody showed is a landing and costs nothing. A streak of them is soft evidence
(a person may open a few links from an e-mail: a challenge gets them past). Walking ids in
order that were never shown is enumeration, which a person does not do by accident: hard
evidence. What the pages showed is also marked sitewide (:mod:`guard.signals.exposure`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

from guard.config import GuardConfig
from guard.facts import Facts
from guard.signals.base import BaseSignal, Evidence, Report
from guard.signals.behaviour import PROFILE, referrer_kind
from guard.signals.exposure import Exposure
from guard.signals.ledger import MAX_SHOWN
from guard.signals.profile import REFERRER_SITE, record_number
from guard.store.base import Op, Result

MAX_SCANNED = 1 << 20
"""Bytes of one response scanned for record links; the rest is passed on unread."""
MAX_LINKS = MAX_SHOWN
"""Record ids taken from one response (no more than the ledger keeps)."""
MAX_MATCHES = 4 * MAX_LINKS
"""Links looked at in one response, repeats included: a body of one link repeated costs
no more than this."""
_TAIL = 160
"""Bytes kept from the end of one body chunk, so a link split between chunks is found."""

STREAK_WEIGHTS = {2: 0.3, 3: 0.45}
STREAK_LONG = 0.6
"""Four or more records in a row that nobody showed the client: the gray threshold."""
ENUMERATION_STEPS = 5
ENUMERATION = 0.9


DISCOVERY: Evidence[bool] = Evidence("discovery")
"""On a record read, when some route class shows records: whether the client was shown it."""


_LINK_START = rb"""(?:(?:href|src)\s*=\s*["']?|":\s*")(?:https?://[^/"'\s<>]{1,255})?"""
"""Where a link starts: an ``href`` or ``src`` attribute's value, or a JSON string value,
with or without the site's origin. Only there: a record path echoed anywhere else in a page
(a search box repeating what was typed) shows nothing."""
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ID = rb"[A-Za-z0-9_.~-]{1,64}"
"""A record id the scanner finds in a link: unreserved URL characters, at most 64."""
_SCANNABLE = re.compile(_ID.decode())


def scannable(record: str) -> bool:
    """Whether links to ``record`` can be found by the scanner (ids with other characters,
    percent-encoded or longer, are never noted as shown)."""
    return _SCANNABLE.fullmatch(record) is not None


def link_pattern(templates: Sequence[str]) -> re.Pattern[bytes] | None:
    """A pattern finding links to the record templates (``/resume/{id}``,
    ``/org/{org}/resume/{id}``) in a body; the ``id`` is the first group that matched.
    None when no template names a record (has an ``{id}``)."""
    alternatives = []
    for template in templates:
        if "{id}" not in template:
            continue
        parts, last = [], 0
        for found in _PARAM.finditer(template):
            parts.append(re.escape(template[last : found.start()].encode()))
            named = found.group(1) == "id"
            parts.append(b"(" + _ID + b")" if named else rb"[^/\"'<>\s?#]{1,64}")
            last = found.end()
        tail = template[last:].rstrip("*")
        end = re.escape(tail.encode()) if tail else rb"[\"'<>\s?#/]"
        alternatives.append(_LINK_START + b"".join(parts) + b"(?=" + end + b")")
    if not alternatives:
        return None
    return re.compile(b"|".join(b"(?:" + a + b")" for a in alternatives), re.IGNORECASE)


class LinkScanner:
    """Collects the record ids linked from one response body, chunk by chunk.

    A body sent with gzip or deflate is inflated as it goes (at most ``MAX_SCANNED`` bytes
    come out, whatever went in); other encodings (br, zstd) are not read, so put the guard
    inside compression that uses them.
    """

    __slots__ = ("_inflate", "_matches", "_pattern", "_scanned", "_started", "_tail", "ids")

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self._pattern = pattern
        self._tail = b""
        self._scanned = 0
        self._started = False
        self._inflate: Any = None
        self._matches = 0
        self.ids: dict[str, None] = {}
        """The ids found, in the order the page shows them."""

    def feed(self, chunk: bytes, encoding: str | None = None) -> None:
        """Scan the next chunk of the body, sent with Content-Encoding ``encoding``."""
        if not self._started:
            self._started = True
            self._begin((encoding or "identity").strip().lower())
        if self._scanned >= MAX_SCANNED or self._matches >= MAX_MATCHES or not chunk:
            return
        if self._inflate is not None:
            try:
                chunk = self._inflate.decompress(chunk, MAX_SCANNED - self._scanned)
            except zlib.error:
                self._scanned = MAX_SCANNED  # not what it claims: read no further
                return
        chunk = chunk[: MAX_SCANNED - self._scanned]
        self._scanned += len(chunk)
        text = self._tail + chunk
        for match in self._pattern.finditer(text):
            self._matches += 1
            found = next(group for group in match.groups() if group is not None)
            self.ids[found.decode("ascii")] = None
            if len(self.ids) >= MAX_LINKS or self._matches >= MAX_MATCHES:
                return
        self._tail = text[-_TAIL:]

    def _begin(self, encoding: str) -> None:
        if encoding in {"gzip", "x-gzip"}:
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj()
        elif encoding != "identity":
            self._scanned = MAX_SCANNED  # an encoding this scanner cannot read


class DiscoverySignal(BaseSignal):
    """Fills each client's ledger from the pages that show records, and checks it on every
    record read (the ledger is part of the profile the behaviour signal loads and stores).

    It is active only when some route class has ``shows_records = true`` (with nothing
    showing records, every read would look undiscovered).
    """

    reads = (PROFILE,)
    provides = (DISCOVERY,)

    def __init__(self, config: GuardConfig, exposure: Exposure | None = None) -> None:
        templates = [path for route in config.routes if route.sensitive for path in route.paths]
        showing = any(route.shows_records for route in config.routes)
        self.pattern = link_pattern(templates) if showing else None
        self.exposure = exposure or Exposure(config.key_prefix)

    def scanner(self, facts: Facts, report: Report) -> LinkScanner | None:
        """A scanner for this response's body, when its route class shows records."""
        if self.pattern is None or not facts.route.route_class.shows_records:
            return None
        scanner = LinkScanner(self.pattern)
        report.keep(self, scanner)
        return scanner

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        record, profile = facts.route.record_id, report.read(PROFILE)
        if self.pattern is None or record is None or profile is None:
            return
        ledger = profile.ledger
        shown = ledger.read(record, record_number(record))
        report.publish(DISCOVERY, shown)
        if shown:
            return
        if ledger.cold_steps >= ENUMERATION_STEPS:
            # A click from this site's own page may follow a listing the ledger lost (the
            # client changed network, or a request raced it): evidence, but not proof.
            clicked = referrer_kind(facts.headers) == REFERRER_SITE
            report.add("enumeration", ENUMERATION, hard=not clicked)
        elif ledger.streak >= 2:
            report.add("undiscovered_records", STREAK_WEIGHTS.get(ledger.streak, STREAK_LONG))

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        scanner: LinkScanner | None = report.kept(self)
        if scanner is None or not 200 <= status < 300:
            return ()
        profile = report.read(PROFILE)
        if profile is not None:
            # The behaviour signal's write of this profile is packed when the store runs
            # it, after every signal has settled: what is noted here goes with it.
            for shown in scanner.ids:
                profile.ledger.show(shown)
        return self.exposure.mark(scanner.ids, facts.now)
