"""The behaviour model at serving time: the feature spec and a safe, fast model runtime."""

from __future__ import annotations

from guard.model.features import FEATURES, features
from guard.model.runtime import Model, load_model, shipped_model_path

__all__ = ["FEATURES", "Model", "features", "load_model", "shipped_model_path"]
