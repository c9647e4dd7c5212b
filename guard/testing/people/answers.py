"""What the site's answers mean to a person, and a challenge page solved as its script would."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Literal

from guard.i18n import CATALOGUE

Answer = Literal["ok", "challenge", "gate", "throttle", "block", "error"]
"""What a response means to a person: ``gate`` is a challenge refusal without a page to
solve (a subresource, or a client the guard took for an API client)."""

VERIFY_PATH = "/guard/challenge/verify"

_CHALLENGE_TITLES = frozenset(
    f"<title>{html.escape(language['refusal.challenge.title'])}</title>"
    for language in CATALOGUE.values()
)
_TOKEN = re.compile(r'name="token" value="([^"]*)"')
_BITS = re.compile(r"bits = ([0-9]+)")


def read_answer(status: int, body: str) -> Answer:
    """What a response means to a person: ``ok`` (the site's answer, a 404 included), a
    ``challenge`` page to solve, a ``gate`` (a challenge refusal with nothing to solve), a
    ``throttle`` (429), a ``block`` (403) or an ``error`` (5xx)."""
    if status in {403, 429}:
        if 'id="guard-challenge"' in body and VERIFY_PATH in body:
            return "challenge"
        if any(title in body for title in _CHALLENGE_TITLES):
            return "gate"
        return "throttle" if status == 429 else "block"
    if status >= 500:
        return "error"
    return "ok"


def challenge_of(page: str) -> tuple[str, int]:
    """A challenge page's token and difficulty (the leading zero bits a solution needs).

    Raises:
        ValueError: the page has no token or difficulty.
    """
    token, bits = _TOKEN.search(page), _BITS.search(page)
    if token is None or bits is None:
        raise ValueError("not a challenge page")
    return html.unescape(token.group(1)), int(bits.group(1))


def solve_challenge(page: str) -> tuple[str, int]:
    """The token of a challenge page and a counter that solves it, found as its script does:
    the first counter whose SHA-256 of ``token:counter`` starts with the page's zero bits.

    Raises:
        ValueError: the page has no token or difficulty.
    """
    text, need = challenge_of(page)
    limit = 1 << (256 - need)  # a digest below this has `need` leading zero bits
    counter = 0
    while int.from_bytes(hashlib.sha256(f"{text}:{counter}".encode()).digest()) >= limit:
        counter += 1
    return text, counter
