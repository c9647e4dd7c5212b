"""What a User-Agent string says about the client: browser, declared bot, automation library."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

AgentKind = Literal["browser", "declared_bot", "automation", "missing", "malformed", "other"]

MAX_AGENT_LENGTH = 512
"""Longer user agents are malformed; it also bounds the classification cache's memory."""

_AUTOMATION = re.compile(
    r"python-requests|python-urllib|python-httpx|python/|aiohttp|urllib3|httplib2|"
    r"^curl/|^wget/|libcurl|go-http-client|^go |scrapy|headlesschrome|phantomjs|"
    r"puppeteer|playwright|selenium|webdriver|okhttp|^java/|apache-httpclient|jakarta|"
    r"libwww-perl|lwp::|^ruby|faraday|guzzlehttp|^php|node-fetch|axios|undici|got \(|"
    r"httpie|postmanruntime|insomnia|restsharp|reqwest|^rust|colly|crawl4ai|^mechanize",
    re.IGNORECASE,
)
_GENERIC_BOT = re.compile(
    r"bot\b|crawl|spider|scrap|slurp|fetcher|archiver|https?://", re.IGNORECASE
)
_DEVICE_COMMENT = re.compile(r"\((?!compatible)[^)]*\)")
_IOS_WEBKIT = re.compile(r"(?:iPhone|iPad|iPod).*? OS (\d+)_.*AppleWebKit/.*Mobile/")
_PRODUCT = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+(/\S+)?(\s|$)")
_BROWSERS = (
    ("edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("opera", re.compile(r"OPR/(\d+)")),
    ("samsung", re.compile(r"SamsungBrowser/(\d+)")),
    ("firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/")),
    ("ie", re.compile(r"Trident/[\d.]+;.*\brv:(\d+)|MSIE (\d+)")),
)
_CHROMIUM = re.compile(r"(?:Chrome|CriOS)/(\d+)")
_PLATFORMS = (
    ("android", re.compile(r"Android")),
    ("ios", re.compile(r"iPhone|iPad|iPod")),
    ("windows", re.compile(r"Windows")),
    ("macos", re.compile(r"Macintosh|Mac OS X")),
    ("chromeos", re.compile(r"CrOS")),
    ("linux", re.compile(r"Linux|X11")),
)


@dataclass(frozen=True, slots=True)
class Agent:
    """A classified user agent.

    ``family`` is the browser (chrome, firefox, safari, edge, ...) for browsers and the
    matched token for bots; ``chromium`` says whether the browser sends client hints.
    """

    kind: AgentKind
    family: str = ""
    major: int | None = None
    platform: str | None = None
    mobile: bool = False
    engine_major: int | None = None
    """The Chromium version inside a Chromium-based UA (``Chrome/130`` in Opera's UA)."""

    @property
    def chromium(self) -> bool:
        """Chromium-based browsers (Chrome, Edge, Opera, Samsung) send ``sec-ch-ua``."""
        return self.family in {"chrome", "edge", "opera", "samsung"}


class _CrawlerPatterns:
    """The ``crawler-user-agents`` patterns, compiled in chunks (one huge regex is slower)."""

    def __init__(self, chunk: int = 50) -> None:
        patterns = [entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA]
        self.chunks = [
            re.compile("|".join(patterns[i : i + chunk])) for i in range(0, len(patterns), chunk)
        ]

    def search(self, text: str) -> str | None:
        for chunk in self.chunks:
            found = chunk.search(text)
            if found is not None:
                return found.group(0)
        return None


_CRAWLERS = _CrawlerPatterns()


def classify_agent(user_agent: str) -> Agent:
    """Classify a User-Agent header value (already decoded)."""
    if len(user_agent) > MAX_AGENT_LENGTH:
        return Agent("malformed", "too-long")
    return _classify(user_agent)


@lru_cache(maxsize=8192)
def _classify(user_agent: str) -> Agent:
    text = user_agent.strip()
    if not text:
        return Agent("missing")
    if not text.isprintable():
        return Agent("malformed")
    automation = _AUTOMATION.search(text)
    if automation is not None:
        return Agent("automation", automation.group(0).strip(" /(").lower())
    # Browsers never name a URL; bots do. Generic bot words count outside device comments
    # ("CUBOT X30" is a phone) but inside a bot's own "(compatible; ...)" comment.
    crawler = _CRAWLERS.search(text) or _match(_GENERIC_BOT, _DEVICE_COMMENT.sub("", text))
    if crawler is not None:
        return Agent("declared_bot", crawler.strip("\\/ +").lower())
    if _PRODUCT.match(text) is None:
        return Agent("malformed")
    if not text.startswith("Mozilla/5.0 ("):
        return Agent("other", text.partition("/")[0].lower())
    platform = next((name for name, pattern in _PLATFORMS if pattern.search(text)), None)
    # Android tablets leave "Mobile" out of the UA, and send sec-ch-ua-mobile: ?0.
    mobile = "Mobile" in text and "iPad" not in text
    engine = _CHROMIUM.search(text)
    engine_major = int(engine.group(1)) if engine is not None else None
    for family, pattern in _BROWSERS:
        found = pattern.search(text)
        if found is not None:
            major = int(next(group for group in found.groups() if group is not None))
            return Agent("browser", family, major, platform, mobile, engine_major)
    ios = _IOS_WEBKIT.search(text)
    if ios is not None:  # in-app browsers (WeChat, Instagram) are Safari's WebKit view
        return Agent("browser", "safari", int(ios.group(1)), platform, mobile)
    return Agent("other", "mozilla", None, platform, mobile)


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return None if found is None else found.group(0)
