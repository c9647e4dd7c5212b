# ruff: noqa: RUF001  (Chinese text uses full-width punctuation by design)
"""The languages of the guard's own pages: a message catalogue and Accept-Language negotiation.

Each language is a plain dict from message key to text, with ``{name}`` placeholders; every
key is in every language (a test checks it). Texts are plain text: whoever puts them in HTML
escapes them (:func:`markup` does it for you).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
"""The languages shipped, the default first."""

MAX_HEADER_CHARS = 1024
"""Only this much of an Accept-Language header is read; real ones are under 200 characters."""
MAX_RANGES = 32
"""Only this many language ranges of a header are read."""

EN: dict[str, str] = {
    # Refusal pages (guard.actions).
    "refusal.throttle.title": "Too many requests",
    "refusal.throttle.message": "You are going faster than this site allows.",
    "refusal.block.title": "Access denied",
    "refusal.block.message": "This request looks automated and was refused.",
    "refusal.unavailable.title": "Temporarily unavailable",
    "refusal.unavailable.message": "This site cannot answer your request right now.",
    "refusal.challenge.title": "Browser check needed",
    "refusal.challenge.message": (
        "This request can be answered after a short browser check. Please open the page "
        "directly in your browser."
    ),
    "refusal.explained": "{message} ({reason})",
    "refusal.open_from_site": (
        "To keep the personal data in its records from being copied in bulk, this site "
        "opens a record for a new visitor only from its own pages when no page has shown "
        "it lately. Please find this one through the site's listings or search, starting "
        "from its {home}."
    ),
    "refusal.open_from_site.home": "home page",
    "refusal.open_from_site.title": "Please open this from the site's pages",
    "refusal.wait.seconds": "Please try again in {seconds} seconds.",
    "refusal.wait.one_second": "Please try again in 1 second.",
    "refusal.wait.unknown": "Please wait a moment, then try again.",
    "refusal.support": (
        "If you think this is a mistake, please contact this site's support and quote the "
        "incident ID below."
    ),
    "refusal.incident": "Incident ID: {incident}",
    # The challenge page (guard.challenge.page).
    "challenge.title": "Checking your browser",
    "challenge.heading": "One moment, please",
    "challenge.intro": (
        "This site protects the personal data in its records from bulk copying. Your browser "
        "is doing a short calculation that shows it is not a copying program. It takes about "
        "a second; then the page you asked for opens by itself."
    ),
    "challenge.progress": "Progress of the check",
    "challenge.checking": "Checking\u2026",
    "challenge.noscript": "{title} {body}",
    "challenge.noscript.title": "JavaScript is turned off.",
    "challenge.noscript.body": (
        "This check runs in JavaScript. Please turn JavaScript on for this site and reload "
        "the page. If you cannot, contact the site's support."
    ),
    "challenge.insecure": "This check needs a secure (HTTPS) connection and a current browser.",
    "challenge.done": "Done. Opening the page\u2026",
    # The page shown when a solution is refused.
    "challenge.failed.title": "Check failed",
    "challenge.failed.heading": "The check did not pass",
    "challenge.failed.again": "Try again",
    "challenge.problem.no_answer": "The check's answer did not arrive.",
    "challenge.problem.bad_token": "The check's token is not valid.",
    "challenge.problem.expired": "The check took too long.",
    "challenge.problem.moved": "The check was started from another network or browser.",
    "challenge.problem.malformed": "The check's answer is malformed.",
    "challenge.problem.wrong": "The check's answer is wrong.",
    "challenge.problem.used": "This check was already used.",
}

ZH_CN: dict[str, str] = {
    "refusal.throttle.title": "访问过于频繁",
    "refusal.throttle.message": "您的访问速度超出了本站允许的范围。",
    "refusal.block.title": "访问被拒绝",
    "refusal.block.message": "该请求疑似由自动程序发出，已被拒绝。",
    "refusal.unavailable.title": "服务暂时不可用",
    "refusal.unavailable.message": "本站暂时无法处理您的请求。",
    "refusal.challenge.title": "需要验证浏览器",
    "refusal.challenge.message": (
        "完成简短的浏览器验证后才能处理该请求，请直接在浏览器中打开该页面。"
    ),
    "refusal.explained": "{message}（{reason}）",
    "refusal.open_from_site": (
        "为防止记录中的个人信息被批量复制，近期未在本站任何页面上展示过的记录，"
        "新访客只能从本站自己的页面打开。请从{home}开始，通过列表或搜索找到这条记录。"
    ),
    "refusal.open_from_site.home": "首页",
    "refusal.open_from_site.title": "请从本站页面打开",
    "refusal.wait.seconds": "请在 {seconds} 秒后重试。",
    "refusal.wait.one_second": "请在 1 秒后重试。",
    "refusal.wait.unknown": "请稍等片刻后重试。",
    "refusal.support": "如果您认为这是误判，请联系本站客服，并提供下方的参考编号。",
    "refusal.incident": "参考编号：{incident}",
    "challenge.title": "正在验证您的浏览器",
    "challenge.heading": "请稍候",
    "challenge.intro": (
        "为防止网站上的个人信息被批量复制，您的浏览器正在进行一项简短的计算，"
        "以确认它不是自动抓取程序。整个过程大约需要一秒钟，完成后会自动打开您要访问的页面。"
    ),
    "challenge.progress": "验证进度",
    "challenge.checking": "正在验证\u2026\u2026",
    "challenge.noscript": "{title}{body}",
    "challenge.noscript.title": "JavaScript 已被禁用。",
    "challenge.noscript.body": (
        "此验证需要运行 JavaScript。请为本站启用 JavaScript 后刷新页面；"
        "如果无法启用，请联系本站客服。"
    ),
    "challenge.insecure": "此验证需要安全连接（HTTPS）和较新版本的浏览器。",
    "challenge.done": "验证完成，正在打开页面\u2026\u2026",
    "challenge.failed.title": "验证未通过",
    "challenge.failed.heading": "验证没有通过",
    "challenge.failed.again": "重新验证",
    "challenge.problem.no_answer": "没有收到验证结果。",
    "challenge.problem.bad_token": "验证凭证无效。",
    "challenge.problem.expired": "验证已超时。",
    "challenge.problem.moved": "验证是在其他网络或浏览器中发起的。",
    "challenge.problem.malformed": "验证结果的格式不正确。",
    "challenge.problem.wrong": "验证结果不正确。",
    "challenge.problem.used": "此次验证已经使用过。",
}

CATALOGUE: Mapping[str, Mapping[str, str]] = {"en": EN, "zh-CN": ZH_CN}
"""Every shipped language's messages, by language tag."""

