"""Choosing a compiled part or its Python twin (guard/native.py)."""

from __future__ import annotations

import logging
import types

import pytest

from guard import native


def test_a_build_from_older_source_counts_as_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A compiled module whose setup refuses this version's arguments (built before they
    changed) is not used: the Python twin serves, and the log says why."""
    stale = types.ModuleType("guard.store._stale")

    def setup(*args: object) -> None:
        raise TypeError(f"setup() takes 6 arguments ({len(args)} given)")

    stale.setup = setup  # type: ignore[attr-defined]
    monkeypatch.setitem(native._loaded, "guard.store._stale", stale)
    monkeypatch.setattr(native, "MISSING", dict(native.MISSING))
    monkeypatch.setattr(native, "_told", set())
    monkeypatch.delenv("GUARD_NATIVE", raising=False)
    assert native.set_up("guard.store._stale", 1, 2, 3, 4, 5, 6, 7) is None
    with caplog.at_level(logging.WARNING, logger="guard"):
        assert native.use("guard.store._stale", "a stale part") is None
    assert "built from older source" in caplog.text
    assert "7 given" in caplog.text


def test_a_current_build_is_set_up_and_used(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[tuple[object, ...]] = []
    current = types.ModuleType("guard.store._current")
    current.setup = lambda *args: given.append(args)  # type: ignore[attr-defined]
    monkeypatch.setitem(native._loaded, "guard.store._current", current)
    monkeypatch.delenv("GUARD_NATIVE", raising=False)
    assert native.set_up("guard.store._current", "a", 1) is current
    assert given == [("a", 1)]
    assert native.use("guard.store._current", "a current part") is current
