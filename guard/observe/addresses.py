"""How client addresses appear where people read them: the decision log and the dashboard.

``full`` writes them as they are; ``truncated`` keeps the network only (an IPv4 address's
first three bytes, an IPv6 address's first 48 bits: the last byte or 80 bits zeroed, as
analytics products anonymise addresses); ``hashed`` writes a keyed hash, stable per address
while the secret is, so one client's lines still join up but the address is not in them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import partial
from typing import Literal

from guard.signing import keyed_hash

AddressMode = Literal["full", "truncated", "hashed"]
V4_KEPT = 24
V6_KEPT = 48


def address_shower(mode: AddressMode, secret: bytes) -> Callable[[str], str]:
    """What turns an address or network (as the facts hold them) into what is shown."""
    if mode == "hashed":
        return partial(keyed_hash, key=secret)
    if mode == "truncated":
        return truncate_address
    return str


def truncate_address(text: str) -> str:
    """An address or network cut to its first 24 (IPv4) or 48 (IPv6) bits, as a network
    (``198.51.100.0/24``, ``2001:db8:1::/48``); text that is neither comes back as it was."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return text
    kept = V4_KEPT if network.version == 4 else V6_KEPT
    if network.prefixlen > kept:
        network = network.supernet(new_prefix=kept)
    return str(network)
