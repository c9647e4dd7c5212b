"""Header signals: a browser user agent whose other headers tell a different story."""

from __future__ import annotations

import re
from collections.abc import Sequence

from guard.facts import Facts
from guard.signals.base import BaseSignal, Report
from guard.store.base import Result

_BROWSER_BASICS = ("accept", "accept-language", "accept-encoding")
# First versions that send fetch metadata (sec-fetch-*) to secure contexts.
_FETCH_METADATA_SINCE = {
    "chrome": 80,
    "edge": 80,
    "opera": 67,
    "samsung": 13,
    "firefox": 90,
    "safari": 17,
}
_HINT_PLATFORMS = {
    "windows": "windows",
    "macos": "macos",
    "android": "android",
    "linux": "linux",
    "chromeos": "chrome os",
    "ios": "ios",
}
_SITE_INTERNAL = frozenset({"same-origin", "same-site"})
# Every Chromium lists a "Chromium" brand; its version is the engine's, which the UA's
# Chrome/NNN token also carries (Opera's and Samsung's own versions differ from it).
_ENGINE_VERSION = re.compile(r'"Chromium";v="(\d+)"')


class HeaderSignal(BaseSignal):
    """Checks a browser UA against the headers that browser always sends."""

    def judge(self, facts: Facts, results: Sequence[Result], report: Report) -> None:
        agent, headers = facts.agent, facts.headers
        if agent.kind != "browser":
            return
        missing = [name for name in _BROWSER_BASICS if name not in headers]
        if missing:
            report.add("browser_headers_missing", 0.5)
        since = _FETCH_METADATA_SINCE.get(agent.family)
        fetch_expected = facts.secure_context and since is not None and (agent.major or 0) >= since
        if fetch_expected and "sec-fetch-mode" not in headers:
            report.add("no_fetch_metadata", 0.4)
        mismatch = self._hints_mismatch(facts)
        if mismatch:
            report.add(f"ua_hints_mismatch:{mismatch}", 0.55)
        if (
            headers.get("sec-fetch-site") in _SITE_INTERNAL
            and headers.get("sec-fetch-mode") == "navigate"
            and not headers.get("referer")
        ):
            # A click within the site carries a Referer (the default policy sends it within
            # a site); headers copied wholesale from a browser claim the click but lack it.
            report.add("navigation_without_referer", 0.4)

    @staticmethod
    def _hints_mismatch(facts: Facts) -> str | None:
        """Which client hint contradicts the UA, if any (hints come only from Chromium)."""
        agent, headers = facts.agent, facts.headers
        brands = headers.get("sec-ch-ua")
        if brands is None:
            return None
        if not agent.chromium:
            return "brand"
        version = _ENGINE_VERSION.search(brands)
        engine = agent.engine_major
        if version is not None and engine is not None and int(version.group(1)) != engine:
            return "version"
        mobile = headers.get("sec-ch-ua-mobile")
        if mobile in {"?0", "?1"} and (mobile == "?1") != agent.mobile:
            return "mobile"
        platform = headers.get("sec-ch-ua-platform", "").strip('"').lower()
        expected = _HINT_PLATFORMS.get(agent.platform or "")
        if platform and expected and platform != expected:
            return "platform"
        return None
