"""One signer for every value the guard hands out: cookies, clearances and challenge tokens.

A signed value is ``body.kid.mac``: the body, the id of the key that signed it, and a
truncated HMAC-SHA256, checked in constant time. The MAC also covers what the value is for
(its purpose: a cookie, a clearance, a challenge token), so a value signed for one purpose is
never accepted for another. The current key signs; every configured key verifies, so
rotating the secret (the old one moves to ``previous_secrets``) logs nobody out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
from collections.abc import Sequence

MAX_VALUE = 2048
"""Longer values are refused unread: nothing the guard signs comes near it."""
COOKIE = "cookie"
"""The purpose of the guard's tracking cookie."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def key_id(key: bytes) -> str:
    """A short public name for a key (not secret: a hash of a hash)."""
    return hashlib.sha256(b"guard-key-id" + hashlib.sha256(key).digest()).hexdigest()[:8]


def keyed_hash(value: str, key: bytes, size: int = 8) -> str:
    """A keyed BLAKE2b of ``value`` in hex: counts or logs a value without revealing it."""
    material = value.encode("utf-8", "replace")
    return hashlib.blake2b(material, digest_size=size, key=key[:64]).hexdigest()


class Signer:
    """Signs with the current key and verifies with any of them.

    Args:
        current: the key that signs; every worker behind one site must share it.
        previous: keys that still verify (rotated out, not yet expired).
        max_age: seconds an :meth:`issue`\\ d value stays valid.
    """

    def __init__(
        self, current: bytes, previous: Sequence[bytes] = (), max_age: float = 7 * 86400
    ) -> None:
        self.secret = current
        self.max_age = max_age
        self.current_id = key_id(current)
        # Each key's HMAC state, computed once: a signature copies it (half the cost of
        # keying a new HMAC, which every response to a new client needs).
        self._keyed = {
            key_id(key): hmac.new(key, digestmod=hashlib.sha256) for key in (*previous, current)
        }
        # Issued tokens must be unique, not secret (the MAC guards them): a random prefix per
        # process and a counter avoid a system call for randomness on every cookie.
        self._prefix = secrets.token_urlsafe(6)
        self._issued = itertools.count()

    def sign(self, body: str, *, purpose: str) -> str:
        """``body`` (ASCII) with the current key's id and its MAC for ``purpose`` appended."""
        return f"{body}.{self.current_id}.{self._mac(self.current_id, purpose, body)}"

    def open(self, value: str, *, purpose: str) -> str | None:
        """The body of a value a configured key signed for ``purpose``, or None."""
        if not value.isascii() or len(value) > MAX_VALUE:
            return None
        rest, _, mac = value.rpartition(".")
        body, _, kid = rest.rpartition(".")
        if kid not in self._keyed or not body:
            return None
        return body if hmac.compare_digest(mac, self._mac(kid, purpose, body)) else None

    def issue(self, now: float) -> str:
        """A fresh tracking-cookie value with a unique token, valid for ``max_age``."""
        return self.sign(f"{self._prefix}{next(self._issued):x}-{int(now)}", purpose=COOKIE)

    def verify(self, value: str, now: float) -> bool:
        """Whether ``value`` was :meth:`issue`\\ d by a configured key and has not expired."""
        body = self.open(value, purpose=COOKIE)
        if body is None:
            return False
        issued = body.rpartition("-")[2]
        if not issued.isdigit() or len(issued) > 12:
            return False
        return 0 <= now - int(issued) <= self.max_age

    def hash(self, value: str) -> str:
        """A keyed hash of ``value`` under the current key (identities, logged addresses)."""
        return keyed_hash(value, self.secret)

    def _mac(self, kid: str, purpose: str, body: str) -> str:
        mac = self._keyed[kid].copy()
        mac.update(f"{purpose}\0{body}".encode("ascii", "replace"))
        return _b64(mac.digest()[:18])


def binding(network: str, user_agent: str) -> str:
    """A hash of a client's network group and user agent, to bind a signed value to. Not
    keyed: the MAC over the value protects it, and a rotated key must not change it."""
    material = f"{network}\n{user_agent}".encode("utf-8", "replace")
    return _b64(hashlib.blake2b(material, digest_size=9, person=b"guard-bind").digest())
