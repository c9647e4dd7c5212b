"""Facts: what one request says about its client, computed once and read by every signal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from guard import native
from guard.config import GuardConfig
from guard.facts.agent import Agent, classify_agent
from guard.facts.client import (
    ClientAddressResolver,
    IPAddress,
    in_networks,
    network_of,
    parse_ip,
)
from guard.facts.cookies import parse_cookies
from guard.facts.fingerprint import default_identity, hash_identity, header_fingerprint
from guard.facts.routes import RouteMatch, RouteMatcher
from guard.policy import Policy
from guard.signing import Signer
from guard.types import ActorKind, Scope

IdentityExtractor = Callable[[Mapping[str, str], Mapping[str, str]], str | None]
"""(headers, cookies) -> a raw identity such as a session id or API key, or None."""

MAX_HEADER_VALUE = 8192
"""Longer header values are cut (Cookie headers sent on several lines are joined, then cut):
nothing the guard reads needs more, and it bounds the work."""

_LOOPBACK_HOSTS = ("localhost", "127.", "[::1]")
native_headers = native.load("guard.facts._headers")
"""The C twin of :func:`_decode_headers`'s one-pass path, when the build compiled it."""


@dataclass(slots=True)
class Facts:
    """One request, reduced to what the signals need. Read-only by convention.

    (Not a frozen dataclass: a frozen one costs microseconds to build on every request.)
    """

    now: float
    method: str
    path: str
    route: RouteMatch
    client_ip: IPAddress | None
    headers: Mapping[str, str]
    header_names: tuple[str, ...]
    cookies: Mapping[str, str]
    agent: Agent
    actors: Mapping[ActorKind, str]
    secure_context: bool
    tracked: bool
    good_bot: str | None = None
    """The search engine the user agent claims to be, if any (set by the middleware)."""
    verified_bot: bool = False
    """Whether the claim holds: the address is the engine's (set by the middleware)."""

    @property
    def user_agent(self) -> str:
        """The User-Agent header ('' when absent)."""
        return self.headers.get("user-agent", "")

    @property
    def is_document(self) -> bool:
        """A page or record (not a static asset): what a person navigates to."""
        return not self.route.route_class.static

    @property
    def wants_json(self) -> bool:
        """An API client: asks for JSON and not for HTML."""
        accept = self.headers.get("accept", "")
        return "application/json" in accept and "text/html" not in accept


