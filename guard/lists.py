"""Allow and deny lists: networks that skip the signals entirely."""

from __future__ import annotations

from collections.abc import Sequence

from guard.config import IPNetwork
from guard.facts.client import IPAddress, in_networks
from guard.types import Action


class AccessLists:
    """Deny wins over allow, so a blocked subnet inside an allowed range stays blocked."""

    def __init__(self, allow: Sequence[IPNetwork], deny: Sequence[IPNetwork]) -> None:
        self.allow = tuple(allow)
        self.deny = tuple(deny)

    def check(self, client_ip: IPAddress | None) -> Action | None:
        """BLOCK for denied, ALLOW for allowed, None when neither list names the client."""
        if client_ip is None:
            return None
        if self.deny and in_networks(client_ip, self.deny):
            return Action.BLOCK
        if self.allow and in_networks(client_ip, self.allow):
            return Action.ALLOW
        return None
