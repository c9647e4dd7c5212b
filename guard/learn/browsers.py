"""Client programs as the server sees them: a user agent and the headers sent with it.

A :class:`Device` is a browser or an HTTP tool. Browsers send what the real one sends to a
secure origin, in its order: the simulated site is ``http://127.0.0.1:8000`` (see
:data:`HOST`), and loopback counts as secure, so Chromium sends fetch metadata and client
hints and Firefox and Safari send fetch metadata. Values for Chromium come from
:func:`guard.testing.chrome_headers`, so hints always agree with the user agent. A bot
that "spoofs a browser with consistent headers" uses the same devices as people do: only
its behaviour can tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from guard.facts.agent import classify_agent
from guard.testing import chrome_headers

HOST = "127.0.0.1:8000"
"""The Host header of every request: a loopback origin, so browsers treat it as secure."""
SITE_URL = f"http://{HOST}"

Headers = tuple[tuple[str, str], ...]
FetchKind = Literal["document", "form", "style", "script", "image", "json"]
"""What a request loads: a page, a form POST (a page too), a subresource, or API JSON."""

FORM_BODY_LENGTH = "47"  # username=employerNN&password=demo-pass, near enough for every account
_FORM_TYPE = "application/x-www-form-urlencoded"
_ETAG = '"5d41402abc4b2a76b9719d911017c592"'
_LAST_MODIFIED = "Mon, 30 Jun 2025 08:00:00 GMT"


@dataclass(frozen=True, slots=True)
class Fetch:
    """One request as the client prepares it: its purpose decides the headers sent.

    Args:
        kind: what is loaded.
        site: the ``sec-fetch-site`` value: ``none`` (typed), ``same-origin`` or
            ``cross-site``.
        referer: the Referer, or None.
        cookie: the Cookie header, or None.
        revalidate: a conditional request for a cached asset (``if-none-match``).
    """

    kind: FetchKind = "document"
    site: str = "none"
    referer: str | None = None
    cookie: str | None = None
    revalidate: bool = False


@dataclass(frozen=True, slots=True)
class Device:
    """A client program: ``style`` names how it builds headers (see :data:`STYLES`).

    A ``stripped`` device's fetch metadata and client hints never reach the site: a browser
    too old to send them, or one behind a privacy proxy or a middlebox that removes them.
    """

    style: str
    user_agent: str
    language: str = "en-US,en;q=0.9"
    stripped: bool = False

    @property
    def is_browser(self) -> bool:
        """Whether it is a real browser engine (it loads assets and keeps cookies)."""
        return self.style in BROWSER_STYLES

    @property
    def mobile(self) -> bool:
        """Whether the user agent is a phone's."""
        return classify_agent(self.user_agent).mobile

    def headers(self, fetch: Fetch) -> Headers:
        """The headers, in the order sent, for ``fetch``."""
        return _headers(self, fetch)


@lru_cache(maxsize=1 << 16)
def _headers(device: Device, fetch: Fetch) -> Headers:
    # Scripts repeat the same request all day: building each header set once saves most
    # of the simulator's time.
    headers = STYLES[device.style](device, fetch)
    if device.stripped:
        return tuple(pair for pair in headers if not pair[0].startswith(_STRIPPED))
    return headers


_STRIPPED = ("sec-fetch-", "sec-ch-")


def _ordered(values: Mapping[str, str | None], order: tuple[str, ...]) -> Headers:
    return tuple((name, value) for name in order if (value := values.get(name)) is not None)


def _fetch_metadata(fetch: Fetch) -> dict[str, str | None]:
    if fetch.kind in {"document", "form"}:
        return {
            "sec-fetch-site": fetch.site,
            "sec-fetch-mode": "navigate",
            "sec-fetch-user": "?1",
            "sec-fetch-dest": "document",
        }
    json = fetch.kind == "json"
    return {
        "sec-fetch-site": fetch.site,
        "sec-fetch-mode": "cors" if json else "no-cors",
        "sec-fetch-dest": "empty" if json else fetch.kind,
    }


def _common(fetch: Fetch, accept: str) -> dict[str, str | None]:
    """The values every browser sends the same way (only their order differs)."""
    navigation = fetch.kind in {"document", "form"}
    form = fetch.kind == "form"
    return {
        "host": HOST,
        "connection": "keep-alive",
        "accept": accept,
        "referer": fetch.referer,
        "cookie": fetch.cookie,
        "upgrade-insecure-requests": "1" if navigation else None,
        "content-length": FORM_BODY_LENGTH if form else None,
        "content-type": _FORM_TYPE if form else None,
        "origin": SITE_URL if form else None,
        "if-none-match": _ETAG if fetch.revalidate else None,
        "if-modified-since": _LAST_MODIFIED if fetch.revalidate else None,
        **_fetch_metadata(fetch),
    }


