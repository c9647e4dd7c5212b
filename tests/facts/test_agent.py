"""Tests for guard.facts.agent: classifying User-Agent strings."""

from __future__ import annotations

from typing import Any

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from guard.facts.agent import MAX_AGENT_LENGTH, Agent, classify_agent

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

# (user agent, family, major, platform, mobile): real, current browser UAs.
BROWSERS: list[tuple[str, str, int, str, bool]] = [
    (CHROME_WIN, "chrome", 131, "windows", False),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "chrome",
        131,
        "macos",
        False,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
        "chrome",
        130,
        "linux",
        False,
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "chrome",
        131,
        "chromeos",
        False,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "chrome",
        131,
        "android",
        True,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.81 Mobile Safari/537.36",
        "chrome",
        131,
        "android",
        True,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "chrome",
        131,
        "ios",
        True,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "edge",
        131,
        "windows",
        False,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "edge",
        131,
        "macos",
        False,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "edge",
        131,
        "linux",
        False,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
        "edge",
        131,
        "android",
        True,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15",
        "edge",
        131,
        "ios",
        True,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "firefox",
        133,
        "windows",
        False,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "firefox",
        128,
        "windows",
        False,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
        "firefox",
        133,
        "macos",
        False,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "firefox",
        133,
        "linux",
        False,
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "firefox",
        132,
        "linux",
        False,
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        "firefox",
        133,
        "android",
        True,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
        "firefox",
        133,
        "ios",
        True,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "safari",
        18,
        "macos",
        False,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Safari/605.1.15",
        "safari",
        17,
        "macos",
        False,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "safari",
        18,
        "ios",
        True,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "opera",
        115,
        "windows",
        False,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "opera",
        115,
        "macos",
        False,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
        "opera",
        86,
        "android",
        True,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 "
        "(KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
        "samsung",
        27,
        "android",
        True,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        "samsung",
        25,
        "android",
        True,
    ),
]

# Tablets: their browsers omit the "Mobile" token and send `sec-ch-ua-mobile: ?0`.
ANDROID_TABLETS: list[tuple[str, str, int]] = [
    (
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "chrome",
        131,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X710) AppleWebKit/537.36 "
        "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36",
        "samsung",
        26,
    ),
    (
        "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
        "firefox",
        133,
    ),
]

AUTOMATION: list[tuple[str, str]] = [
    ("python-requests/2.32.3", "python-requests"),
    ("Python-urllib/3.12", "python-urllib"),
    ("python-httpx/0.28.1", "python-httpx"),
    ("curl/8.5.0", "curl"),
    ("Wget/1.21.4", "wget"),
    ("Wget/1.21.4 (linux-gnu)", "wget"),
    ("Go-http-client/1.1", "go-http-client"),
    ("Go-http-client/2.0", "go-http-client"),
    ("Scrapy/2.11.2 (+https://scrapy.org)", "scrapy"),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "headlesschrome",
    ),
    ("okhttp/4.12.0", "okhttp"),
    ("axios/1.7.9", "axios"),
    ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "node-fetch"),
    ("node-fetch", "node-fetch"),
    ("aiohttp/3.9.5", "aiohttp"),
]


def crawler_instances() -> list[tuple[str, str]]:
    """Every (pattern, instance) pair the crawler-user-agents package ships."""
    entries: list[dict[str, Any]] = CRAWLER_USER_AGENTS_DATA
    return [(entry["pattern"], ua) for entry in entries for ua in entry.get("instances", [])]


def test_crawler_package_ships_many_instances() -> None:
    """The reference data is present and large enough to be a meaningful corpus."""
    assert len(crawler_instances()) > 1000


def test_every_known_crawler_instance_is_a_bot_or_automation() -> None:
    """Each `instances` entry of crawler-user-agents classifies as declared_bot or automation."""
    failures = [
        (pattern, ua, classify_agent(ua).kind)
        for pattern, ua in crawler_instances()
        if classify_agent(ua).kind not in {"declared_bot", "automation"}
    ]
    assert failures == [], f"{len(failures)} misclassified, first: {failures[:5]}"


