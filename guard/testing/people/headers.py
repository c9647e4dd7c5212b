"""Browsers on the wire: the headers each browser sends, and in which order.

Headers are those the browsers send over HTTP/1.1 to a secure origin (loopback counts as
one), in their order, for navigations and for style, script and image loads; they are
written from captures of these browsers as we know them, close but not byte-exact. Browser
versions are those in use at the end of 2026.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Dest = Literal["document", "style", "script", "image"]
FetchSite = Literal["none", "same-origin", "cross-site"]

_WIRE: Mapping[str, Mapping[str, str]] = {
    "chromium": {
        "document": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
        "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
        "style": "text/css,*/*;q=0.1",
        "script": "*/*",
        "image": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        "encoding": "gzip, deflate, br, zstd",
    },
    "firefox": {
        "document": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "style": "text/css,*/*;q=0.1",
        "script": "*/*",
        "image": "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        "encoding": "gzip, deflate, br, zstd",
    },
    "safari": {
        "document": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "style": "text/css,*/*;q=0.1",
        "script": "*/*",
        "image": "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;"
        "q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        "encoding": "gzip, deflate, br",
    },
    "chrome75": {
        "document": "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,"
        "image/apng,*/*;q=0.8,application/signed-exchange;v=b3",
        "style": "text/css,*/*;q=0.1",
        "script": "*/*",
        "image": "image/webp,image/apng,image/*,*/*;q=0.8",
        "encoding": "gzip, deflate, br",
    },
    "firefox78": {
        "document": "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8",
        "style": "text/css,*/*;q=0.1",
        "script": "*/*",
        "image": "image/webp,*/*",
        "encoding": "gzip, deflate, br",
    },
}
_ORDER: Mapping[str, tuple[str, ...]] = {
    "chromium-document": (
        "Connection", "Content-Length", "Cache-Control", "sec-ch-ua", "sec-ch-ua-mobile",
        "sec-ch-ua-platform", "Origin", "Content-Type", "Upgrade-Insecure-Requests",
        "User-Agent", "Accept", "X-Requested-With", "Sec-Fetch-Site", "Sec-Fetch-Mode",
        "Sec-Fetch-User", "Sec-Fetch-Dest", "Referer", "Accept-Encoding", "Accept-Language",
        "Cookie",
    ),
    "chromium-subresource": (
        "Connection", "sec-ch-ua-platform", "User-Agent", "sec-ch-ua", "sec-ch-ua-mobile",
        "Accept", "X-Requested-With", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest",
        "Referer", "Accept-Encoding", "Accept-Language", "Cookie",
    ),
    "firefox": (
        "User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Content-Type",
        "Content-Length", "Origin", "Connection", "Referer", "Cookie",
        "Upgrade-Insecure-Requests", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site",
        "Sec-Fetch-User", "Priority", "Cache-Control",
    ),
    "safari": (
        "Sec-Fetch-Dest", "User-Agent", "Upgrade-Insecure-Requests", "Content-Type", "Origin",
        "Accept", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Referer", "Content-Length",
        "Accept-Language", "Priority", "Accept-Encoding", "Cache-Control", "Connection",
        "Cookie",
    ),
}  # fmt: skip
_FIREFOX_PRIORITY = {"document": "u=0, i", "style": "u=2", "script": "u=3", "image": "u=5, i"}


@dataclass(frozen=True, slots=True)
class Browser:
    """A browser as a site sees it: the headers it sends, and in which order.

    Args:
        label: what it is, e.g. "chrome 155 windows".
        family: whose header order it follows: chromium, firefox or safari.
        wire: its Accept values (a row of the Accept table: chromium, firefox, safari,
            chrome75, firefox78).
        user_agent: the User-Agent header.
        accept_language: the Accept-Language header.
        client_hints: (sec-ch-ua, sec-ch-ua-mobile, sec-ch-ua-platform), None when not sent.
        fetch_metadata: whether it sends ``Sec-Fetch-*``.
        referer: whether Referer headers leave it (a privacy proxy may drop them).
        encoding: an Accept-Encoding that replaces the browser's (a proxy's), if any.
        extra: headers sent on every request (a WebView's X-Requested-With, a proxy's Via).
    """

    label: str
    family: Literal["chromium", "firefox", "safari"]
    wire: str
    user_agent: str
    accept_language: str
    client_hints: tuple[str, str, str] | None
    fetch_metadata: bool
    referer: bool = True
    encoding: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def headers(
        self,
        dest: Dest,
        *,
        site: FetchSite = "same-origin",
        referer: str | None = None,
        user: bool = True,
        cookie: str | None = None,
        form: tuple[str, int] | None = None,
        reload: bool = False,
    ) -> list[tuple[str, str]]:
        """The headers of one request (Host and the body's are added by the client).

        Args:
            dest: what is fetched: a document (a navigation) or a style, script or image.
            site: ``Sec-Fetch-Site``: none (typed, bookmark, another app), same-origin, or
                cross-site (from a search engine).
            referer: the page it comes from, if any.
            user: a navigation the person started (``Sec-Fetch-User: ?1``); False for one
                a script started, such as the challenge page's form.
            cookie: the Cookie header's value, if any.
            form: (origin, length) of an urlencoded form being posted.
            reload: the person reloads the page.
        """
        wire = _WIRE[self.wire]
        document = dest == "document"
        values: dict[str, str] = {
            "Connection": "keep-alive",
            "User-Agent": self.user_agent,
            "Accept": wire[dest],
            "Accept-Encoding": self.encoding or wire["encoding"],
            "Accept-Language": self.accept_language,
        }
        if document:
            values["Upgrade-Insecure-Requests"] = "1"
        if self.client_hints is not None:
            values["sec-ch-ua"], values["sec-ch-ua-mobile"], values["sec-ch-ua-platform"] = (
                self.client_hints
            )
        if self.fetch_metadata:
            values["Sec-Fetch-Site"] = site
            values["Sec-Fetch-Mode"] = "navigate" if document else "no-cors"
            values["Sec-Fetch-Dest"] = dest
            if document and user and self.family != "safari":
                values["Sec-Fetch-User"] = "?1"
            if self.family == "firefox":
                values["Priority"] = _FIREFOX_PRIORITY[dest]
            elif self.family == "safari" and document:
                values["Priority"] = "u=0, i"
        if referer is not None and self.referer:
            values["Referer"] = referer
        if form is not None:
            values["Origin"], length = form
            values["Content-Length"] = str(length)
            values["Content-Type"] = "application/x-www-form-urlencoded"
            if self.family == "chromium":
                values["Cache-Control"] = "max-age=0"
        if reload:
            values["Cache-Control"] = "max-age=0"
        if cookie:
            values["Cookie"] = cookie
        values.update(self.extra)
        key = self.family if self.family != "chromium" else f"chromium-{_kind(document)}"
        order = _ORDER[key]
        ranked = sorted(values, key=lambda name: order.index(name) if name in order else 99)
        return [(name, values[name]) for name in ranked]


def _kind(document: bool) -> str:
    return "document" if document else "subresource"


def chromium_brands(major: int, brand: str = "Google Chrome") -> str:
    """``sec-ch-ua`` as Chromium writes it for ``major``: three brands, one of them a GREASE
    brand, in an order and with characters the major version chooses (user_agent_utils.cc)."""
    chars = (" ", "(", ":", "-", ".", "/", ")", ";", "=", "?", "_")
    name = f"Not{chars[major % 11]}A{chars[(major + 1) % 11]}Brand"
    grease = f'"{name}";v="{("8", "99", "24")[major % 3]}"'
    orders = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))
    slots = ["", "", ""]
    for position, value in zip(
        orders[major % 6],
        (grease, f'"Chromium";v="{major}"', f'"{brand}";v="{major}"'),
        strict=True,
    ):
        slots[position] = value
    return ", ".join(slots)
