"""The errors guard raises."""

from __future__ import annotations


class GuardError(Exception):
    """Base class of every error raised by guard."""


class ConfigError(GuardError):
    """A configuration value is missing, malformed or out of range; the message names it."""


class StorageError(GuardError):
    """The state store could not answer; the failure policy decides what happens next."""


class ModelError(GuardError):
    """A model file is missing, corrupt or made for other features; the guard then runs on
    its rules alone."""
