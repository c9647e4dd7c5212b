"""The live policy as a JSON document: read it, validate a change to it, apply it.

A change is partial: ``{"mode": "shadow"}``, ``{"thresholds": {"gray": 0.5}}``,
``{"weights": {"no_cookies": 0.3, "fast_pace": null}}`` (``null`` drops a weight) or
``{"shadow": ["model"]}`` (the whole list of findings judged but not counted). It is
checked whole against the current policy before anything changes, so a bad change leaves
the policy as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Self

from guard.config.values import parse_reasons, parse_thresholds, parse_weights
from guard.errors import ConfigError
from guard.policy import Policy

FIELDS = frozenset({"mode", "thresholds", "weights", "shadow"})


def read_policy(policy: Policy) -> dict[str, Any]:
    """``policy`` as a JSON-ready document."""
    t = policy.thresholds
    return {
        "mode": policy.mode,
        "thresholds": {"gray": t.gray, "block": t.block, "gray_action": t.gray_action.label},
        "weights": dict(policy.weights),
        "shadow": sorted(policy.shadow),
    }


def merged(policy: Policy, change: Any) -> dict[str, Any]:
    """The whole document ``change`` would make of ``policy``, validated.

    Raises:
        ConfigError: the change is not an object of known fields with valid values.
    """
    if not isinstance(change, dict) or not change:
        raise ConfigError("expected a JSON object with mode, thresholds, weights or shadow")
    unknown = sorted(set(change) - FIELDS)
    if unknown:
        raise ConfigError(f"unknown field(s): {', '.join(map(str, unknown))}")
    document = read_policy(policy)
    if "mode" in change:
        document["mode"] = change["mode"]
    if "thresholds" in change:
        if not isinstance(change["thresholds"], dict):
            raise ConfigError("thresholds: expected an object")
        document["thresholds"] = document["thresholds"] | change["thresholds"]
    if "weights" in change:
        if not isinstance(change["weights"], dict):
            raise ConfigError("weights: expected an object of reason: weight (null drops one)")
        weights = document["weights"] | change["weights"]
        document["weights"] = {k: v for k, v in weights.items() if v is not None}
    if "shadow" in change:
        document["shadow"] = change["shadow"]
    check = Policy()
    apply_document(check, document)  # all checks, on a policy nobody reads
    return read_policy(check)


def apply_document(policy: Policy, document: dict[str, Any]) -> None:
    """Set ``policy`` to a whole ``document`` (all or nothing).

    Raises:
        ConfigError: a value is invalid; the policy is unchanged.
    """
    policy.update(
        mode=document["mode"],
        thresholds=parse_thresholds("thresholds", document["thresholds"]),
        weights=parse_weights("weights", document["weights"]),
        shadow=parse_reasons("shadow", document.get("shadow", [])),
    )


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """A policy as the store keeps it for every worker: the document, and who set it when.

    ``stamp`` names the change (a version and a random tag), so a worker applies each change
    once, even two made at the same moment on different workers (the last write wins).
    """

    document: dict[str, Any]
    stamp: str
    changed_at: float
    changed_by: str

    def pack(self) -> bytes:
        """JSON."""
        return json.dumps(
            {
                "document": self.document,
                "stamp": self.stamp,
                "changed_at": self.changed_at,
                "changed_by": self.changed_by,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The inverse of :meth:`pack`.

        Raises:
            ValueError: the bytes are not a record.
        """
        raw = json.loads(data)
        if not isinstance(raw, dict) or not isinstance(raw.get("document"), dict):
            raise ValueError("not a policy record")
        return cls(
            raw["document"], str(raw["stamp"]), float(raw["changed_at"]), str(raw["changed_by"])
        )

    @property
    def version(self) -> int:
        """The change's number (0 for the config's own policy)."""
        return int(self.stamp.partition("-")[0] or 0)
