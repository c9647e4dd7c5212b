"""The client profile's and ledger's two implementations, for tests that run on both (the
compiled twin only where it is built: tests/signals/test_profile_native.py fails under CI
when it is not)."""

from __future__ import annotations

from typing import Any

import pytest

from guard.signals.ledger import Ledger
from guard.signals.profile import FIELDS, ClientProfile, native_profile

COMPILED = native_profile
"""The compiled module, when it is built from this source."""
PROFILES = [
    pytest.param(ClientProfile, id="python"),
    *([pytest.param(COMPILED.ClientProfile, id="c")] if COMPILED else []),
]
LEDGERS = [
    pytest.param(Ledger, id="python"),
    *([pytest.param(COMPILED.Ledger, id="c")] if COMPILED else []),
]


def values(profile: Any) -> tuple[Any, ...]:
    """A profile's fields but its ledger, in order, from either twin."""
    return tuple(getattr(profile, name) for name in FIELDS[:-1])
