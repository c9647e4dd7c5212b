"""guard's compiled parts: loading them, turning them off, and saying when they are missing.

Each is a C twin of a Python function or class that stays in the package and serves where
the build could not compile the C (see ``hatch_build.py``); ``GUARD_NATIVE=0`` makes every
part run its Python twin.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

from guard.errors import ConfigError

logger = logging.getLogger("guard")
MISSING: dict[str, str] = {}
"""Module -> why it could not be imported."""
_loaded: dict[str, ModuleType | None] = {}
_told: set[str] = set()


def load(module: str) -> ModuleType | None:
    """The compiled module (imported once), or None (the reason kept in :data:`MISSING`)."""
    if module not in _loaded:
        try:
            _loaded[module] = importlib.import_module(module)
        except ImportError as exc:
            MISSING[module] = str(exc)
            _loaded[module] = None
    return _loaded[module]


def set_up(module: str, *args: object) -> ModuleType | None:
    """The compiled module after its ``setup(*args)``, or None when it is not built or was
    built from older source than this (its ``setup`` refuses the arguments): then it counts
    as missing, with the reason, and its Python twin serves."""
    found = load(module)
    if found is None:
        return None
    try:
        found.setup(*args)
    except TypeError as exc:
        MISSING[module] = f"built from older source ({exc}); reinstall guard to rebuild it"
        _loaded[module] = None
        return None
    return found


def use(module: str, what: str, asked: bool | None = None) -> ModuleType | None:
    """The compiled module a part should run, or None for its Python twin: as ``asked``,
    else unless ``GUARD_NATIVE=0``; a missing one is logged once (``what`` names the part).

    Raises:
        ConfigError: asked for it, and it is not built.
    """
    if not enabled(asked):
        return None
    found = load(module)
    if found is None:
        if asked:
            raise ConfigError(f"{what}: {module} is not built ({MISSING.get(module, '')})")
        tell_missing(module, what)
    return found


def enabled(asked: bool | None = None) -> bool:
    """Whether to run compiled parts: as asked, else unless ``GUARD_NATIVE=0``."""
    return asked if asked is not None else os.environ.get("GUARD_NATIVE") != "0"


def tell_missing(module: str, what: str) -> None:
    """Log once a process that ``what`` runs in Python because ``module`` is not built."""
    if module in _told:
        return
    _told.add(module)
    logger.warning(
        "guard: %s run in Python: %s is not built (%s); the same results, slower",
        what,
        module,
        MISSING.get(module, "not imported"),
    )
