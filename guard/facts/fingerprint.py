"""Stable per-client hashes: the header fingerprint and the hashed identity."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

# Headers a client sends the same way on every request; their values and relative order
# identify the software. Per-request headers (cookie, referer, sec-fetch-*, accept) vary
# between a page and its assets, so they stay out.
_STABLE = (
    "host",
    "connection",
    "user-agent",
    "accept-language",
    "accept-encoding",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "upgrade-insecure-requests",
    "dnt",
)
_STABLE_SET = frozenset(_STABLE)


def header_fingerprint(
    names: Sequence[str], headers: Mapping[str, str], tls_fingerprint: str | None
) -> str:
    """A short hex hash of the client's software as its headers (and TLS, if known) show it."""
    order = ",".join(name for name in names if name in _STABLE_SET)
    values = "\n".join(headers.get(name, "") for name in _STABLE[2:8])
    material = f"{tls_fingerprint or ''}\n{order}\n{values}"
    return hashlib.blake2b(material.encode("utf-8", "replace"), digest_size=8).hexdigest()


def hash_identity(value: str, secret: bytes) -> str:
    """A keyed hash of a session cookie or credential: counts it without storing it."""
    digest = hashlib.blake2b(value.encode("utf-8", "replace"), digest_size=8, key=secret[:64])
    return digest.hexdigest()


def default_identity(
    headers: Mapping[str, str], cookies: Mapping[str, str], cookie_name: str
) -> str | None:
    """The raw identity: the session cookie, else the ``Authorization`` header, else None."""
    return cookies.get(cookie_name) or headers.get("authorization") or None
