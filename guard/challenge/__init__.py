"""The proof-of-work challenge: the gray zone's answer for browsers.

A browser sent to the gray zone gets a page whose script finds a SHA-256 proof of work (Web
Crypto) and posts it to ``/guard/challenge/verify``; a good answer sets a signed clearance
cookie bound to the client's network group and user agent, and returns the browser to the
page it asked for. API clients get a JSON 429 instead. A cleared client is not sent to the
gray zone again until the clearance expires, but its behaviour still counts: budgets, rate
limits and a block-level score still refuse it.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from starlette.responses import HTMLResponse, RedirectResponse, Response

from guard.challenge.page import VERIFY_PATH, ChallengeTicket, failed_page
from guard.challenge.work import solves
from guard.errors import StorageError
from guard.facts import Facts
from guard.policy import Policy
from guard.signing import Signer, binding
from guard.store import Store
from guard.store.base import RateHit, RateState, actor_key
from guard.types import Receive, Scope

logger = logging.getLogger("guard")

CLEARANCE_COOKIE = "__guard_clearance"
CLEARANCE, TOKEN = "clearance", "challenge"
"""The purposes clearances and challenge tokens are signed for."""
TOKEN_TTL = 300.0
MAX_FORM_BYTES = 4096
MAX_EXTRA_BITS = 4
CAMPAIGN_BITS = 3
"""Extra leading zero bits during a campaign: eight times the work (a person arriving
during a campaign pays it once per few records while young; a farm, for every few records
it harvests)."""
CAMPAIGN_RECORDS = 4
"""What a clearance earned during a campaign covers (see ``clearance_records``)."""

__all__ = ["CLEARANCE_COOKIE", "VERIFY_PATH", "ChallengeStats", "ChallengeTicket", "Challenges"]


@dataclass
class ChallengeStats:
    """Challenge counts since start: pages issued, solutions accepted and refused."""

    issued: int = 0
    passed: int = 0
    failed: int = 0


class Challenges:
    """Issues challenge pages, checks solutions and clearance cookies.

    Args:
        signer: signs tokens and clearances (and verifies them with rotated keys too).
        store: where used tokens are remembered (each token works once).
        prefix: the store key prefix.
        difficulty: leading zero bits a solution needs at the gray threshold.
        clearance_ttl: seconds a clearance lasts.
        policy: the live policy (difficulty rises by a bit per 0.1 above its gray threshold).
        records: what a clearance covers: a record read costs 1, one the client was never
            shown costs more (see :mod:`guard.signals.clearance`); a clearance earned
            during a campaign covers ``CAMPAIGN_RECORDS``.
        on_outcome: told ``issued``, ``passed`` or ``failed`` as each happens (metrics).
    """

    def __init__(
        self,
        signer: Signer,
        store: Store,
        *,
        prefix: str,
        difficulty: int,
        clearance_ttl: float,
        policy: Policy,
        records: int = 24,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.signer = signer
        self.store = store
        self.prefix = prefix
        self.difficulty = difficulty
        self.clearance_ttl = clearance_ttl
        self.policy = policy
        self.records = records
        self.stats = ChallengeStats()
        self.on_outcome = on_outcome or (lambda outcome: None)
        self._opened: tuple[str, list[str]] = ("", [])  # the last clearance checked

    def _binding(self, facts: Facts) -> str:
        return binding(facts.actors["network"], facts.user_agent)

    def difficulty_for(self, score: float) -> int:
        """More work for a higher score: one bit per 0.1 above the gray threshold, up to 4."""
        extra = int(max(score - self.policy.thresholds.gray, 0.0) * 10)
        return self.difficulty + min(extra, MAX_EXTRA_BITS)

    def ticket(
        self, facts: Facts, scope: Scope, score: float, campaign: bool = False
    ) -> ChallengeTicket:
        """A signed challenge for this client, returning it to the URL it asked for; during
        a ``campaign`` it is harder and its clearance covers less."""
        extra = self.difficulty_for(score) - self.difficulty + (CAMPAIGN_BITS if campaign else 0)
        difficulty = self.difficulty + min(extra, MAX_EXTRA_BITS)
        records = CAMPAIGN_RECORDS if campaign else self.records
        back = _return_path(scope)
        encoded = base64.urlsafe_b64encode(back.encode()).decode().rstrip("=")
        body = "|".join(
            (
                "c2",
                str(int(facts.now)),
                str(difficulty),
                self._binding(facts),
                secrets.token_urlsafe(12),
                str(records),
                encoded,
            )
        )
        self.stats.issued += 1
        self.on_outcome("issued")
        return ChallengeTicket(self.signer.sign(body, purpose=TOKEN), difficulty)

    def clearance(
        self, network: str, user_agent: str, now: float, records: int | None = None
    ) -> str:
        """A signed clearance for a client in ``network`` with ``user_agent``, covering
        ``records`` (``clearance_records`` when omitted)."""
        expires = int(now + self.clearance_ttl)
        bound = binding(network, user_agent)
        covers = self.records if records is None else records
        body = f"k2|{expires}|{bound}|{secrets.token_urlsafe(9)}|{covers}"
        return self.signer.sign(body, purpose=CLEARANCE)

    def _clearance(self, facts: Facts) -> list[str]:
        """The fields of a genuinely signed clearance the request carries, or [].

        Both the replay signal and the policy ask about the same cookie within a request,
        so the last answer is kept: the MAC is computed once.
        """
        value = facts.cookies.get(CLEARANCE_COOKIE)
        if not value:
            return []
        if value != self._opened[0]:
            body = self.signer.open(value, purpose=CLEARANCE)
            parts = body.split("|") if body else []
            valid = (
                len(parts) == 5
                and parts[0] == "k2"
                and parts[1].isdigit()
                and parts[4].isdigit()
                and len(parts[4]) <= 6
            )
            self._opened = (value, parts if valid else [])
        return self._opened[1]

    def clearance_id(self, facts: Facts) -> str | None:
        """The id of a genuinely signed clearance the request carries (bound to this client
        or not, expired or not), to notice one cookie travelling between networks."""
        parts = self._clearance(facts)
        return parts[3] if parts else None

    def cleared(self, facts: Facts) -> bool:
        """Whether the request carries a valid clearance for this network and user agent."""
        parts = self._clearance(facts)
        return bool(parts) and int(parts[1]) > facts.now and parts[2] == self._binding(facts)

    def covers(self, facts: Facts) -> int:
        """What the request's clearance covers (see ``records``); 0 without one."""
        parts = self._clearance(facts)
        return int(parts[4]) if parts else 0

    async def verify(
        self,
        facts: Facts,
        receive: Receive,
        tracking_cookie: Callable[[], str | None],
        secure: bool,
        language: str = "en",
    ) -> Response:
        """Check a posted solution: a redirect back with a clearance, or a 403 page.

        ``tracking_cookie`` gives the guard's own cookie header value to set too, if any;
        ``secure`` marks the clearance cookie ``Secure`` (the request came over HTTPS);
        ``language`` is the failure page's.
        """
        form = await read_form(receive) if facts.method == "POST" else None
        token = (form or {}).get("token", "")
        body = self.signer.open(token, purpose=TOKEN)
        parts = body.split("|") if body else []
        back = _decode_path(parts[6]) if len(parts) == 7 else "/"
        problem = self._problem(facts, form, token, parts)
        if problem is None:
            problem = await self._spend(parts[4], facts.now)
        if problem is not None:
            self.stats.failed += 1
            self.on_outcome("failed")
            page = failed_page(problem, back, language)
            return HTMLResponse(page, 403, {"Cache-Control": "no-store"})
        self.stats.passed += 1
        self.on_outcome("passed")
        response = RedirectResponse(back, 303, {"Cache-Control": "no-store"})
        response.set_cookie(
            CLEARANCE_COOKIE,
            self.clearance(facts.actors["network"], facts.user_agent, facts.now, int(parts[5])),
            max_age=int(self.clearance_ttl),
            httponly=True,
            samesite="lax",
            secure=secure,
        )
        extra = tracking_cookie()
        if extra is not None:
            response.raw_headers.append((b"set-cookie", extra.encode("latin-1")))
        return response

    def _problem(
        self, facts: Facts, form: dict[str, str] | None, token: str, parts: list[str]
    ) -> str | None:
        """Why a solution is refused (a catalogue key, shown translated), or None when it is
        good (the token still unspent)."""
        if form is None:
            return "challenge.problem.no_answer"
        if (
            len(parts) != 7
            or parts[0] != "c2"
            or not parts[1].isdigit()
            or not (parts[5].isdigit() and len(parts[5]) <= 6)
        ):
            return "challenge.problem.bad_token"
        if not 0 <= facts.now - int(parts[1]) <= TOKEN_TTL:
            return "challenge.problem.expired"
        if parts[3] != self._binding(facts):
            return "challenge.problem.moved"
        counter = form.get("counter", "")
        if not (counter.isascii() and counter.isdigit() and len(counter) <= 13):
            return "challenge.problem.malformed"
        if not parts[2].isdigit() or not solves(token, int(counter), int(parts[2])):
            return "challenge.problem.wrong"
        return None

    async def _spend(self, nonce: str, now: float) -> str | None:
        """Use the token up; None when it was unused."""
        key = actor_key(self.prefix, "global", "all", f"c:{nonce}")
        try:
            (state,) = await self.store.execute([RateHit(key, 1, TOKEN_TTL)], now)
        except StorageError as exc:
            logger.warning("guard: cannot record a used challenge (%s); accepting it", exc)
            return None
        assert isinstance(state, RateState)
        return None if state.allowed else "challenge.problem.used"


async def read_form(receive: Receive) -> dict[str, str] | None:
    """A small urlencoded form body, or None when it is too large or not a form."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_FORM_BYTES:
            return None
        if not message.get("more_body", False):
            break
    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=8, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()}


def _return_path(scope: Scope) -> str:
    """The path and query the client asked for, as a same-site relative URL."""
    path = quote(scope.get("path") or "/", safe="/%:@!$&'()*+,;=-._~")
    query = (scope.get("query_string") or b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _decode_path(encoded: str) -> str:
    """The return path from a token; '/' unless it is a plain same-site path."""
    try:
        path = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"  # never an open redirect
    return path
