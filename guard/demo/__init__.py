"""Demo 58.com-style job board with fake resumes, used to exercise the guard middleware."""

from __future__ import annotations

from guard.demo.app import create_demo_app

__all__ = ["create_demo_app"]
