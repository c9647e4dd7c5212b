"""The JSON-lines decision log: one line per refusal or flagged request, sampled allows."""

from __future__ import annotations

import json
import random
import sys
from typing import IO, TYPE_CHECKING

from guard.observe.addresses import AddressMode, address_shower
from guard.types import Action

if TYPE_CHECKING:
    from guard.facts import Facts
    from guard.policy import Verdict

FLUSH_EVERY = 1.0


class DecisionLog:
    """Appends decisions to a file (or ``-`` for stderr), flushing at most once a second.

    Args:
        target: a path, ``-`` for stderr, or an open text stream.
        allow_sample: the share of plain allows to log (0 logs none, 1 logs all).
        hash_ips: the older spelling of ``addresses="hashed"``.
        secret: the key for hashed addresses.
        addresses: how addresses and networks are written (see
            :mod:`guard.observe.addresses`): ``full``, ``truncated`` or ``hashed``.

    A line holds the request's method, path (not its query), route, user agent, the actors'
    keys (addresses as ``addresses`` says; identities only as keyed hashes) and the
    verdict: never a body, a header's value other than the user agent, or anything the
    response held.
    """

    def __init__(
        self,
        target: str | IO[str],
        allow_sample: float = 0.0,
        hash_ips: bool = False,
        secret: bytes = b"",
        addresses: AddressMode = "full",
    ) -> None:
        if isinstance(target, str):
            self.stream: IO[str] = (
                sys.stderr
                if target == "-"
                else open(  # noqa: SIM115
                    target, "a", encoding="utf-8", buffering=65536
                )
            )
            self._owned = target != "-"
        else:
            self.stream, self._owned = target, False
        self.allow_sample = allow_sample
        self.show = address_shower("hashed" if hash_ips else addresses, secret)
        self._last_flush = 0.0
        self._random = random.Random()  # noqa: S311 - log sampling, not security

    def wants(self, verdict: Verdict) -> bool:
        """Whether this verdict is logged: anything flagged, and sampled plain allows."""
        if verdict.action != Action.ALLOW or verdict.reasons or verdict.shadowed:
            return True
        return self.allow_sample > 0 and self._random.random() < self.allow_sample

    def write(self, facts: Facts, verdict: Verdict, status: int | None) -> None:
        """Append one decision line."""
        ip = facts.actors["ip"]
        line = {
            "ts": round(facts.now, 3),
            **verdict.as_dict(),
            "status": status,
            "method": facts.method,
            "path": facts.path[:512],
            "route": facts.route.template,
            "record": facts.route.route_class.sensitive,
            "ip": self.show(ip),
            "network": self.show(facts.actors["network"]),
            "fingerprint": facts.actors["fingerprint"],
            "identity": facts.actors.get("identity"),
            "ua": facts.user_agent[:256],
        }
        self.stream.write(json.dumps(line, separators=(",", ":")) + "\n")
        if facts.now - self._last_flush >= FLUSH_EVERY or facts.now < self._last_flush:
            self.stream.flush()
            self._last_flush = facts.now

    def close(self) -> None:
        """Flush, and close the file if this log opened it."""
        self.stream.flush()
        if self._owned:
            self.stream.close()
