"""The browsers people use: current and old builds, phones, proxies and WeChat, drawn by share.

* Phones make about 55-60% of web page views worldwide (StatCounter Global Stats, desktop vs
  mobile, 2023-2025), more in China, where nearly all internet users go online by phone
  (CNNIC's Statistical Reports on Internet Development); the demo is a Chinese job board,
  so most people here ask for zh-CN first.
* Browsers (StatCounter, 2024-2025): Chrome about 65%, Safari about 18%, Edge about 5%,
  Firefox about 3%. A few percent of people run browsers years out of date (machines left
  on Windows 7, corporate ESR builds): Chrome 75 (2019) predates fetch metadata (Chrome 76
  sent ``Sec-Fetch-Site/Mode/User``, Chrome 80 ``Sec-Fetch-Dest``) and client hints (Chrome
  89); Firefox 78 ESR predates fetch metadata (Firefox 90); Safari sends it since 16.4.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from guard.testing.people.headers import Browser, chromium_brands

_T = TypeVar("_T")

_CHROME_LANGUAGES = (
    ("zh-CN,zh;q=0.9", 34), ("zh-CN,zh;q=0.9,en;q=0.8", 14), ("en-US,en;q=0.9", 26),
    ("en-GB,en-US;q=0.9,en;q=0.8", 5), ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", 5),
    ("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", 4), ("ja,en-US;q=0.9,en;q=0.8", 4),
    ("es-ES,es;q=0.9", 3), ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", 3), ("ru-RU,ru;q=0.9", 2),
)  # fmt: skip
_FIREFOX_LANGUAGES = (
    ("zh-CN,zh;q=0.8,zh-TW;q=0.7,zh-HK;q=0.5,en-US;q=0.3,en;q=0.2", 40),
    ("en-US,en;q=0.5", 35), ("de,en-US;q=0.7,en;q=0.3", 10), ("en-GB,en;q=0.5", 8),
    ("fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3", 7),
)  # fmt: skip
_SAFARI_LANGUAGES = (
    ("zh-CN,zh-Hans;q=0.9", 50), ("en-US,en;q=0.9", 30), ("en-GB,en;q=0.9", 8),
    ("zh-TW,zh-Hant;q=0.9", 7), ("ja-JP,ja;q=0.9", 5),
)  # fmt: skip
_CHROME_MAJORS = ((156, 30), (155, 35), (154, 15), (153, 8), (152, 5), (150, 4), (144, 3))
_DESKTOPS = (
    ("Windows", "Windows NT 10.0; Win64; x64", 70),
    ("macOS", "Macintosh; Intel Mac OS X 10_15_7", 20),
    ("Linux", "X11; Linux x86_64", 5),
    ("Chrome OS", "X11; CrOS x86_64 16181.61.0", 5),
)  # fmt: skip


def pick(rng: random.Random, table: Sequence[tuple[_T, int]]) -> _T:
    """One value of ``table``, a sequence of (value, weight), drawn by weight."""
    return rng.choices([value for value, _ in table], weights=[w for _, w in table])[0]


def _chrome(rng: random.Random, *, edge: bool = False) -> Browser:
    major = pick(rng, _CHROME_MAJORS)
    platform, system = pick(rng, [((p, s), w) for p, s, w in _DESKTOPS])
    agent = (
        f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )
    brand = "Google Chrome"
    if edge:
        agent, brand = f"{agent} Edg/{major}.0.0.0", "Microsoft Edge"
    hints = (chromium_brands(major, brand), "?0", f'"{platform}"')
    name = "edge" if edge else "chrome"
    return Browser(
        f"{name} {major} {platform}", "chromium", "chromium", agent,
        pick(rng, _CHROME_LANGUAGES), hints, fetch_metadata=True,
    )  # fmt: skip


def _chrome_android(rng: random.Random) -> Browser:
    major = pick(rng, _CHROME_MAJORS)
    agent = (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Mobile Safari/537.36"
    )
    hints = (chromium_brands(major), "?1", '"Android"')
    return Browser(
        f"chrome {major} android", "chromium", "chromium", agent,
        pick(rng, _CHROME_LANGUAGES), hints, fetch_metadata=True,
    )  # fmt: skip


def _firefox(rng: random.Random) -> Browser:
    major = pick(rng, ((158, 35), (157, 30), (156, 10), (153, 10), (140, 15)))
    system = pick(rng, (("Windows NT 10.0; Win64; x64", 65), ("X11; Linux x86_64", 20),
                         ("Macintosh; Intel Mac OS X 10.15", 15)))  # fmt: skip
    agent = f"Mozilla/5.0 ({system}; rv:{major}.0) Gecko/20100101 Firefox/{major}.0"
    return Browser(
        f"firefox {major}", "firefox", "firefox", agent, pick(rng, _FIREFOX_LANGUAGES),
        None, fetch_metadata=True,
    )  # fmt: skip


def _safari(rng: random.Random, *, ios: bool) -> Browser:
    version = pick(rng, (("26.1", 35), ("26.0", 15), ("18.6", 20), ("18.3", 10), ("17.6", 15),
                          ("17.4", 5)))  # fmt: skip
    if ios:
        # Safari 26 reports iOS 18.6 in its user agent: Apple froze the OS version there.
        system = "18_6" if version.startswith("26") else version.replace(".", "_")
        agent = (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {system} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Version/{version} Mobile/15E148 Safari/604.1"
        )
    else:
        agent = (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Version/{version} Safari/605.1.15"
        )
    where = "ios" if ios else "macos"
    return Browser(
        f"safari {version} {where}", "safari", "safari", agent,
        pick(rng, _SAFARI_LANGUAGES), None, fetch_metadata=True,
    )  # fmt: skip


def _old_browser(rng: random.Random) -> Browser:
    kind = pick(rng, (("chrome-windows", 50), ("firefox", 30), ("chrome-android", 20)))
    if kind == "firefox":
        system = rng.choice(("Windows NT 6.1; Win64; x64", "X11; Linux x86_64"))
        agent = f"Mozilla/5.0 ({system}; rv:78.0) Gecko/20100101 Firefox/78.0"
        language = pick(rng, _FIREFOX_LANGUAGES)
        return Browser("firefox 78 esr", "firefox", "firefox78", agent, language, None, False)
    if kind == "chrome-android":
        system = "Linux; Android 7.0; SM-G930F"
        tail = "Mobile Safari/537.36"
    else:
        system, tail = "Windows NT 6.1; Win64; x64", "Safari/537.36"
    agent = (
        f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 {tail}"
    )
    language = pick(rng, _CHROME_LANGUAGES)
    return Browser(f"chrome 75 {kind}", "chromium", "chrome75", agent, language, None, False)


def _proxied(rng: random.Random) -> Browser:
    """A current browser behind a middlebox that strips fetch metadata and client hints
    (a privacy proxy, a corporate filter), often the Referer too."""
    inner = _chrome(rng) if rng.random() < 0.7 else _firefox(rng)
    extra = (("Via", rng.choice(("1.1 proxy", "1.1 gateway (squid/6.10)"))),)
    return Browser(
        f"{inner.label} via proxy", inner.family, inner.wire, inner.user_agent,
        inner.accept_language, None, fetch_metadata=False, referer=rng.random() < 0.4,
        encoding=rng.choice((None, "gzip, deflate")), extra=extra if rng.random() < 0.5 else (),
    )  # fmt: skip


def _wechat(rng: random.Random) -> Browser:
    """WeChat's in-app browser: an Android WebView (with X-Requested-With) or an iOS one."""
    if rng.random() < 0.6:
        major = rng.choice((130, 132, 134))
        agent = (
            "Mozilla/5.0 (Linux; Android 14; V2227A Build/UP1A.231005.007; wv) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
            f"Chrome/{major}.0.6723.103 Mobile Safari/537.36 XWEB/1300289 MMWEBSDK/20250201 "
            "MMWEBID/2247 MicroMessenger/8.0.56.2800(0x28003833) WeChat/arm64 Weixin "
            "NetType/WIFI Language/zh_CN ABI/arm64"
        )
        hints = (chromium_brands(major, "Android WebView"), "?1", '"Android"')
        return Browser(
            f"wechat webview {major}", "chromium", "chromium", agent,
            "zh-CN,zh;q=0.9,en-US;q=0.8,en;q=0.7", hints, fetch_metadata=True,
            extra=(("X-Requested-With", "com.tencent.mm"),),
        )  # fmt: skip
    agent = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.56(0x18003836) NetType/WIFI "
        "Language/zh_CN"
    )
    return Browser("wechat ios", "safari", "safari", agent, "zh-CN,zh-Hans;q=0.9", None, True)