class FactExtractor:
    """Turns an ASGI scope into :class:`Facts`, using the config's proxies, routes and cookies."""

    def __init__(
        self,
        config: GuardConfig,
        signer: Signer,
        identity: IdentityExtractor | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.config = config
        self.policy = policy or Policy(config.mode)
        self.signer = signer
        self.secret = signer.secret
        self.resolver = ClientAddressResolver(config.trusted_proxies, config.client_ip_header)
        self.routes = RouteMatcher(config.routes)
        cookie = config.identity_cookie
        self.identity = identity or (lambda h, c: default_identity(h, c, cookie))
        # What repeats request after request (a client's address and agent, a page's path)
        # is worked out once; each cache is bounded and simply starts over when full.
        self._addresses: dict[tuple[str | None, str | None], _Address] = {}
        self._routes: dict[str, RouteMatch] = {}
        self._clients: dict[tuple[str, str], str] = {}
        compiled = native.use("guard.facts._headers", "header decoding")
        self._decode = _decode_headers if compiled is None else _natively_decoded

    def extract(self, scope: Scope, now: float) -> Facts:
        """Read the facts of an HTTP scope; never raises on malformed headers."""
        names, headers = self._decode(scope.get("headers") or ())
        cookies = parse_cookies(headers["cookie"]) if "cookie" in headers else {}
        peer = scope.get("client")
        address = self._address(peer[0] if peer else None, headers)
        user_agent = headers.get("user-agent", "")
        agent = classify_agent(user_agent)
        tls_header = self.config.tls_fingerprint_header
        tls = headers.get(tls_header) if address.from_proxy and tls_header else None
        fingerprint = header_fingerprint(names, headers, tls)
        raw_identity = self.identity(headers, cookies)
        ip = address.text
        actors: dict[ActorKind, str] = {
            "ip": ip,
            "network": address.network,
            "fingerprint": fingerprint,
            "client": self._client_key(ip, user_agent),
            "global": "all",
        }
        if raw_identity:
            actors["identity"] = hash_identity(raw_identity, self.secret)
        tracked = self._tracked(cookies, now)
        path = scope.get("path") or "/"
        return Facts(
            now=now,
            method=scope.get("method", "GET"),
            path=path,
            route=self.routes.as_asset(self._route(path), headers.get("sec-fetch-dest")),
            client_ip=address.ip,
            headers=headers,
            header_names=names,
            cookies=cookies,
            agent=agent,
            actors=actors,
            secure_context=_secure_context(scope, headers, address.from_proxy),
            tracked=tracked,
        )

    def _address(self, peer: str | None, headers: dict[str, str]) -> _Address:
        """The client's address facts, cached by what they are computed from."""
        forwarded = headers.get(self.resolver.header) if self.config.trusted_proxies else None
        key = (peer, forwarded)
        found = self._addresses.get(key)
        if found is None:
            client_ip = self.resolver.resolve(peer, headers)
            # Not through ip_text's and network_group's caches: this one already holds the
            # result, and their keys would be more objects for the garbage collector.
            found = _Address(
                client_ip,
                str(client_ip) if client_ip is not None else "unknown",
                network_of(client_ip) if client_ip is not None else "unknown",
                self._from_proxy(peer),
            )
            if forwarded is None or len(forwarded) <= CACHED_TEXT:
                _remember(self._addresses, key, found)
        return found

    def _route(self, path: str) -> RouteMatch:
        found = self._routes.get(path)
        if found is None:
            found = self.routes.match(path)
            if found.record_id is None and len(path) <= CACHED_TEXT:
                _remember(self._routes, path, found)  # (records are many, rarely read twice)
        return found

    def _client_key(self, ip: str, user_agent: str) -> str:
        key = (ip, user_agent)
        found = self._clients.get(key)
        if found is None:
            found = client_key(ip, user_agent)
            if len(user_agent) <= CACHED_TEXT:
                _remember(self._clients, key, found)
        return found

    def _tracked(self, cookies: Mapping[str, str], now: float) -> bool:
        """Whether the client returned a valid guard cookie: browsers keep cookies."""
        value = cookies.get(self.config.tracking_cookie)
        return value is not None and self.signer.verify(value, now)

    def _from_proxy(self, peer: str | None) -> bool:
        """Whether the direct peer is a trusted proxy, whose headers may be believed."""
        if not peer or not self.config.trusted_proxies:
            return False
        address = parse_ip(peer)
        return address is not None and in_networks(address, self.config.trusted_proxies)


CACHE_SIZE = 16384
"""Entries in each of the extractor's caches before it starts over."""
CACHED_TEXT = 512
"""Longer header values and paths are worked out every time, never cached: a client sending
huge values must not fill the caches' memory (16,384 entries of 8 KiB would be 128 MiB)."""


@dataclass(frozen=True, slots=True)
class _Address:
    ip: IPAddress | None
    text: str
    network: str
    from_proxy: bool


def _remember(cache: dict[Any, Any], key: object, value: object) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()  # cheaper than LRU upkeep; a full cache refills in moments
    cache[key] = value


def _decode_headers(raw: object) -> tuple[tuple[str, ...], dict[str, str]]:
    """Header names in order and a name -> value map (first value wins; cookies joined).

    Latin-1 decodes any byte string, so malformed bytes cannot raise. The common case (short
    lowercase names, as ASGI requires, each once) takes one pass; anything else (repeated
    names, capitals, huge values, items that are not byte pairs) takes the careful path.
    """
    try:
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in raw  # type: ignore[attr-defined]
        }
    except (AttributeError, TypeError, ValueError):
        return _decode_headers_slowly(raw)
    names = tuple(headers)
    if (
        len(names) != len(raw)  # type: ignore[arg-type]
        or not "".join(names).islower()
        or max(map(len, headers.values()), default=0) > MAX_HEADER_VALUE
    ):
        return _decode_headers_slowly(raw)
    return names, headers


def _natively_decoded(raw: object) -> tuple[tuple[str, ...], dict[str, str]]:
    """:func:`_decode_headers` with its one-pass path in C (``guard/facts/_headers.c``),
    which hands anything unusual back to the Python."""
    assert native_headers is not None  # only chosen when it is built
    found: tuple[tuple[str, ...], dict[str, str]] | None = native_headers.decode(
        raw, MAX_HEADER_VALUE
    )
    return found if found is not None else _decode_headers(raw)


def _decode_headers_slowly(raw: object) -> tuple[tuple[str, ...], dict[str, str]]:
    """The same as :func:`_decode_headers`, skipping items that are not byte pairs."""
    names: list[str] = []
    headers: dict[str, str] = {}
    for item in raw if isinstance(raw, list | tuple) else ():
        try:
            key, value = item
            name = bytes(key).decode("latin-1").lower()
            text = bytes(value)[:MAX_HEADER_VALUE].decode("latin-1")
        except (TypeError, ValueError):
            continue
        names.append(name)
        if name not in headers:
            headers[name] = text
        elif name == "cookie" and len(headers[name]) < MAX_HEADER_VALUE:
            headers[name] = f"{headers[name]}; {text}"[:MAX_HEADER_VALUE]
    return tuple(names), headers


def client_key(ip_text: str, user_agent: str) -> str:
    """The key of one client: its address and user agent, hashed (what profiles are kept by)."""
    material = f"{ip_text}\n{user_agent}".encode("utf-8", "replace")
    return hashlib.blake2b(material, digest_size=8).hexdigest()


def _secure_context(scope: Scope, headers: Mapping[str, str], from_proxy: bool) -> bool:
    """Browsers send fetch metadata and client hints only to HTTPS or loopback origins."""
    if scope.get("scheme") in {"https", "wss"}:
        return True
    if from_proxy and headers.get("x-forwarded-proto", "").lower() == "https":
        return True
    host = headers.get("host", "")
    return host.startswith(_LOOPBACK_HOSTS)
