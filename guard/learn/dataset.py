"""From request events to feature rows, through the middleware's own code.

Each event becomes an ASGI scope and goes through the guard's fact extraction, the
user-agent and header signals, and the behaviour signal's profile update; the row is what
:func:`guard.model.features.features` returns for it, exactly as in service. Only page
requests are rows: static assets update the profile but are not scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guard.config import GuardConfig
from guard.demo.config import demo_config
from guard.facts import FactExtractor, Facts
from guard.learn.events import GOOD_BOT_FAMILIES, Event
from guard.model.features import FEATURES, features
from guard.policy import Policy
from guard.signals.base import Report
from guard.signals.behaviour import PROFILE, BehaviourSignal
from guard.signals.headers import HeaderSignal
from guard.signals.profile import ClientProfile
from guard.signals.user_agent import UserAgentSignal
from guard.signing import Signer
from guard.types import Scope

KEPT_COOKIE = "kept"
"""The simulator's stand-in for a guard cookie the client kept; replaced by a signed one."""

_SECRET = b"guard-training-replay-not-a-secret"


@dataclass(frozen=True, slots=True)
class Dataset:
    """Feature rows with who sent each request.

    Attributes:
        x: one row per scored (page) request, columns in ``FEATURES`` order.
        bot: the label of each row.
        actor: the actor (person, bot operator) of each row: the cross-validation group.
        family: the actor's family.
        client: the client key (IP and user agent) the guard tracked the row under.
        record: whether the row's request fetched a sensitive record successfully.
        time: when the row's request was sent (seconds since the epoch).
    """

    x: npt.NDArray[np.float64]
    bot: npt.NDArray[np.bool_]
    actor: npt.NDArray[np.str_]
    family: npt.NDArray[np.str_]
    client: npt.NDArray[np.str_]
    record: npt.NDArray[np.bool_]
    time: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.bot)

    @property
    def human(self) -> npt.NDArray[np.bool_]:
        """Rows from people: not harvesting and not an honest crawler either."""
        return ~self.bot & ~np.isin(self.family, sorted(GOOD_BOT_FAMILIES))

    def where(self, mask: npt.NDArray[np.bool_]) -> Dataset:
        """The rows where ``mask`` holds."""
        return Dataset(
            self.x[mask],
            self.bot[mask],
            self.actor[mask],
            self.family[mask],
            self.client[mask],
            self.record[mask],
            self.time[mask],
        )


class Replayer:
    """Runs events through the guard's feature code, keeping one profile per client.

    Args:
        config: the guard config whose routes, cookies and proxies apply.
    """

    def __init__(self, config: GuardConfig | None = None) -> None:
        self.config = config or demo_config({"mode": "enforce"})
        self.signer = Signer(_SECRET, max_age=7 * 86400)
        self.extractor = FactExtractor(self.config, self.signer)
        self.stateless = (UserAgentSignal(self.config.robots_disallow), HeaderSignal())
        self.behaviour = BehaviourSignal(
            self.config.key_prefix,
            self.config.honeypot_paths,
            self.config.robots_disallow,
            policy=Policy("enforce"),
            utc_offset_hours=self.config.utc_offset_hours,
        )
        self.profiles: dict[str, ClientProfile] = {}

    def observe(self, event: Event) -> tuple[Facts, ClientProfile, Report]:
        """Judge one event as the middleware would, up to the profile update (its status not
        yet counted): the facts, the client's profile and the report."""
        facts = self.extractor.extract(self._scope(event), event.time)
        report = Report()
        for signal in self.stateless:
            signal.judge(facts, (), report)
        client = facts.actors["client"]
        self.behaviour.judge(facts, (self.profiles.get(client),), report)
        profile = report.read(PROFILE)
        assert profile is not None  # the behaviour signal always leaves one
        self.profiles[client] = profile
        return facts, profile, report

    def row(self, event: Event) -> tuple[str, list[float] | None]:
        """Observe one event: its client key, and its feature row if it is a page request."""
        facts, profile, report = self.observe(event)
        vector = features(facts, profile, report) if facts.is_document else None
        profile.observe_status(event.status)
        return facts.actors["client"], vector

    def _scope(self, event: Event) -> Scope:
        scope = event.scope()
        name = self.config.tracking_cookie.encode()
        kept = f"{self.config.tracking_cookie}={KEPT_COOKIE}".encode()
        headers = scope["headers"]
        for i, (key, value) in enumerate(headers):
            if key == b"cookie" and kept in value:
                token = self.signer.issue(event.time).encode()
                headers[i] = (key, value.replace(kept, name + b"=" + token))
        return scope


def build_dataset(
    events: Iterable[Event],
    config: GuardConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> Dataset:
    """Replay ``events`` (in time order) and collect the rows of their page requests."""
    replayer = Replayer(config)
    rows: list[list[float]] = []
    bots: list[bool] = []
    actors: list[str] = []
    families: list[str] = []
    clients: list[str] = []
    records: list[bool] = []
    times: list[float] = []
    sensitive_paths = replayer.extractor.routes
    for count, event in enumerate(events, 1):
        client, vector = replayer.row(event)
        if vector is not None:
            rows.append(vector)
            bots.append(event.bot)
            actors.append(event.actor)
            families.append(event.family)
            clients.append(client)
            sensitive = sensitive_paths.match(event.path).route_class.sensitive
            records.append(sensitive and event.status == 200)
            times.append(event.time)
        if progress is not None and count % 10_000 == 0:
            progress(10_000)
    return Dataset(
        np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES)),
        np.asarray(bots, dtype=np.bool_),
        np.asarray(actors, dtype=np.str_),
        np.asarray(families, dtype=np.str_),
        np.asarray(clients, dtype=np.str_),
        np.asarray(records, dtype=np.bool_),
        np.asarray(times, dtype=np.float64),
    )
