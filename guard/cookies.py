"""HMAC-signed cookie values, verified in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets


class CookieSigner:
    """Issues and checks ``token.issued.signature`` values signed with HMAC-SHA256.

    Args:
        secret: the signing key; every worker behind one site must share it.
        max_age: seconds a value stays valid after it is issued.
    """

    def __init__(self, secret: bytes, max_age: float = 7 * 86400) -> None:
        self.secret = secret
        self.max_age = max_age
        # HMAC's keyed state, computed once: each signature copies it (half the cost of
        # keying a new HMAC per cookie, which every response to a new client needs).
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)
        # Tokens must be unique, not secret (the signature guards them): a random prefix per
        # process and a counter avoid a system call for randomness on every cookie.
        self._prefix = secrets.token_urlsafe(6)
        self._issued = itertools.count()

    def issue(self, now: float) -> str:
        """A fresh signed value with a unique token."""
        body = f"{self._prefix}{next(self._issued):x}.{int(now)}"
        return f"{body}.{self._sign(body)}"

    def verify(self, value: str, now: float) -> bool:
        """Whether ``value`` was issued by this key and has not expired."""
        body, _, signature = value.rpartition(".")
        _, _, issued = body.partition(".")
        if not signature or not value.isascii() or not issued.isdigit() or len(issued) > 12:
            return False
        if not hmac.compare_digest(signature, self._sign(body)):
            return False
        return 0 <= now - int(issued) <= self.max_age

    def _sign(self, body: str) -> str:
        mac = self._keyed.copy()
        mac.update(body.encode("ascii", "replace"))
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode("ascii")
