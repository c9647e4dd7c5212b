"""Route templates: which class a path belongs to and which record it names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from guard.config import RouteClass

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The route class and template a path matched, and the record id it names, if any."""

    route_class: RouteClass
    template: str
    record_id: str | None


def _compile(template: str) -> re.Pattern[str]:
    if template == "*":
        return re.compile(r".*", re.DOTALL)
    pattern, last = [], 0
    for match in _PARAM.finditer(template):
        pattern.append(re.escape(template[last : match.start()]))
        pattern.append(f"(?P<{match.group(1)}>[^/]+)")
        last = match.end()
    tail = template[last:]
    if tail.endswith("*"):
        pattern.append(re.escape(tail[:-1]) + ".*")
    else:
        pattern.append(re.escape(tail.rstrip("/")) + "/?")
    # DOTALL: a percent-encoded newline in a path must not slip past a route class.
    return re.compile("".join(pattern), re.DOTALL)


class RouteMatcher:
    """Matches request paths against the configured route classes, first match wins."""

    def __init__(self, routes: Sequence[RouteClass]) -> None:
        self._table = [
            (_compile(template), template, route) for route in routes for template in route.paths
        ]
        if not any(template == "*" for _, template, _ in self._table):
            catch_all = RouteClass(name="default", paths=("*",))
            self._table.append((_compile("*"), "*", catch_all))

    def match(self, path: str) -> RouteMatch:
        """The first route class whose template matches ``path`` (the catch-all otherwise)."""
        for pattern, template, route in self._table:
            found = pattern.fullmatch(path)
            if found is not None:
                record = found.groupdict().get("id") if route.sensitive else None
                return RouteMatch(route, template, record)
        raise AssertionError("the catch-all route always matches")  # pragma: no cover
