"""Observability: the decision log (and, later, metrics and the dashboard)."""