def _phone(rng: random.Random) -> Browser:
    return _chrome_android(rng) if rng.random() < 0.6 else _safari(rng, ios=True)


def _any_device(rng: random.Random) -> Browser:
    """A browser from the overall mix: phones 55%, then desktop browsers by their shares."""
    if rng.random() < 0.55:
        return _phone(rng)
    draw = rng.random()
    if draw < 0.72:
        return _chrome(rng)
    if draw < 0.84:
        return _chrome(rng, edge=True)
    return _safari(rng, ios=False) if draw < 0.93 else _firefox(rng)


def browser_for(persona: str, rng: random.Random, popular: Browser) -> Browser:
    """The browser of one visit by ``persona`` (a :data:`~guard.testing.people.PERSONAS` key).

    Args:
        persona: who visits.
        rng: the visit's random choices.
        popular: the phone many subscribers behind one carrier address share
            (:func:`carrier_phone`).
    """
    if persona == "chrome_desktop":
        return _chrome(rng, edge=rng.random() < 0.15)
    if persona == "firefox_desktop":
        return _firefox(rng)
    if persona in {"safari_macos", "safari_ios"}:
        return _safari(rng, ios=persona == "safari_ios")
    if persona == "chrome_android":
        return _chrome_android(rng)
    if persona == "old_browser":
        return _old_browser(rng)
    if persona == "privacy_proxy":
        return _proxied(rng)
    if persona == "cgnat":
        # Behind one carrier address: often the very same phone and build, else any phone.
        return popular if rng.random() < 0.5 else _phone(rng)
    if persona == "chat_link":
        draw = rng.random()
        return _wechat(rng) if draw < 0.35 else _phone(rng) if draw < 0.75 else _chrome(rng)
    if persona == "search_lander":
        return _any_device(rng)
    # recruiter: at a desk
    draw = rng.random()
    return _chrome(rng, edge=draw < 0.2) if draw < 0.8 else _firefox(rng)


def carrier_phone(seed: int) -> Browser:
    """The phone and build that many of a run's people behind one carrier address share."""
    return _safari(random.Random(f"cgnat:{seed}"), ios=True)  # noqa: S311
