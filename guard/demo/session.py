"""Signed session cookie for demo employer accounts (HMAC-SHA256 over the username)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE_NAME = "session"
EMPLOYERS = frozenset(f"employer{n}" for n in range(1, 51))
DEMO_PASSWORD = "demo-pass"  # noqa: S105 - published demo credential, documented on /login
_COOKIE_ATTRIBUTES = "HttpOnly; SameSite=Lax; Path=/"


class SessionSigner:
    """Sign and verify ``username.signature`` cookie values with a per-app secret."""

    def __init__(self, secret: bytes | None = None) -> None:
        if secret is None:
            secret = secrets.token_bytes(32)
        if len(secret) < 16:
            raise ValueError("session_secret must be at least 16 bytes")
        self._secret = secret

    def _signature(self, username: str) -> str:
        return hmac.new(self._secret, username.encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(self, username: str) -> str:
        """Return the cookie value for ``username``."""
        return f"{username}.{self._signature(username)}"

    def verify(self, value: str | None) -> str | None:
        """Return the username if ``value`` carries a valid signature, else ``None``."""
        if not value:
            return None
        username, dot, signature = value.rpartition(".")
        if not dot or not username:
            return None
        expected = self._signature(username)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
            return None
        return username

    def set_cookie_header(self, username: str) -> str:
        """Return a ``Set-Cookie`` header value that signs ``username`` in."""
        return f"{COOKIE_NAME}={self.sign(username)}; {_COOKIE_ATTRIBUTES}"


def clear_cookie_header() -> str:
    """Return a ``Set-Cookie`` header value that removes the session cookie."""
    return f"{COOKIE_NAME}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; {_COOKIE_ATTRIBUTES}"


def check_credentials(username: str, password: str) -> bool:
    """Return True if ``username``/``password`` is one of the demo employer accounts."""
    password_ok = hmac.compare_digest(password.encode("utf-8"), DEMO_PASSWORD.encode("utf-8"))
    return username in EMPLOYERS and password_ok
