"""Tests for guard.replay.run and .judge: a log judged by the guard's engine on its clock."""

from __future__ import annotations

from pathlib import Path

from guard.config_file import load_config
from guard.learn.accesslog import read_combined
from guard.replay import LogJudge, log_config, replay_events
from guard.replay.summary import comparison
from guard.signals.headers import HeaderSignal
from guard.types import Action
from tests.replay.logs import CHROME, line, person, scraper

CONFIG = load_config(Path(__file__).with_name("records.toml"))


def test_replay_runs_shadow_without_bodies_headers_or_dns() -> None:
    """The config replay runs: shadow mode (no cookie is missed), no page showing records,
    crawlers verified by their ranges, memory store, no decision log; no header signal."""
    config = log_config(CONFIG.__class__.from_mapping({"verify_bots": "dns"}))
    assert config.verify_bots == "ranges"
    replayed = log_config(CONFIG)
    assert replayed.mode == "shadow"
    assert not any(route.shows_records for route in replayed.routes)
    assert replayed.store_url == "memory://"
    assert replayed.decision_log is None
    judge = LogJudge(CONFIG)
    assert not any(isinstance(s, HeaderSignal) for s in judge.guard.signals)


def test_people_in_a_log_are_not_judged_on_what_logs_lack() -> None:
    """People browsing in a log (no Accept headers, fetch metadata or cookies logged, no
    listing bodies) are allowed throughout; none of the log-blind reasons appears."""
    lines = [row for n in range(20) for row in person(f"203.0.{n}.7", n * 40.0, range(7, 12))]
    result = replay_events(read_combined(sorted(lines, key=_time)), CONFIG)
    actors = result.outcome.actors.values()
    assert len(actors) == 20
    assert all(a.action is Action.ALLOW for a in actors), [a.as_dict() for a in actors]
    assert sum(a.records for a in actors) == 100


def test_a_scraper_in_a_log_is_refused_on_records() -> None:
    """A python-requests loop over record ids meets a refusal in replay as it would live,
    and its tally says how many records the site served it and why it was stopped."""
    result = replay_events(read_combined(scraper("198.51.100.9", 0.0, range(100, 160))), CONFIG)
    (tally,) = result.outcome.actors.values()
    assert tally.action is Action.BLOCK
    assert tally.refused >= 55
    assert tally.records == 60  # the site served them all: the log is what happened
    assert next(iter(tally.reasons)).startswith("automation:")
    row = tally.as_dict()
    assert row["ip"] == "198.51.100.9"
    assert row["ua"] == "python-requests/2.32.3"
    assert row["first"] == "2027-01-15T08:00:00Z"
    assert row["action"] == "block"


def test_compare_shows_what_a_threshold_change_would_have_done() -> None:
    """The same log under a laxer gray threshold, judged in the same pass: the browser
    walking ids in order is challenged under the first config and allowed under the second;
    the person is allowed under both."""
    walker = [line("192.0.2.50", f"/resume/{r}", 2.0 * i) for i, r in enumerate(range(40))]
    lines = walker + person("203.0.113.5", 0.0, range(7, 10))
    lax = CONFIG.__class__.from_mapping(
        {
            "secret": "replay-test-secret-0123456789",
            "routes": {"records": {"paths": ["/resume/{id}"], "sensitive": True}},
            "thresholds": {"gray": 0.95, "block": 1.0},
        }
    )
    result = replay_events(read_combined(sorted(lines, key=_time)), CONFIG, lax)
    assert result.compared is not None
    assert result.outcome.actors[("192.0.2.50", CHROME)].action is Action.CHALLENGE
    assert result.compared.actors[("192.0.2.50", CHROME)].action is Action.ALLOW
    assert result.outcome.actors[("203.0.113.5", CHROME)].action is Action.ALLOW
    assert result.compared.actors[("203.0.113.5", CHROME)].action is Action.ALLOW
    assert result.requests == len(lines)
    text = "\n".join(comparison(result.outcome, result.compared))
    assert "1 of 2 actors change verdict" in text
    assert "challenge -> allow: 1 actors" in text


def _time(row: str) -> str:
    return row.split("[", 1)[1][:20]
