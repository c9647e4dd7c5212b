"""Replay: judge access logs with the guard's own engine, and compare two configs on them.

``guard replay LOG...`` (:mod:`guard.replay.command`) reads combined or common format logs,
judges every request on the log's own clock (:mod:`guard.replay.judge`), tallies what each
actor met (:mod:`guard.replay.actors`) and prints a summary (:mod:`guard.replay.summary`).
"""

from __future__ import annotations

from guard.replay.actors import ActorTally
from guard.replay.judge import LOG_BLIND, LogJudge, log_config
from guard.replay.run import Outcome, Replay, replay_events

__all__ = [
    "LOG_BLIND",
    "ActorTally",
    "LogJudge",
    "Outcome",
    "Replay",
    "log_config",
    "replay_events",
]
