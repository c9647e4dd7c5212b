"""Tests for guard.signals.headers.HeaderSignal, on Facts extracted from raw scopes."""

from __future__ import annotations

from typing import Any

import pytest

from guard.demo.config import demo_config
from guard.facts import FactExtractor, Facts
from guard.signals.base import Report
from guard.signals.headers import HeaderSignal
from guard.signing import Signer
from guard.testing import chrome_headers

NOW = 1_800_000_000.0
EXTRACTOR = FactExtractor(demo_config({}), Signer(b"k" * 32))

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
CHROME_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
OPERA_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0"
)
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36"
)
FIREFOX_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)
CHROME_HINTS = '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"'


def hints(brands: str, mobile: str, platform: str) -> dict[str, str]:
    """Client hint headers."""
    return {"sec-ch-ua": brands, "sec-ch-ua-mobile": mobile, "sec-ch-ua-platform": f'"{platform}"'}


def request(user_agent: str, extra: dict[str, str] | None = None, **drop: bool) -> dict[str, str]:
    """A browser's page request headers, plus ``extra``, minus names passed as ``drop``."""
    headers = {
        "host": "jobs.example",
        "user-agent": user_agent,
        "accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "accept-language": "en-GB,en;q=0.9",
        "accept-encoding": "gzip, deflate, br, zstd",
        "sec-fetch-site": "none",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
        **(extra or {}),
    }
    return {k: v for k, v in headers.items() if not drop.get(k.replace("-", "_"))}


def facts_for(headers: dict[str, str], scheme: str = "https") -> Facts:
    """Facts of a GET / with ``headers`` over ``scheme`` from a remote client."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "scheme": scheme,
        "client": ("203.0.113.9", 40000),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    return EXTRACTOR.extract(scope, NOW)


def reasons(headers: dict[str, str], scheme: str = "https") -> list[str]:
    """The reasons HeaderSignal finds for a request with ``headers``."""
    report = Report()
    HeaderSignal().judge(facts_for(headers, scheme), (), report)
    assert all(0 < finding.weight < 1 for finding in report.findings)
    return [finding.reason for finding in report.findings]


@pytest.mark.parametrize(
    "headers",
    [
        request(CHROME_WIN, hints(CHROME_HINTS, "?0", "Windows")),
        request(CHROME_ANDROID, hints(CHROME_HINTS, "?1", "Android")),
        request(
            EDGE_MAC,
            hints(
                '"Microsoft Edge";v="131", "Chromium";v="131", "Not_A Brand";v="24"', "?0", "macOS"
            ),
        ),
        request(
            OPERA_WIN,
            hints('"Opera";v="115", "Chromium";v="130", "Not?A_Brand";v="99"', "?0", "Windows"),
        ),
        request(FIREFOX_WIN),
        request(SAFARI_MAC),
    ],
    ids=["chrome-windows", "chrome-android", "edge-macos", "opera-windows", "firefox", "safari"],
)
def test_real_browsers_raise_nothing(headers: dict[str, str]) -> None:
    """A real browser's full headers, hints included, give no finding."""
    assert reasons(headers) == []


def test_firefox_with_client_hints_is_a_brand_mismatch() -> None:
    """Firefox never sends sec-ch-ua, so a Firefox UA that does is lying."""
    headers = request(FIREFOX_WIN, hints(CHROME_HINTS, "?0", "Windows"))
    assert reasons(headers) == ["ua_hints_mismatch:brand"]


def test_safari_with_client_hints_is_a_brand_mismatch() -> None:
    """Safari never sends sec-ch-ua either."""
    assert reasons(request(SAFARI_MAC, {"sec-ch-ua": CHROME_HINTS})) == ["ua_hints_mismatch:brand"]


def test_hint_version_differing_from_ua_is_a_version_mismatch() -> None:
    """A Chrome 131 UA with Chrome 120 hints is a spoofed UA string."""
    brands = '"Google Chrome";v="120", "Chromium";v="120", "Not_A Brand";v="24"'
    headers = request(CHROME_WIN, hints(brands, "?0", "Windows"))
    assert reasons(headers) == ["ua_hints_mismatch:version"]


def test_desktop_ua_with_mobile_hint_is_a_mobile_mismatch() -> None:
    """A desktop UA whose hints say mobile is a mismatch."""
    headers = request(CHROME_WIN, hints(CHROME_HINTS, "?1", "Windows"))
    assert reasons(headers) == ["ua_hints_mismatch:mobile"]


