"""Tests for guard.facts.fingerprint: header fingerprints and keyed identity hashes."""

from __future__ import annotations

import re

from guard.facts.fingerprint import default_identity, hash_identity, header_fingerprint

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
HINTS = [
    ("sec-ch-ua", '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"'),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Windows"'),
]
TAIL = [
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "en-GB,en;q=0.9"),
]
Headers = list[tuple[str, str]]


def page(user_agent: str = CHROME_UA, language: str = "en-GB,en;q=0.9") -> Headers:
    """The headers of a page navigation, without upgrade-insecure-requests."""
    return [
        ("host", "jobs.example"),
        ("connection", "keep-alive"),
        *HINTS,
        ("user-agent", user_agent),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("sec-fetch-site", "none"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-user", "?1"),
        ("sec-fetch-dest", "document"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("accept-language", language),
        ("cookie", "session=abc"),
    ]


def asset() -> Headers:
    """The headers of the same browser fetching an image on that page."""
    return [
        ("host", "jobs.example"),
        ("connection", "keep-alive"),
        *HINTS,
        ("user-agent", CHROME_UA),
        ("accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "no-cors"),
        ("sec-fetch-dest", "image"),
        ("referer", "https://jobs.example/resumes"),
        *TAIL,
        ("cookie", "session=abc; __guard=x"),
    ]


def fingerprint(headers: Headers, tls: str | None = None) -> str:
    """header_fingerprint over an ordered header list, as FactExtractor calls it."""
    names = tuple(name for name, _ in headers)
    values: dict[str, str] = {}
    for name, value in headers:
        values.setdefault(name, value)
    return header_fingerprint(names, values, tls)


def test_fingerprint_is_short_hex() -> None:
    """The fingerprint is 16 hex characters (8 bytes)."""
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint(page()))


def test_fingerprint_is_deterministic() -> None:
    """The same headers always give the same fingerprint."""
    assert fingerprint(page()) == fingerprint(page())


def test_page_and_asset_of_one_browser_share_a_fingerprint() -> None:
    """Accept, sec-fetch-*, referer and cookie differences do not split one browser."""
    assert fingerprint(page()) == fingerprint(asset())


def test_navigation_only_upgrade_header_does_not_split_a_browser() -> None:
    """A page carrying Upgrade-Insecure-Requests matches its assets, which never carry it."""
    navigation = page()
    navigation.insert(5, ("upgrade-insecure-requests", "1"))
    assert fingerprint(navigation) == fingerprint(asset())


def test_other_user_agent_changes_the_fingerprint() -> None:
    """Another browser is another fingerprint."""
    assert fingerprint(page(user_agent=FIREFOX_UA)) != fingerprint(page())


def test_other_accept_language_changes_the_fingerprint() -> None:
    """The same browser build with another language setting is another fingerprint."""
    assert fingerprint(page(language="de-DE,de;q=0.9")) != fingerprint(page())


def test_stable_header_order_is_part_of_the_fingerprint() -> None:
    """A client that sends the same stable headers in another order is told apart."""
    headers = page()
    reordered = [h for h in headers if h[0] != "user-agent"]
    reordered.insert(0, ("user-agent", CHROME_UA))
    assert fingerprint(reordered) != fingerprint(headers)


def test_missing_client_hints_change_the_fingerprint() -> None:
    """A Chrome UA without client hints is not the real Chrome's fingerprint."""
    stripped = [h for h in page() if not h[0].startswith("sec-ch-ua")]
    assert fingerprint(stripped) != fingerprint(page())


def test_tls_fingerprint_is_mixed_in() -> None:
    """A TLS fingerprint separates clients whose headers are identical."""
    base = fingerprint(page())
    assert fingerprint(page(), "t13d1516h2_8daaf6152771") != base
    assert fingerprint(page(), "t13d1516h2_8daaf6152771") != fingerprint(page(), "t12d0909h1_0")


def test_fingerprint_survives_unencodable_text() -> None:
    """Lone surrogates in header values are hashed, not raised on."""
    assert len(fingerprint([("user-agent", "bad\udcff")])) == 16


def test_hash_identity_is_keyed() -> None:
    """The same identity hashes differently under another secret, and stably under one."""
    first = hash_identity("session-123", b"k" * 32)
    assert first == hash_identity("session-123", b"k" * 32)
    assert first != hash_identity("session-123", b"j" * 32)
    assert first != hash_identity("session-124", b"k" * 32)
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert "session" not in first


def test_hash_identity_accepts_long_secrets() -> None:
    """Secrets longer than BLAKE2b's 64-byte key limit are usable."""
    assert len(hash_identity("x", b"s" * 200)) == 16


def test_default_identity_prefers_session_cookie() -> None:
    """The session cookie is the identity, then Authorization, then nothing."""
    auth = {"authorization": "Bearer tok"}
    assert default_identity(auth, {"session": "s1"}, "session") == "s1"
    assert default_identity(auth, {"other": "s1"}, "session") == "Bearer tok"
    assert default_identity({}, {"session": ""}, "session") is None
    assert default_identity({}, {}, "session") is None
