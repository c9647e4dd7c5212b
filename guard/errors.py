"""The errors guard raises."""

from __future__ import annotations


class GuardError(Exception):
    """Base class of every error raised by guard."""


class ConfigError(GuardError):
    """A configuration value is missing, malformed or out of range; the message names it."""


class StorageError(GuardError):
    """The state store could not answer; the failure policy decides what happens next.

    ``kind`` says how, for metrics: ``oom`` (Redis is full and refuses writes), ``timeout``,
    ``connection`` or ``error``.
    """

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


class ModelError(GuardError):
    """A model file is missing, corrupt or made for other features; the guard then runs on
    its rules alone."""
