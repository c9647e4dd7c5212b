"""Verified good bots: search engines recognised by their address, not their word.

A request whose user agent names a known search engine is checked against that engine's
published address ranges (package data, refreshed with ``guard update-bots``), then, if
none matches, by forward-confirmed reverse DNS: the address's PTR name must end in one of
the engine's domains, and that name must resolve back to the address. Answers are cached
(a day when verified, an hour when not) and every lookup has a timeout; a resolver that
fails or times out leaves the claim unverified.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

from guard.config import IPNetwork
from guard.errors import ConfigError
from guard.facts import Facts
from guard.facts.client import IPAddress, in_networks, parse_ip

logger = logging.getLogger("guard")

VERIFIED_TTL = 86400.0
UNVERIFIED_TTL = 3600.0
CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class GoodBot:
    """One search engine: the UA tokens it uses, its reverse-DNS domains and its ranges."""

    name: str
    agents: tuple[str, ...]
    domains: tuple[str, ...]
    ranges: tuple[IPNetwork, ...]


class Resolver(Protocol):
    """The two lookups verification needs (injectable: tests use a local DNS server)."""

    async def ptr(self, address: str) -> list[str]:
        """The PTR names of an address ([] when none)."""
        ...

    async def addresses(self, name: str) -> list[str]:
        """The A and AAAA addresses of a name ([] when none)."""
        ...


class DnsResolver:
    """:class:`Resolver` on dnspython's asynchronous resolver.

    Args:
        nameservers: servers to ask (the system's when None).
        port: their port.
        timeout: seconds for each whole lookup.
    """

    def __init__(
        self, nameservers: Sequence[str] | None = None, port: int = 53, timeout: float = 1.0
    ) -> None:
        import dns.asyncresolver  # noqa: PLC0415 - only needed when verifying

        self._resolver = dns.asyncresolver.Resolver(configure=nameservers is None)
        if nameservers is not None:
            self._resolver.nameservers = list(nameservers)
        self._resolver.port = port
        self._resolver.lifetime = timeout

    async def ptr(self, address: str) -> list[str]:
        import dns.exception  # noqa: PLC0415

        try:
            answer = await self._resolver.resolve_address(address)
        except dns.exception.DNSException:
            return []
        return [str(record.target).rstrip(".").lower() for record in answer]

    async def addresses(self, name: str) -> list[str]:
        import dns.exception  # noqa: PLC0415

        found: list[str] = []
        for kind in ("A", "AAAA"):
            try:
                answer = await self._resolver.resolve(name, kind)
            except dns.exception.DNSException:
                continue
            found += [record.to_text() for record in answer]
        return found


def load_good_bots(path: str | Path | None = None) -> tuple[GoodBot, ...]:
    """The good bots from a JSON file (the shipped list when ``path`` is None)."""
    source = Path(path) if path else Path(str(resources.files("guard.data") / "good_bots.json"))
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        return tuple(
            GoodBot(
                str(bot["name"]),
                tuple(str(a) for a in bot["agents"]),
                tuple(str(d).lower().strip(".") for d in bot["domains"]),
                tuple(_network(r) for r in bot["ranges"]),
            )
            for bot in document["bots"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"good bots file {source}: {exc}") from exc


def _network(text: object) -> IPNetwork:
    import ipaddress  # noqa: PLC0415

    return ipaddress.ip_network(str(text), strict=False)


class GoodBotVerifier:
    """Tells a verified good bot from one that only claims to be one.

    Args:
        bots: the known good bots.
        resolver: DNS lookups (None: ranges only).
        clock: monotonic seconds, for the cache.
    """

    def __init__(
        self,
        bots: Sequence[GoodBot],
        resolver: Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bots = tuple(bots)
        self.resolver = resolver
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    def claimed(self, facts: Facts) -> GoodBot | None:
        """The good bot a declared bot's user agent names, if this verifier can check it
        (it has the bot's ranges, or asks DNS); a claim that cannot be checked is left a
        plain declared bot, neither verified nor an impostor."""
        if facts.agent.kind != "declared_bot":
            return None
        user_agent = facts.user_agent
        for bot in self.bots:
            if any(token in user_agent for token in bot.agents):
                return bot if bot.ranges or self.resolver is not None else None
        return None

    async def verify(self, bot: GoodBot, address: IPAddress | None) -> bool:
        """Whether ``address`` really belongs to ``bot`` (published range or FCrDNS)."""
        if address is None:
            return False
        if in_networks(address, bot.ranges):
            return True
        if self.resolver is None:
            return False
        key = (bot.name, str(address))
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        verified = await self._forward_confirmed(bot, str(address))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (verified, now + (VERIFIED_TTL if verified else UNVERIFIED_TTL))
        return verified

    async def _forward_confirmed(self, bot: GoodBot, address: str) -> bool:
        assert self.resolver is not None
        try:
            for name in await self.resolver.ptr(address):
                if not any(name == d or name.endswith("." + d) for d in bot.domains):
                    continue
                back = {parse_ip(a) for a in await self.resolver.addresses(name)}
                if parse_ip(address) in back:
                    return True
        except (TimeoutError, OSError) as exc:
            logger.warning("guard: could not verify %s as %s: %s", address, bot.name, exc)
        return False


def update_good_bots(
    sources: Sequence[tuple[str, str | Path]], base: str | Path | None = None
) -> dict[str, object]:
    """The good-bots document with the ranges of each named bot replaced by those in its
    operator's published JSON (``{"prefixes": [{"ipv4Prefix": ...}, {"ipv6Prefix": ...}]}``,
    the format Google, Bing and Apple publish).

    Raises:
        ConfigError: an unknown bot name, or a file that is not such a list.
    """
    source = Path(base) if base else Path(str(resources.files("guard.data") / "good_bots.json"))
    document: dict[str, object] = json.loads(source.read_text(encoding="utf-8"))
    bots = {bot["name"]: bot for bot in document["bots"]}  # type: ignore[attr-defined]
    for name, path in sources:
        if name not in bots:
            raise ConfigError(f"update-bots: unknown bot {name!r}; known: {', '.join(bots)}")
        try:
            published = json.loads(Path(path).read_text(encoding="utf-8"))
            ranges = [
                str(_network(prefix.get("ipv4Prefix") or prefix.get("ipv6Prefix")))
                for prefix in published["prefixes"]
            ]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"update-bots: {path} is not a published range list: {exc}") from exc
        bots[name]["ranges"] = ranges
    return document
