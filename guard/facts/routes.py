"""Route templates: which class a path belongs to and which record it names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from guard.config import RouteClass

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# fmt: off
ASSET_TYPES = frozenset({
    "css", "js", "mjs", "map",                                   # styles and scripts
    "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp",  # images
    "woff", "woff2", "ttf", "otf", "eot",                         # fonts
    "mp3", "mp4", "m4a", "webm", "ogg", "oga", "wav", "vtt",      # media and captions
})
# fmt: on
"""File types that pages load as subresources: a path ending in one is an asset."""
ASSET_DESTINATIONS = frozenset(
    {"image", "style", "script", "font", "audio", "video", "track", "manifest"}
)
"""``Sec-Fetch-Dest`` values of subresources: what a browser says it fetches a URL as."""


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


def looks_like_asset(path: str) -> bool:
    """Whether the path ends in a file type pages load as subresources (``.css``, ``.png``)."""
    name = path.rpartition("/")[2]
    return "." in name and name.rpartition(".")[2].lower() in ASSET_TYPES


class RouteMatcher:
    """Matches request paths against the configured route classes, first match wins.

    A path no declared class claims (only a catch-all that is not a record class matches) is
    a static asset when its file type is one pages load: it gets the static class and its
    limits, wherever a site keeps its assets. The URL is what the app serves, so a client
    cannot make a page an asset this way.

    ``Sec-Fetch-Dest`` (:meth:`as_asset`) is the client's own word, so a path it alone calls
    an asset is counted as one (a browser's image fetch is not a page view) but keeps the
    catch-all's rate limits: a scraper labelling its page requests as images gains nothing.
    Declared classes always win, so a record is never an asset.
    """

    def __init__(self, routes: Sequence[RouteClass]) -> None:
        self._table = [
            (_compile(template), template, route) for route in routes for template in route.paths
        ]
        if not any(template == "*" for _, template, _ in self._table):
            catch_all = RouteClass(name="default", paths=("*",))
            self._table.append((_compile("*"), "*", catch_all))
        static = next((route for route in routes if route.static), None)
        self.asset = RouteMatch(static or RouteClass("static", (), static=True), "*", None)
        # By name the rate limits are the catch-all's; by kind it is an asset.
        self._claimed = {
            route.name: RouteMatch(replace(route, static=True), "*", None)
            for _, template, route in self._table
            if template == "*" and not route.sensitive
        }

    def match(self, path: str) -> RouteMatch:
        """The first route class whose template matches ``path`` (the catch-all otherwise)."""
        for pattern, template, route in self._table:
            found = pattern.fullmatch(path)
            if found is not None:
                if template == "*" and not route.sensitive and looks_like_asset(path):
                    return self.asset
                record = found.groupdict().get("id") if route.sensitive else None
                return RouteMatch(route, template, record)
        raise AssertionError("the catch-all route always matches")  # pragma: no cover

    def as_asset(self, found: RouteMatch, fetch_dest: str | None) -> RouteMatch:
        """``found``, or, when only a catch-all that is not a record class claimed the path
        and the client says it fetches a subresource, the same class counted as an asset."""
        if fetch_dest in ASSET_DESTINATIONS and not found.route_class.static:
            return self._claimed.get(found.route_class.name, found)
        return found
