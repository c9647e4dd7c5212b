"""requirements/dev.lock, what CI installs: it pins, with hashes, a version of every package
pyproject.toml asks for (core and the dev extra) that the version range admits."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def pins() -> dict[str, str]:
    """The lock's pins by canonical name."""
    text = (ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in _PIN.findall(text)}


def test_lock_pins_what_pyproject_asks_for() -> None:
    """Every core and dev requirement is pinned at a version its range admits."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [
        Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    ]
    pinned = pins()
    missing = [str(r) for r in wanted if canonicalize_name(r.name) not in pinned]
    assert not missing, f"not in requirements/dev.lock (run make lock): {missing}"
    outside = [
        f"{r} (locked {pinned[canonicalize_name(r.name)]})"
        for r in wanted
        if not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not outside, f"locked outside pyproject.toml's range (run make lock): {outside}"


def test_every_pin_carries_a_hash() -> None:
    """Each pin is followed by at least one sha256 hash, so pip installs with
    --require-hashes and a changed file on the index fails the install."""
    text = (ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    pinned = [block for block in blocks if _PIN.match(block)]
    assert len(pinned) == len(pins()) > 50
    assert all("--hash=sha256:" in block for block in pinned)
