"""What every signal shares: findings, the per-request report, and the Signal protocol.

A signal plans store operations, judges their results and settles writes after the
response. What it works out for one request it keeps under its own name in the report
(:meth:`Report.keep`); what other signals may read it publishes as typed
:class:`Evidence`, and it says so in ``provides``. A signal that reads evidence names it in
``reads``, and :func:`order_signals` runs it after the signals providing it: order is
declared, never a hidden contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from guard.errors import ConfigError
from guard.scoring import Finding
from guard.store.base import Op, Result
from guard.types import Action

if TYPE_CHECKING:
    from guard.facts import Facts

T = TypeVar("T")

__all__ = ["FINDINGS", "BaseSignal", "Evidence", "Finding", "Report", "Signal", "order_signals"]


class Evidence(Generic[T]):
    """The name of something one signal works out per request and others may read."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Evidence({self.name!r})"


FINDINGS: Evidence[None] = Evidence("findings")
"""Read by a signal that weighs the other signals' findings: it runs after all of them."""


@dataclass(slots=True)
class Report:
    """What the signals found about one request, and what each keeps until after it."""

    findings: list[Finding] = field(default_factory=list)
    degraded: bool = False
    """The shared store is out: the answers came from a per-process fallback, or there were
    none. What they lack (a profile, a marker) says nothing about the client."""
    _kept: dict[int, Any] = field(default_factory=dict)
    _evidence: dict[Evidence[Any], Any] = field(default_factory=dict)

    def add(
        self,
        reason: str,
        weight: float,
        *,
        action: Action = Action.ALLOW,
        retry_after: float | None = None,
        policy: str | None = None,
        hard: bool = False,
    ) -> None:
        """Record a finding (``hard``: see :class:`~guard.scoring.Finding`)."""
        self.findings.append(Finding(reason, weight, action, retry_after, policy, hard))

    def keep(self, owner: object, value: object) -> None:
        """Keep ``value`` for ``owner`` (a signal) until it settles the request."""
        self._kept[id(owner)] = value

    def kept(self, owner: object) -> Any:
        """What ``owner`` kept for this request, or None."""
        return self._kept.get(id(owner))

    def publish(self, key: Evidence[T], value: T) -> None:
        """Make ``value`` readable by the signals that declare ``key`` in ``reads``."""
        self._evidence[key] = value

    def read(self, key: Evidence[T]) -> T | None:
        """The evidence published under ``key``, or None when nothing published it."""
        value: T | None = self._evidence.get(key)
        return value


class Signal(Protocol):
    """A source of evidence. The engine batches every signal's ops into one store call.

    ``reads`` and ``provides`` name the :class:`Evidence` it reads and publishes.
    """

    @property
    def reads(self) -> tuple[Evidence[Any], ...]:
        """The evidence this signal reads (it runs after the signals providing it)."""
        ...

    @property
    def provides(self) -> tuple[Evidence[Any], ...]:
        """The evidence this signal publishes."""
        ...

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        """The store reads and atomic updates this signal needs before judging."""
        ...

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        """Add findings to ``report`` from the facts and the results of :meth:`plan`."""
        ...

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        """The writes to make once the response status is known (after the response)."""
        ...


class BaseSignal:
    """Defaults for a signal: it reads and publishes nothing, and has nothing to plan or
    settle (override what it needs)."""

    reads: tuple[Evidence[Any], ...] = ()
    provides: tuple[Evidence[Any], ...] = ()

    def plan(self, facts: Facts, report: Report) -> Sequence[Op]:
        return ()

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        return None

    def settle(self, facts: Facts, status: int, report: Report) -> Sequence[Op]:
        return ()


def order_signals(signals: Iterable[Signal]) -> tuple[Signal, ...]:
    """``signals`` in an order that honours their ``reads``: each after the signals that
    provide what it reads, those reading :data:`FINDINGS` after every other; otherwise as
    given.

    Raises:
        ConfigError: a signal reads evidence no signal provides, two signals provide the same
            evidence (a built-in signal passed again would count everything twice), or the
            reads form a cycle.
    """
    pending = list(signals)
    providers: dict[Evidence[Any], list[Signal]] = {}
    for signal in pending:
        for key in signal.provides:
            if key in providers:
                names = f"{type(providers[key][0]).__name__} and {type(signal).__name__}"
                raise ConfigError(f"signals: {names} both provide {key.name!r}")
            providers.setdefault(key, []).append(signal)
    weighers = [s for s in pending if FINDINGS in s.reads]
    needs: dict[int, set[int]] = {}
    for signal in pending:
        before: set[int] = set()
        for key in signal.reads:
            if key is FINDINGS:
                before |= {id(s) for s in pending if s not in weighers}
            elif key not in providers:
                name = type(signal).__name__
                raise ConfigError(f"signals: {name} reads {key.name!r}, which no signal provides")
            else:
                before |= {id(s) for s in providers[key] if s is not signal}
        needs[id(signal)] = before
    ordered: list[Signal] = []
    done: set[int] = set()
    while pending:
        ready = next((s for s in pending if needs[id(s)] <= done), None)
        if ready is None:
            names = ", ".join(type(s).__name__ for s in pending)
            raise ConfigError(f"signals: their reads form a cycle among {names}")
        ordered.append(ready)
        done.add(id(ready))
        pending.remove(ready)
    return tuple(ordered)
