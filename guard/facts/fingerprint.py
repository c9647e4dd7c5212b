"""Stable per-client hashes: the header fingerprint and the hashed identity."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from guard.signing import keyed_hash

# Headers a client sends the same way on every request; their values and relative order
# identify the software. Per-request headers (cookie, referer, sec-fetch-*, accept) vary
# between a page and its assets, so they stay out; so does upgrade-insecure-requests, which
# browsers send on navigations only.
_STABLE = (
    "host",
    "connection",
    "user-agent",
    "accept-language",
    "accept-encoding",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "dnt",
)
_STABLE_SET = frozenset(_STABLE)


_CACHE_SIZE = 8192
_CACHED_KEY_CHARS = 2048
"""Characters (header names, the values the key holds) past which a key is not cached: a
browser's come to about 450 (Chrome's navigation, with a proxy's headers)."""
_cache: dict[tuple[object, ...], str] = {}


def header_fingerprint(
    names: Sequence[str], headers: Mapping[str, str], tls_fingerprint: str | None
) -> str:
    """A short hex hash of the client's software as its headers (and TLS, if known) show it.

    Results are cached by their inputs: the same browser sends the same headers all day.
    """
    get = headers.get
    key = (
        tls_fingerprint,
        tuple(names),
        get("user-agent"),
        get("accept-language"),
        get("accept-encoding"),
        get("sec-ch-ua"),
        get("sec-ch-ua-mobile"),
        get("sec-ch-ua-platform"),
    )
    found = _cache.get(key)
    if found is None:
        found = _hash_fingerprint(names, headers, tls_fingerprint)
        # Only keys of ordinary size are kept: huge header names or values (up to 8 KiB
        # each) must not let a client fill the cache's memory.
        values = (tls_fingerprint, *key[2:])
        size = sum(map(len, names)) + sum(len(part) for part in values if part)
        if size <= _CACHED_KEY_CHARS:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()  # cheaper than LRU upkeep; a full cache refills in moments
            _cache[key] = found
    return found


def _hash_fingerprint(
    names: Sequence[str], headers: Mapping[str, str], tls_fingerprint: str | None
) -> str:
    order = ",".join(name for name in names if name in _STABLE_SET)
    values = "\n".join(headers.get(name, "") for name in _STABLE[2:8])
    material = f"{tls_fingerprint or ''}\n{order}\n{values}"
    return hashlib.blake2b(material.encode("utf-8", "replace"), digest_size=8).hexdigest()


def hash_identity(value: str, secret: bytes) -> str:
    """A keyed hash of a session cookie or credential: counts it without storing it."""
    return keyed_hash(value, secret)


def default_identity(
    headers: Mapping[str, str], cookies: Mapping[str, str], cookie_name: str
) -> str | None:
    """The raw identity: the session cookie, else the ``Authorization`` header, else None."""
    return cookies.get(cookie_name) or headers.get("authorization") or None
