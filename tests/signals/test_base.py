"""Tests for guard.signals.base: per-signal state, evidence, and the declared signal order."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from guard import Guard, GuardConfig
from guard.errors import ConfigError
from guard.facts import Facts
from guard.signals import default_signals
from guard.signals.base import FINDINGS, BaseSignal, Evidence, Report, order_signals
from guard.signals.behaviour import PROFILE, BehaviourSignal
from guard.signals.campaign import CampaignSignal
from guard.signals.clearance import ClearanceSignal
from guard.signals.discovery import DISCOVERY, DiscoverySignal
from guard.signals.model import ModelSignal
from guard.signals.rate_limit import RateLimitSignal
from guard.store.base import Result

COLOUR: Evidence[str] = Evidence("colour")


class Painter(BaseSignal):
    """Publishes a colour."""

    provides = (COLOUR,)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        report.publish(COLOUR, "red")


class Viewer(BaseSignal):
    """Reads the colour."""

    reads = (COLOUR,)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        colour = report.read(COLOUR)
        report.add(f"saw:{colour}", 0.1)


class Weigher(BaseSignal):
    """Reads every other signal's findings."""

    reads = (FINDINGS,)

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        report.add("weighed", 0.1)


def test_readers_run_after_providers_whatever_the_given_order() -> None:
    """A signal runs after the signals providing what it reads; the rest keep their order."""
    viewer, painter, other = Viewer(), Painter(), BaseSignal()
    assert order_signals([viewer, other, painter]) == (other, painter, viewer)


def test_a_findings_reader_runs_after_every_other_signal() -> None:
    """Reading FINDINGS puts a signal after all signals that do not."""
    weigher, painter, viewer = Weigher(), Painter(), Viewer()
    assert order_signals([weigher, viewer, painter])[-1] is weigher


def test_reading_what_nobody_provides_is_a_config_error() -> None:
    """A signal that reads evidence no signal provides is refused by name."""
    with pytest.raises(ConfigError, match=r"Viewer reads 'colour'"):
        order_signals([Viewer()])


def test_reads_that_form_a_cycle_are_a_config_error() -> None:
    """Two signals each reading what the other provides cannot be ordered."""
    left: Evidence[int] = Evidence("left")
    right: Evidence[int] = Evidence("right")

    class Left(BaseSignal):
        reads, provides = (right,), (left,)

    class Right(BaseSignal):
        reads, provides = (left,), (right,)

    with pytest.raises(ConfigError, match="cycle"):
        order_signals([Left(), Right()])


def test_the_built_in_order_follows_from_declarations() -> None:
    """However the built-in signals are listed, the campaign signal comes after the
    behaviour signal whose profile it reads, the clearance after discovery, and the model
    after the profile and all findings."""
    config = GuardConfig.from_mapping({"model": "shipped"})
    engine = Guard(config)
    shuffled = tuple(reversed(engine.signals))
    ordered = order_signals(shuffled)
    kinds = [type(s) for s in ordered]
    assert kinds.index(BehaviourSignal) < kinds.index(CampaignSignal)
    assert kinds.index(DiscoverySignal) < kinds.index(ClearanceSignal)
    assert kinds[-1] is ModelSignal
    assert ModelSignal.reads == (PROFILE, FINDINGS)
    assert CampaignSignal.reads == (PROFILE,)
    assert ClearanceSignal.reads == (DISCOVERY,)


def test_adding_a_signal_keeps_the_built_in_ones() -> None:
    """signals= adds to the built-in signals; builtin_signals=False is how to drop them."""
    config = GuardConfig()
    added = Guard(config, signals=[Weigher()])
    builtin = {type(s) for s in default_signals(config, added.policy)}
    assert builtin <= {type(s) for s in added.signals}
    assert type(added.signals[-1]) is Weigher
    alone = Guard(config, signals=[Weigher()], builtin_signals=False)
    assert [type(s) for s in alone.signals] == [Weigher]


def test_kept_state_belongs_to_its_signal() -> None:
    """Two signals keeping state in one report never see each other's."""
    first, second, report = BaseSignal(), BaseSignal(), Report()
    report.keep(first, [1])
    assert report.kept(first) == [1]
    assert report.kept(second) is None
    assert report.read(COLOUR) is None


def test_a_built_in_signal_passed_again_is_refused() -> None:
    """Passing a built-in signal to signals= would count it twice: it is a config error."""
    config = GuardConfig()
    with pytest.raises(ConfigError, match="both provide 'rate_policies'"):
        Guard(config, signals=[RateLimitSignal(config)])