_BY_LOWER = {language.lower(): language for language in CATALOGUE}
# RFC 9110 section 12.5.4: language-range (RFC 4647) and qvalue, ASCII only.
_RANGE = re.compile(r"\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*", re.ASCII | re.IGNORECASE)
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?", re.ASCII)


def known_language(language: str) -> str:
    """The catalogue language :func:`text` uses for ``language``: itself when shipped
    (any letter case), else English."""
    return _BY_LOWER.get(language.lower(), LANGUAGES[0])


def text(language: str, key: str, **values: object) -> str:
    """A message from the catalogue, with ``values`` put into its placeholders.

    Args:
        language: a language tag; one that is not shipped gets English.
        key: the message key, such as ``"refusal.block.title"`` (KeyError when unknown).
        values: what fills the message's ``{name}`` placeholders.

    Returns:
        Plain text, not escaped for HTML.
    """
    return CATALOGUE[known_language(language)][key].format_map(values)


def markup(language: str, key: str, **fragments: str) -> str:
    """A message as HTML: its text escaped, with ``fragments`` (already HTML) put in.

    Args:
        language: a language tag, as for :func:`text`.
        key: the message key.
        fragments: safe HTML for the message's placeholders; the caller escapes what they hold.
    """
    template = CATALOGUE[known_language(language)][key]
    return html.escape(template).format_map(fragments)


def negotiate_language(accept_language: str | None, available: Sequence[str] = LANGUAGES) -> str:
    """The language to answer in, from an ``Accept-Language`` header (RFC 9110, 12.5.4).

    Ranges are tried by q-value, then in header order; ``q=0`` rules a language out. A
    range matches an available language with the same tag, else one with the same primary
    subtag ("en-GB" gets "en"). So every Chinese range, simplified or traditional ("zh",
    "zh-CN", "zh-Hans", "zh-SG", "zh-TW", "zh-HK", "zh-Hant"), gets "zh-CN": it is the only
    Chinese shipped, and someone who asks for Chinese first reads it more easily than the
    English fallback.

    Never raises: a missing, malformed or unmatched header gets the first available language
    ("en"). Work is bounded: only the first :data:`MAX_HEADER_CHARS` characters and
    :data:`MAX_RANGES` ranges are read (a range cut in two is dropped).

    Args:
        accept_language: the header's value, or None when absent.
        available: the languages to choose from, the default first.
    """
    if not available:
        return LANGUAGES[0]
    if not isinstance(accept_language, str) or not accept_language:
        return available[0]
    ranges = _ranges(accept_language)
    excluded = {
        language
        for tag, q in ranges
        if q == 0 and tag != "*"
        for language in available
        if _covers(tag, language)
    }
    allowed = [language for language in available if language not in excluded]
    for tag, _ in sorted((r for r in ranges if r[1] > 0), key=lambda r: -r[1]):
        match = allowed[0] if tag == "*" and allowed else _match(tag, allowed)
        if match is not None:
            return match
    return allowed[0] if allowed else available[0]


def _ranges(header: str) -> list[tuple[str, float]]:
    """The well-formed (language range, q) pairs of a header, in header order; lower case."""
    items = header[:MAX_HEADER_CHARS].split(",", MAX_RANGES)
    if len(items) > MAX_RANGES or len(header) > MAX_HEADER_CHARS:
        items.pop()  # the unread rest, or a range the cut may have shortened
    ranges = []
    for item in items:
        tag, *params = item.split(";")
        tag = tag.strip(" \t")
        if not _RANGE.fullmatch(tag):
            continue
        q: float | None = 1.0
        for param in params:
            name, _, value = param.strip(" \t").partition("=")
            if name.lower() == "q":
                q = float(value) if _QVALUE.fullmatch(value) else None
                break
        if q is not None:
            ranges.append((tag.lower(), q))
    return ranges


def _covers(tag: str, language: str) -> bool:
    """Whether the range ``tag`` names ``language`` or a language it is a prefix of."""
    lowered = language.lower()
    return lowered == tag or lowered.startswith(tag + "-")


def _match(tag: str, languages: Sequence[str]) -> str | None:
    """The language with the same tag as ``tag``, else the first with its primary subtag."""
    for language in languages:
        if language.lower() == tag:
            return language
    primary = tag.partition("-")[0]
    for language in languages:
        if language.lower().partition("-")[0] == primary:
            return language
    return None
