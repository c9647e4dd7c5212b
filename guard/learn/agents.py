"""Who a simulated client is: its program (browser, library or crawler) and its address.

Browsers are picked by rough market share, with versions of late 2024; libraries send
their default user agents; search engines use their published user agents and address
ranges. Addresses are plausible public ones: consumer ISPs for people and residential
proxies, cloud and hosting providers for bots. None is private, loopback or reserved.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from guard.learn.browsers import Device

_CHROME = (131, 131, 131, 131, 131, 131, 130, 130, 130, 129, 129, 128, 127)
_FIREFOX = (133, 133, 133, 133, 132, 132, 132, 131, 128, 128)
_SAFARI_MAC = ("18.1", "18.1", "18.2", "18.0", "17.6", "17.6", "16.6")
_IOS = (
    ("18_1", "18.1"),
    ("18_1_1", "18.1"),
    ("18_2", "18.2"),
    ("17_6_1", "17.6"),
    ("16_7_10", "16.6"),
)
_BLINK = "AppleWebKit/537.36 (KHTML, like Gecko)"
_WEBKIT = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"
_LINUX = "Mozilla/5.0 (X11; Linux x86_64)"
_ANDROID = "Mozilla/5.0 (Linux; Android 10; K)"
_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS {o} like Mac OS X) " + _WEBKIT
_CHROME_UA = "Chrome/{c}.0.0.0 Safari/537.36"
_EDGE_UA = _CHROME_UA + " Edg/{c}.0.0.0"
_GECKO = "rv:{f}.0) Gecko/20100101 Firefox/{f}.0"


@dataclass(frozen=True, slots=True)
class _Browser:
    """A browser in the catalogue: ``template`` takes {c} Chromium major, {f} Firefox major,
    {s} Safari version and {o} the iOS version token."""

    style: str
    template: str
    desktop: bool
    weight: float


# Weights follow rough market shares of desktop and mobile browsers.
_BROWSERS = (
    _Browser("chromium", f"{_WIN} {_BLINK} {_CHROME_UA}", True, 30),
    _Browser("chromium", f"{_WIN} {_BLINK} {_EDGE_UA}", True, 9),
    _Browser("chromium", f"{_MAC} {_BLINK} {_CHROME_UA}", True, 6),
    _Browser("chromium", f"{_MAC} {_BLINK} {_EDGE_UA}", True, 1),
    _Browser("chromium", f"{_LINUX} {_BLINK} {_CHROME_UA}", True, 2),
    _Browser(
        "chromium", f"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) {_BLINK} {_CHROME_UA}", True, 1
    ),
    _Browser("firefox", f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; {_GECKO}", True, 6),
    _Browser("firefox", f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; {_GECKO}", True, 1.5),
    _Browser("firefox", f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; {_GECKO}", True, 1),
    _Browser("safari", f"{_MAC} {_WEBKIT} Version/{{s}} Safari/605.1.15", True, 7),
    _Browser("chromium", f"{_ANDROID} {_BLINK} Chrome/{{c}}.0.0.0 Mobile Safari/537.36", False, 13),
    _Browser("chromium", f"{_ANDROID} {_BLINK} {_CHROME_UA}", False, 1.5),  # a tablet
    _Browser(
        "firefox", "Mozilla/5.0 (Android 14; Mobile; rv:{f}.0) Gecko/{f}.0 Firefox/{f}.0", False, 1
    ),
    _Browser("safari", _IPHONE + " Version/{s} Mobile/15E148 Safari/604.1", False, 14),
    _Browser(
        "safari",
        f"Mozilla/5.0 (iPad; CPU OS {{o}} like Mac OS X) {_WEBKIT} Version/{{s}} Mobile/15E148 "
        "Safari/604.1",
        False,
        3,
    ),
    _Browser("safari", _IPHONE + " CriOS/{c}.0.6778.73 Mobile/15E148 Safari/604.1", False, 2),
    _Browser(
        "safari",
        _IPHONE + " Mobile/15E148 MicroMessenger/8.0.50(0x1800323a) NetType/WIFI Language/zh_CN",
        False,
        2,
    ),
    _Browser(
        "safari",
        _IPHONE + " Mobile/15E148 Instagram 334.0.4.32.98 (iPhone14,5; iOS {o}; en_US; en; "
        "scale=3.00; 1170x2532; 613540814)",
        False,
        1,
    ),
)

# Accept-Language as each engine writes the same preference, with its weight.
_LANGUAGES: tuple[tuple[float, dict[str, str]], ...] = (
    (
        40,
        {
            "chromium": "zh-CN,zh;q=0.9",
            "firefox": "zh-CN,zh;q=0.8,zh-TW;q=0.7,zh-HK;q=0.5,en-US;q=0.3,en;q=0.2",
            "safari": "zh-CN,zh-Hans;q=0.9",
        },
    ),
    (
        15,
        {
            "chromium": "zh-CN,zh;q=0.9,en;q=0.8",
            "firefox": "zh-CN,en-US;q=0.7,en;q=0.3",
            "safari": "zh-CN,en-US;q=0.9",
        },
    ),
    (30, {"chromium": "en-US,en;q=0.9", "firefox": "en-US,en;q=0.5", "safari": "en-US,en;q=0.9"}),
    (
        15,
        {
            "chromium": "en-GB,en-US;q=0.9,en;q=0.8",
            "firefox": "en-GB,en;q=0.5",
            "safari": "en-GB,en;q=0.9",
        },
    ),
)
_LANGUAGE_WEIGHTS = tuple(weight for weight, _ in _LANGUAGES)


_LEGACY = (
    ("chromium", f"Mozilla/5.0 (Windows NT 6.1; Win64; x64) {_BLINK} Chrome/75.0.3770.142 "
     "Safari/537.36"),
    ("chromium", f"Mozilla/5.0 (Linux; Android 7.0; SM-G930V) {_BLINK} Chrome/74.0.3729.157 "
     "Mobile Safari/537.36"),
    ("firefox", "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:78.0) Gecko/20100101 Firefox/78.0"),
    ("safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1"),
    ("safari", f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) {_WEBKIT} Version/14.1.2 "
     "Safari/605.1.15"),
)  # fmt: skip
"""Browsers from before fetch metadata and client hints (Chrome 76 and 89, Firefox 90,
Safari 16.4 added them), still in use on old phones and unupdated machines."""
LEGACY_SHARE = 0.04
STRIPPED_SHARE = 0.04
"""The chance that a person's current browser reaches the site without its fetch metadata
and client hints (a privacy proxy, a corporate middlebox)."""


def browser_device(rng: random.Random, *, desktop_share: float | None = None) -> Device:
    """A real browser picked by market share (or with ``desktop_share`` of desktops); a few
    are old (:data:`_LEGACY`) or reach the site stripped of fetch metadata and client hints.

    Args:
        rng: the random source.
        desktop_share: the chance of a desktop browser; None keeps the catalogue's mix
            (about 60% desktop).
    """
    roll = rng.random()
    if roll < LEGACY_SHARE:
        style, user_agent = rng.choice(_LEGACY)
        languages = rng.choices(_LANGUAGES, weights=_LANGUAGE_WEIGHTS)[0][1]
        return Device(style, user_agent, languages[style], stripped=True)
    device = _current_browser(rng, desktop_share)
    if roll < LEGACY_SHARE + STRIPPED_SHARE:
        return Device(device.style, device.user_agent, device.language, stripped=True)
    return device


def _current_browser(rng: random.Random, desktop_share: float | None) -> Device:
    pool: tuple[_Browser, ...] = _BROWSERS
    if desktop_share is not None:
        desktop = rng.random() < desktop_share
        pool = tuple(browser for browser in _BROWSERS if browser.desktop == desktop)
    browser = rng.choices(pool, weights=[b.weight for b in pool])[0]
    ios, ios_safari = rng.choice(_IOS)
    safari = rng.choice(_SAFARI_MAC) if browser.desktop else ios_safari
    user_agent = browser.template.format(
        c=rng.choice(_CHROME), f=rng.choice(_FIREFOX), s=safari, o=ios
    )
    languages = rng.choices(_LANGUAGES, weights=_LANGUAGE_WEIGHTS)[0][1]
    return Device(browser.style, user_agent, languages[browser.style])


def headless_device(rng: random.Random) -> Device:
    """Headless Chrome with its own user agent (automation tools leave it as is)."""
    version = rng.choice(_CHROME)
    user_agent = f"{_LINUX} {_BLINK} HeadlessChrome/{version}.0.0.0 Safari/537.36"
    return Device("chromium", user_agent, "en-US")


TOOL_AGENTS: dict[str, tuple[str, ...]] = {
    "requests": ("python-requests/2.32.3", "python-requests/2.31.0", "python-requests/2.28.2"),
    "aiohttp": ("Python/3.11 aiohttp/3.9.5", "Python/3.12 aiohttp/3.10.10"),
    "go": ("Go-http-client/1.1", "Go-http-client/2.0"),
    "curl": ("curl/8.5.0", "curl/7.81.0", "curl/8.7.1"),
    "okhttp": ("okhttp/4.12.0", "okhttp/3.14.9"),
    "axios": ("axios/1.7.7", "axios/1.6.8"),
    "scrapy": ("Scrapy/2.11.2 (+https://scrapy.org)", "Scrapy/2.12.0 (+https://scrapy.org)"),
    "colly": ("colly - https://github.com/gocolly/colly",),
    "java": ("Apache-HttpClient/4.5.14 (Java/17.0.9)", "Java/11.0.21"),
    "wget": ("Wget/1.21.4", "Wget/1.21.2"),
    "node": ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "undici"),
}
"""User agents that HTTP libraries send by default, by style."""


def tool_device(rng: random.Random, style: str) -> Device:
    """An HTTP library of ``style`` (a key of :data:`TOOL_AGENTS`, or ``spoof``/``spoof_lang``
    for a script sending a browser's User-Agent with its library's other headers)."""
    if style in {"spoof", "spoof_lang"}:
        desktop = browser_device(rng, desktop_share=1.0)
        language = rng.choice(("zh-CN,zh;q=0.9", "en-US,en;q=0.9"))
        return Device(style, desktop.user_agent, language)
    return Device(style, rng.choice(TOOL_AGENTS[style]), "")


# --- addresses ---------------------------------------------------------------------------

# First octets of consumer ISPs' IPv4 space (Chinese, European and American carriers).
_RESIDENTIAL_V4 = (
    1, 14, 27, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116,
    117, 118, 119, 121, 122, 123, 124, 125, 171, 175, 180, 182, 183, 218, 219, 220, 221, 222,
    223, 24, 50, 67, 68, 69, 70, 71, 73, 75, 76, 86, 90, 92, 94, 98, 99, 174, 176, 178, 188,
)  # fmt: skip
# Consumer IPv6 /32s (China Telecom, Unicom and Mobile, Sky, AT&T, Free).
_RESIDENTIAL_V6 = ("240e:3b7", "2408:8456", "2409:8a55", "2a02:c7c", "2600:1700", "2a01:e0a")
# /16s of cloud and hosting providers (AWS, GCP, Alibaba, Tencent, DigitalOcean, Hetzner,
# OVH, Vultr): where scrapers rent their machines.
_DATACENTER_V4 = (
    "3.84", "13.229", "18.162", "34.102", "35.187", "44.203", "52.79", "54.91", "47.88",
    "47.242", "8.210", "43.134", "49.234", "106.55", "129.226", "138.68", "159.203", "164.90",
    "167.99", "178.128", "206.189", "5.9", "88.99", "95.216", "116.202", "135.181", "65.108",
    "51.38", "51.68", "137.74", "145.239", "164.132", "45.76", "45.77", "104.238", "139.180",
)  # fmt: skip


def _public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


def residential_ip(rng: random.Random, *, v6_share: float = 0.0) -> str:
    """A consumer ISP's address (IPv6 with probability ``v6_share``)."""
    if rng.random() < v6_share:
        groups = ":".join(f"{rng.getrandbits(16):x}" for _ in range(6))
        return f"{rng.choice(_RESIDENTIAL_V6)}:{groups}"
    while True:
        address = f"{rng.choice(_RESIDENTIAL_V4)}.{rng.randrange(256)}.{rng.randrange(256)}."
        address += str(rng.randrange(1, 255))
        if _public(address):
            return address