def test_phone_ua_with_desktop_hint_is_a_mobile_mismatch() -> None:
    """A phone UA whose hints say not mobile is a mismatch."""
    headers = request(CHROME_ANDROID, hints(CHROME_HINTS, "?0", "Android"))
    assert reasons(headers) == ["ua_hints_mismatch:mobile"]


@pytest.mark.parametrize(
    ("user_agent", "platform"),
    [(CHROME_WIN, "macOS"), (CHROME_WIN, "Linux"), (EDGE_MAC, "Windows")],
)
def test_platform_hint_differing_from_ua_is_a_platform_mismatch(
    user_agent: str, platform: str
) -> None:
    """Hints naming another platform than the UA are a mismatch."""
    headers = request(user_agent, hints(CHROME_HINTS, "?0", platform))
    assert reasons(headers) == ["ua_hints_mismatch:platform"]


@pytest.mark.parametrize(
    "headers",
    [
        request(
            SAMSUNG_PHONE,
            hints(
                '"Samsung Internet";v="27.0", "Chromium";v="125", "Not.A/Brand";v="24"',
                "?1",
                "Android",
            ),
        ),
        request(
            OPERA_WIN,
            hints('"Chromium";v="130", "Opera";v="115", "Not?A_Brand";v="99"', "?0", "Windows"),
        ),
    ],
    ids=["samsung-internet", "opera-chromium-first"],
)
def test_chromium_forks_with_own_version_are_not_mismatches(headers: dict[str, str]) -> None:
    """Browsers whose own major differs from their Chromium major send consistent hints."""
    assert reasons(headers) == []


def test_android_tablet_with_truthful_hints_is_not_a_mismatch() -> None:
    """Chrome on an Android tablet (no Mobile token, hint ?0) is consistent."""
    headers = request(CHROME_TABLET, hints(CHROME_HINTS, "?0", "Android"))
    assert reasons(headers) == []


def test_missing_basic_headers() -> None:
    """A browser UA without Accept, Accept-Language or Accept-Encoding is suspicious."""
    assert reasons(request(FIREFOX_WIN, accept_language=True)) == ["browser_headers_missing"]
    assert reasons(request(FIREFOX_WIN, accept=True, accept_encoding=True)) == [
        "browser_headers_missing"
    ]


def test_missing_fetch_metadata_in_secure_context() -> None:
    """A modern browser over HTTPS always sends sec-fetch-mode."""
    headers = request(FIREFOX_WIN, sec_fetch_mode=True, sec_fetch_site=True, sec_fetch_dest=True)
    assert reasons(headers) == ["no_fetch_metadata"]


def test_fetch_metadata_not_expected_over_plain_http() -> None:
    """Over plain HTTP to a remote host, browsers send no fetch metadata: no finding."""
    headers = request(FIREFOX_WIN, sec_fetch_mode=True, sec_fetch_site=True, sec_fetch_dest=True)
    assert reasons(headers, scheme="http") == []


def test_fetch_metadata_not_expected_from_old_browsers() -> None:
    """Browsers older than fetch metadata support are not expected to send it."""
    old_chrome = CHROME_WIN.replace("Chrome/131", "Chrome/79")
    assert reasons(request(old_chrome, sec_fetch_mode=True)) == []


def test_several_findings_at_once() -> None:
    """Missing basics, missing fetch metadata and a hint mismatch are all reported."""
    headers = request(
        FIREFOX_WIN, {"sec-ch-ua": CHROME_HINTS}, accept_language=True, sec_fetch_mode=True
    )
    assert reasons(headers) == [
        "browser_headers_missing",
        "no_fetch_metadata",
        "ua_hints_mismatch:brand",
    ]


@pytest.mark.parametrize(
    "user_agent", ["curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)", "", "Acme/1"]
)
def test_non_browsers_are_not_judged_here(user_agent: str) -> None:
    """Only browser UAs are checked against browser headers."""
    assert reasons({"user-agent": user_agent, "sec-ch-ua": CHROME_HINTS}) == []


def test_a_same_site_navigation_without_referer_is_a_soft_finding() -> None:
    """Chrome's headers claiming a click within the site but carrying no Referer add a 0.4
    finding; the same click with its Referer, or a typed URL (sec-fetch-site none), adds none."""
    clicked = chrome_headers(referer="https://jobs.example/resumes")
    copied = {k: v for k, v in clicked.items() if k != "referer"}
    typed = chrome_headers()
    assert reasons(copied) == ["navigation_without_referer"]
    assert reasons(clicked) == []
    assert reasons(typed) == []