_CHROME_ACCEPT = {
    "style": "text/css,*/*;q=0.1",
    "script": "*/*",
    "image": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "json": "application/json",
}
_CHROME_ORDER = (
    "host", "connection", "content-length", "cache-control", "sec-ch-ua", "sec-ch-ua-mobile",
    "sec-ch-ua-platform", "upgrade-insecure-requests", "origin", "content-type", "user-agent",
    "accept", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-user", "sec-fetch-dest", "referer",
    "accept-encoding", "accept-language", "cookie", "if-none-match", "if-modified-since",
)  # fmt: skip


@lru_cache(maxsize=1024)
def _chromium_values(user_agent: str, language: str) -> dict[str, str]:
    values = chrome_headers(user_agent, language=language)
    if "HeadlessChrome/" in user_agent:
        # Headless Chrome names itself in its brands and says where it really runs.
        version = user_agent.partition("HeadlessChrome/")[2].partition(".")[0]
        values["sec-ch-ua"] = (
            f'"HeadlessChrome";v="{version}", "Chromium";v="{version}", "Not_A Brand";v="24"'
        )
        values["sec-ch-ua-platform"] = '"Linux"'
    return values


def _chromium(device: Device, fetch: Fetch) -> Headers:
    base = _chromium_values(device.user_agent, device.language)
    accept = base["accept"] if fetch.kind in {"document", "form"} else _CHROME_ACCEPT[fetch.kind]
    values = _common(fetch, accept) | {
        "sec-ch-ua": base["sec-ch-ua"],
        "sec-ch-ua-mobile": base["sec-ch-ua-mobile"],
        "sec-ch-ua-platform": base["sec-ch-ua-platform"],
        "cache-control": "max-age=0" if fetch.kind == "form" else None,
        "user-agent": device.user_agent,
        "accept-encoding": base["accept-encoding"],
        "accept-language": device.language,
    }
    return _ordered(values, _CHROME_ORDER)


_FIREFOX_ACCEPT = {
    "document": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "style": "text/css,*/*;q=0.1",
    "script": "*/*",
    "image": "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
    "json": "application/json",
}
_FIREFOX_PRIORITY = {"document": "u=0, i", "style": "u=2", "script": "u=2", "image": "u=5, i"}
_FIREFOX_ORDER = (
    "host", "user-agent", "accept", "accept-language", "accept-encoding", "content-type",
    "content-length", "origin", "connection", "referer", "cookie", "upgrade-insecure-requests",
    "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user", "if-modified-since",
    "if-none-match", "priority",
)  # fmt: skip


def _firefox(device: Device, fetch: Fetch) -> Headers:
    kind = "document" if fetch.kind == "form" else fetch.kind
    values = _common(fetch, _FIREFOX_ACCEPT[kind]) | {
        "user-agent": device.user_agent,
        "accept-language": device.language,
        "accept-encoding": "gzip, deflate, br, zstd",
        "priority": _FIREFOX_PRIORITY.get(kind),
    }
    return _ordered(values, _FIREFOX_ORDER)


_SAFARI_ACCEPT = {
    "document": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "style": "text/css,*/*;q=0.1",
    "script": "*/*",
    "image": "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,"
    "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
    "json": "application/json",
}
_SAFARI_ORDER = (
    "host", "origin", "content-type", "sec-fetch-dest", "user-agent", "accept", "referer",
    "sec-fetch-site", "sec-fetch-mode", "if-none-match", "accept-language", "priority",
    "accept-encoding", "content-length", "connection", "if-modified-since", "cookie",
)  # fmt: skip


def _safari(device: Device, fetch: Fetch) -> Headers:
    """Safari and every iOS browser (all are WebKit): fetch metadata, no client hints."""
    kind = "document" if fetch.kind == "form" else fetch.kind
    values = _common(fetch, _SAFARI_ACCEPT[kind]) | {
        "user-agent": device.user_agent,
        "accept-language": device.language,
        "accept-encoding": "gzip, deflate, br",
        "priority": "u=0, i" if kind == "document" else None,
    }
    return _ordered(values, _SAFARI_ORDER)