def test_no_known_crawler_instance_passes_for_a_browser() -> None:
    """No crawler instance is ever taken for a browser, an unknown product or a missing UA."""
    kinds = {classify_agent(ua).kind for _, ua in crawler_instances()}
    assert "browser" not in kinds
    assert "other" not in kinds
    assert "missing" not in kinds


def test_googlebot_is_a_declared_bot_even_with_browser_tokens() -> None:
    """A smartphone Googlebot UA that embeds a full Chrome UA is still a declared bot."""
    ua = (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    agent = classify_agent(ua)
    assert agent.kind == "declared_bot"
    assert agent.family == "googlebot"


def test_browser_list_is_broad() -> None:
    """The browser corpus covers every family and platform the classifier knows."""
    assert len(BROWSERS) >= 25
    assert {family for _, family, _, _, _ in BROWSERS} == {
        "chrome",
        "edge",
        "firefox",
        "safari",
        "opera",
        "samsung",
    }
    platforms = {platform for _, _, _, platform, _ in BROWSERS}
    assert platforms == {"windows", "macos", "linux", "chromeos", "android", "ios"}


@pytest.mark.parametrize(
    ("ua", "family", "major", "platform", "mobile"),
    BROWSERS,
    ids=[f"{f}-{p}-{m}-{i}" for i, (_, f, m, p, _) in enumerate(BROWSERS)],
)
def test_real_browsers_classify_as_browser(
    ua: str, family: str, major: int, platform: str, mobile: bool
) -> None:
    """A real browser UA is a browser with the right family, major, platform and mobile flag."""
    agent = classify_agent(ua)
    assert (agent.kind, agent.family, agent.major, agent.platform, agent.mobile) == (
        "browser",
        family,
        major,
        platform,
        mobile,
    )


def test_android_tablets_are_not_mobile() -> None:
    """Android tablet browsers, which omit the Mobile token, classify as not mobile."""
    agents = [classify_agent(ua) for ua, _, _ in ANDROID_TABLETS]
    seen = [(a.kind, a.family, a.major, a.platform, a.mobile) for a in agents]
    expected = [
        ("browser", family, major, "android", False) for _, family, major in ANDROID_TABLETS
    ]
    assert seen == expected


def test_android_tablets_are_browsers() -> None:
    """Android tablet UAs are still browsers with the right family and platform."""
    for ua, family, major in ANDROID_TABLETS:
        agent = classify_agent(ua)
        assert (agent.kind, agent.family, agent.major, agent.platform) == (
            "browser",
            family,
            major,
            "android",
        )


# Chromium-based browsers and Android in-app webviews common in China and elsewhere.
CHROMIUM_BASED = [
    "Mozilla/5.0 (Linux; Android 10; V1838A Build/QP1A.190711.020; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 XWEB/2691 MMWEBSDK/200801 Mobile "
    "Safari/537.36 MMWEBID/9033 MicroMessenger/7.0.18.1740(0x27001235) Process/toolsmp "
    "WeChat/arm64 NetType/WIFI Language/zh_CN ABI/arm64",
    "Mozilla/5.0 (Linux; Android 10; ELE-AL00 Build/HUAWEIELE-AL00; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/76.0.3809.89 Mobile Safari/537.36 T7/12.10 "
    "SP-engine/2.28.0 baiduboxapp/12.10.0.10 (Baidu; P1 10) NABar/1.0",
    "Mozilla/5.0 (Linux; U; Android 10; zh-CN; V1838A Build/QP1A.190711.020) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 "
    "UCBrowser/13.4.0.1306 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00; HMSCore 6.13.0.302) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.6.300 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240905.003; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36",
]

# Real phones whose model names end in "bot" (the Cubot brand).
CUBOT_PHONES = [
    "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; KINGKONG 5 Pro Build/RP1A.200720.011; CUBOT) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
]

# iOS in-app browsers (WKWebView): no "Version/... Safari/" token.
IOS_IN_APP = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2d) NetType/WIFI "
    "Language/zh_CN",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/485.0.0.38.106;FBBV/651118049;"
    "FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 352.0.0.22.106 (iPhone14,5; iOS 17_6; "
    "en_US; en; scale=3.00; 1170x2532; 651356049)",
]