def datacenter_ip(rng: random.Random) -> str:
    """An address of a cloud or hosting provider."""
    return f"{rng.choice(_DATACENTER_V4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


@dataclass(frozen=True, slots=True)
class SearchEngine:
    """A search engine's crawler: its user agents and the /24s it crawls from."""

    name: str
    weight: float
    agents: tuple[str, ...]
    networks: tuple[str, ...]

    def address(self, rng: random.Random) -> str:
        """One of the crawler's addresses."""
        return f"{rng.choice(self.networks)}.{rng.randrange(1, 255)}"


_GOOGLEBOT = "compatible; Googlebot/2.1; +http://www.google.com/bot.html"
SEARCH_ENGINES = (
    SearchEngine(
        "google",
        40,
        (
            f"Mozilla/5.0 ({_GOOGLEBOT})",
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
            f"(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 ({_GOOGLEBOT})",
        ),
        ("66.249.66", "66.249.68", "66.249.77", "66.249.79"),
    ),
    SearchEngine(
        "bing",
        25,
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
            "+http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36",
        ),
        ("157.55.39", "207.46.13", "40.77.167", "52.167.144"),
    ),
    SearchEngine(
        "apple",
        10,
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        ),
        ("17.241.219", "17.241.227", "17.22.237"),
    ),
    SearchEngine(
        "yandex",
        10,
        ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",),
        ("5.255.231", "95.108.213", "213.180.203"),
    ),
    SearchEngine(
        "duckduckgo",
        15,
        ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",),
        ("20.191.45", "40.88.21", "52.142.26", "20.185.79"),
    ),
)
"""The search engines whose crawlers visit, with their share of crawlers."""
