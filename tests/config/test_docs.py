"""docs/configuration.md is generated from the config schema and cannot drift from it."""

from __future__ import annotations

from pathlib import Path

from guard.config import SETTINGS
from guard.config.docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_doc_is_what_the_schema_renders() -> None:
    """The committed file equals the rendering (regenerate: python -m guard.config.docs)."""
    assert DOC.read_text() == render(), "run: python -m guard.config.docs > docs/configuration.md"


def test_every_setting_is_documented() -> None:
    """Each setting has a row with its TOML key and a sentence of its own."""
    text = render()
    for setting in SETTINGS.values():
        assert f"| `{setting.key}` |" in text
        assert setting.doc.endswith(".")