@dataclass(frozen=True, slots=True)
class _Tool:
    """An HTTP library's defaults: header order and the values it sends unasked."""

    order: tuple[str, ...]
    defaults: Mapping[str, str]
    json_accept: str = "application/json"


_PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_TOOLS: dict[str, _Tool] = {
    "requests": _Tool(
        ("host", "user-agent", "accept-encoding", "accept", "connection", "cookie"),
        {"accept-encoding": "gzip, deflate", "accept": "*/*", "connection": "keep-alive"},
    ),
    "aiohttp": _Tool(
        ("host", "user-agent", "accept", "accept-encoding", "cookie"),
        {"accept": "*/*", "accept-encoding": "gzip, deflate"},
    ),
    "go": _Tool(
        ("host", "user-agent", "accept", "cookie", "accept-encoding"), {"accept-encoding": "gzip"}
    ),
    "curl": _Tool(("host", "user-agent", "accept", "cookie"), {"accept": "*/*"}),
    "okhttp": _Tool(
        ("accept", "host", "connection", "accept-encoding", "cookie", "user-agent"),
        {"connection": "Keep-Alive", "accept-encoding": "gzip"},
    ),
    "axios": _Tool(
        ("accept", "user-agent", "accept-encoding", "cookie", "host", "connection"),
        {
            "accept": "application/json, text/plain, */*",
            "accept-encoding": "gzip, compress, deflate, br",
            "connection": "close",
        },
        json_accept="application/json, text/plain, */*",
    ),
    "scrapy": _Tool(
        ("host", "accept", "accept-language", "user-agent", "accept-encoding", "referer", "cookie"),
        {"accept": _PAGE_ACCEPT, "accept-language": "en", "accept-encoding": "gzip, deflate, br"},
    ),
    "colly": _Tool(
        ("host", "user-agent", "accept", "cookie", "accept-encoding"),
        {"accept": "*/*", "accept-encoding": "gzip"},
    ),
    "java": _Tool(
        ("host", "connection", "user-agent", "cookie", "accept-encoding"),
        {"connection": "keep-alive", "accept-encoding": "gzip,deflate"},
    ),
    "wget": _Tool(
        ("host", "user-agent", "accept", "accept-encoding", "connection", "cookie"),
        {"accept": "*/*", "accept-encoding": "identity", "connection": "Keep-Alive"},
    ),
    "node": _Tool(
        ("host", "accept", "user-agent", "accept-encoding", "connection", "cookie"),
        {"accept": "*/*", "accept-encoding": "gzip,deflate", "connection": "close"},
    ),
    # A script that copied a browser's User-Agent (and maybe its language) but nothing else.
    "spoof": _Tool(
        ("host", "user-agent", "accept-encoding", "accept", "connection", "cookie"),
        {"accept-encoding": "gzip, deflate", "accept": _PAGE_ACCEPT, "connection": "keep-alive"},
    ),
    "spoof_lang": _Tool(
        (
            "host",
            "user-agent",
            "accept",
            "accept-language",
            "accept-encoding",
            "connection",
            "cookie",
        ),
        {
            "accept": _PAGE_ACCEPT,
            "accept-language": "zh-CN,zh;q=0.9",
            "accept-encoding": "gzip, deflate",
            "connection": "keep-alive",
        },
    ),
    "crawler": _Tool(
        (
            "host",
            "connection",
            "accept",
            "user-agent",
            "accept-encoding",
            "if-modified-since",
            "if-none-match",
        ),
        {
            "connection": "keep-alive",
            "accept": _PAGE_ACCEPT,
            "accept-encoding": "gzip, deflate, br",
        },
    ),
}


def _tool(device: Device, fetch: Fetch) -> Headers:
    tool = _TOOLS[device.style]
    values: dict[str, str | None] = {
        **tool.defaults,
        "host": HOST,
        "user-agent": device.user_agent,
        "referer": fetch.referer,
        "cookie": fetch.cookie,
        "if-modified-since": _LAST_MODIFIED if fetch.revalidate else None,
        "if-none-match": _ETAG if fetch.revalidate else None,
    }
    if device.language:
        values["accept-language"] = device.language
    if fetch.kind == "json":
        values["accept"] = tool.json_accept
    return _ordered(values, tool.order)


BROWSER_STYLES = frozenset({"chromium", "firefox", "safari"})
STYLES: dict[str, Callable[[Device, Fetch], Headers]] = {
    "chromium": _chromium,
    "firefox": _firefox,
    "safari": _safari,
    **dict.fromkeys(_TOOLS, _tool),
}
"""Header builders by style name: the browsers' and every tool's."""
