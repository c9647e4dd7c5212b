"""Signed challenge tokens and clearance cookies, with key rotation.

A value is ``body.kid.mac``: the body, the id of the key that signed it, and a truncated
HMAC-SHA256. The current key signs; every configured key verifies, so rotating the secret
(the old one moves to ``previous_secrets``) logs nobody out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def key_id(key: bytes) -> str:
    """A short public name for a key (not secret: a hash of a hash)."""
    return hashlib.sha256(b"guard-key-id" + hashlib.sha256(key).digest()).hexdigest()[:8]


class Keyring:
    """Signs with the current key and verifies with any of them.

    Args:
        current: the key that signs.
        previous: keys that still verify (rotated out, not yet expired).
    """

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self.current = current
        self.current_id = key_id(current)
        self.keys = {key_id(key): key for key in (*previous, current)}

    def sign(self, body: str) -> str:
        """``body`` with the current key's id and MAC appended."""
        return f"{body}.{self.current_id}.{_mac(self.current, body)}"

    def open(self, value: str) -> str | None:
        """The body of a value a configured key signed, or None (constant-time compare)."""
        if not value.isascii() or len(value) > 2048:
            return None
        body, _, rest = value.rpartition(".")
        body, _, kid = body.rpartition(".")
        key = self.keys.get(kid)
        if key is None or not body:
            return None
        return body if hmac.compare_digest(rest, _mac(key, body)) else None

    @staticmethod
    def binding(network: str, user_agent: str) -> str:
        """A hash of the client's network group and user agent, to bind values to. Not keyed:
        the MAC over the value already protects it, and a rotated key must not change it."""
        material = f"{network}\n{user_agent}".encode("utf-8", "replace")
        return _b64(hashlib.blake2b(material, digest_size=9, person=b"guard-bind").digest())


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:18])