@pytest.mark.parametrize("ua", CHROMIUM_BASED)
def test_chromium_based_browsers_and_webviews_are_chrome(ua: str) -> None:
    """Chromium forks and Android webviews are browsers of the chrome family."""
    agent = classify_agent(ua)
    assert (agent.kind, agent.family) == ("browser", "chrome")
    assert agent.major is not None


@pytest.mark.parametrize("ua", CUBOT_PHONES)
def test_phone_brand_ending_in_bot_is_a_browser(ua: str) -> None:
    """A Cubot phone's Chrome is a browser, not a declared bot."""
    assert classify_agent(ua).kind == "browser"


@pytest.mark.parametrize("ua", IOS_IN_APP)
def test_ios_in_app_browsers_are_browsers(ua: str) -> None:
    """An iOS WKWebView in a popular app is a mobile iOS browser."""
    agent = classify_agent(ua)
    assert (agent.kind, agent.platform, agent.mobile) == ("browser", "ios", True)


@pytest.mark.parametrize(
    ("family", "chromium"),
    [("chrome", True), ("edge", True), ("opera", True), ("samsung", True), ("firefox", False)],
)
def test_chromium_property(family: str, chromium: bool) -> None:
    """Only Chromium-based families are expected to send client hints."""
    assert Agent("browser", family).chromium is chromium
    assert Agent("browser", "safari").chromium is False


@pytest.mark.parametrize(("ua", "family"), AUTOMATION, ids=[f for _, f in AUTOMATION])
def test_automation_libraries_are_automation(ua: str, family: str) -> None:
    """HTTP libraries and headless browsers classify as automation, named by their token."""
    agent = classify_agent(ua)
    assert agent.kind == "automation"
    assert agent.family == family


@pytest.mark.parametrize("ua", ["", "   ", "\t"])
def test_empty_user_agent_is_missing(ua: str) -> None:
    """An empty or blank UA is missing."""
    assert classify_agent(ua).kind == "missing"


def test_huge_user_agent_is_malformed_without_scanning() -> None:
    """A 16 KiB UA is malformed ('too-long'), whatever it contains."""
    agent = classify_agent(CHROME_WIN + "x" * (16 * 1024))
    assert (agent.kind, agent.family) == ("malformed", "too-long")


def test_length_limit_boundary() -> None:
    """A UA exactly at the limit is classified normally; one byte more is too long."""
    at_limit = "a" * MAX_AGENT_LENGTH
    assert classify_agent(at_limit).kind == "other"
    too_long = classify_agent(at_limit + "a")
    assert (too_long.kind, too_long.family) == ("malformed", "too-long")


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0\x00(Windows NT 10.0)",
        "Mozilla/5.0 (X11)\x7f",
        "curl/8.0\r\nX-Injected: 1",
        "\x1b[31mred",
        "ÿþ",
        "(no product token)",
    ],
)
def test_non_printable_or_tokenless_agent_is_malformed(ua: str) -> None:
    """Control characters or a missing leading product token make a UA malformed."""
    assert classify_agent(ua).kind == "malformed"


@pytest.mark.parametrize(
    ("ua", "family"),
    [("MyMonitor/1.0", "mymonitor"), ("Mozilla/4.0 (compatible; MSIE 6.0)", "mozilla")],
)
def test_unknown_products_are_other(ua: str, family: str) -> None:
    """A well-formed UA that is neither browser, bot nor library is 'other'."""
    agent = classify_agent(ua)
    assert agent.kind == "other"
    assert agent.family == family


def test_generic_bot_words_are_declared_bots() -> None:
    """A UA that calls itself a bot or spider is a declared bot even if not in the package."""
    assert classify_agent("AcmeNewsBot/1.0 (+https://acme.example/bot)").kind == "declared_bot"
    assert classify_agent("tinyspider/0.1").kind == "declared_bot"
