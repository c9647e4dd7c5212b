"""Tests for guard.facts.FactExtractor: raw ASGI scopes in, Facts out, never an exception."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import pytest

from guard.demo.config import demo_config
from guard.facts import MAX_HEADER_VALUE, FactExtractor
from guard.facts.fingerprint import hash_identity
from guard.signing import Signer

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
RawHeaders = list[tuple[bytes, bytes]]


def make_scope(
    headers: RawHeaders | None = None,
    path: str = "/",
    client: tuple[str, int] | None = ("203.0.113.5", 50000),
    scheme: str = "http",
) -> dict[str, Any]:
    """A minimal HTTP scope as an ASGI server would build it."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "scheme": scheme,
        "headers": headers if headers is not None else [],
    }
    if client is not None:
        scope["client"] = client
    return scope


def make_extractor(mapping: Mapping[str, Any] | None = None) -> FactExtractor:
    """An extractor over a config built from ``mapping`` with a fixed signing key."""
    return FactExtractor(demo_config(mapping or {}), Signer(SECRET, max_age=3600.0))


def browser_headers(*extra: tuple[bytes, bytes]) -> RawHeaders:
    """A Chrome page request's headers plus ``extra``."""
    return [
        (b"host", b"jobs.example"),
        (b"user-agent", CHROME_UA.encode()),
        (b"accept", b"text/html"),
        (b"accept-language", b"en-GB"),
        (b"accept-encoding", b"gzip"),
        *extra,
    ]


def test_basic_scope() -> None:
    """A plain request yields its method, path, route, address, agent and actors."""
    facts = make_extractor().extract(make_scope(browser_headers(), "/resume/42"), NOW)
    assert facts.now == NOW
    assert facts.method == "GET"
    assert facts.path == "/resume/42"
    assert facts.route.record_id == "42"
    assert facts.client_ip == ipaddress.ip_address("203.0.113.5")
    assert facts.agent.family == "chrome"
    assert facts.user_agent == CHROME_UA
    assert facts.actors["ip"] == "203.0.113.5"
    assert facts.actors["network"] == "203.0.113.0/24"
    assert facts.actors["global"] == "all"
    assert "identity" not in facts.actors
    assert facts.header_names[:2] == ("host", "user-agent")
    assert facts.is_document
    assert not facts.tracked


def test_header_names_are_lowercased() -> None:
    """Header names read case-insensitively, as HTTP requires."""
    facts = make_extractor().extract(make_scope([(b"User-Agent", b"curl/8.5.0")]), NOW)
    assert facts.headers["user-agent"] == "curl/8.5.0"
    assert facts.agent.kind == "automation"


def test_malformed_header_bytes_do_not_raise() -> None:
    """Non-UTF-8 header bytes are decoded as Latin-1 and classified, not raised on."""
    headers = [
        (b"user-agent", b"\xff\xfe"),
        (b"accept-language", b"\xff\xfe"),
        (b"\xff\xfe", b"\x00\x01"),
        (b"cookie", b"session=\xff\xfe"),
    ]
    facts = make_extractor().extract(make_scope(headers), NOW)
    assert facts.user_agent == "\xff\xfe"
    assert facts.agent.kind == "malformed"
    assert facts.headers["\xff\xfe"] == "\x00\x01"
    assert facts.cookies["session"] == "\xff\xfe"
    assert "identity" in facts.actors


def test_structurally_broken_header_items_are_skipped() -> None:
    """Header entries that are not (bytes, bytes) pairs are skipped."""
    headers: list[Any] = [
        (b"accept", b"text/html"),
        ("user-agent", "curl"),
        (b"lonely",),
        None,
        (b"a", b"b", b"c"),
        (b"accept-language", b"en"),
    ]
    facts = make_extractor().extract(make_scope(headers), NOW)
    assert facts.header_names == ("accept", "accept-language")
    assert facts.agent.kind == "missing"


def test_sixteen_kib_user_agent_is_cut_and_malformed() -> None:
    """A 16 KiB UA is cut to the header limit and classified malformed."""
    huge = b"Mozilla/5.0 " + b"A" * (16 * 1024)
    facts = make_extractor().extract(make_scope([(b"user-agent", huge)]), NOW)
    assert len(facts.user_agent) == MAX_HEADER_VALUE
    assert facts.agent.kind == "malformed"
    assert facts.agent.family == "too-long"


def test_no_client_in_scope() -> None:
    """Without a peer (unix socket) the address is None and IP actors are 'unknown'."""
    facts = make_extractor().extract(make_scope(browser_headers(), client=None), NOW)
    assert facts.client_ip is None
    assert facts.actors["ip"] == "unknown"
    assert facts.actors["network"] == "unknown"


def test_empty_scope_is_tolerated() -> None:
    """A scope with nothing but its type still yields facts with safe defaults."""
    facts = make_extractor().extract({"type": "http"}, NOW)
    assert facts.method == "GET"
    assert facts.path == "/"
    assert facts.agent.kind == "missing"
    assert facts.client_ip is None


@pytest.mark.parametrize("path", ["/resume/\udcff\udcfe", "/r\u00e9sum\u00e9/1", "/\x00"])
def test_non_utf8_ish_paths_are_extracted(path: str) -> None:
    """Paths with surrogates, non-ASCII or NUL are carried through unchanged."""
    facts = make_extractor().extract(make_scope(browser_headers(), path), NOW)
    assert facts.path == path


def test_surrogate_record_id_is_carried() -> None:
    """A record segment with surrogates still names a record on a sensitive route."""
    facts = make_extractor().extract(make_scope(path="/resume/\udcff"), NOW)
    assert facts.route.route_class.sensitive
    assert facts.route.record_id == "\udcff"


def test_path_with_newline_does_not_raise() -> None:
    """A decoded %0A in the path is extracted and matched to the catch-all."""
    facts = make_extractor().extract(make_scope(path="/x\ny"), NOW)
    assert facts.route.route_class.name == "default"


def test_duplicate_cookie_headers_are_joined() -> None:
    """Cookies split over two Cookie headers are all read; the first other header wins."""
    headers = [
        (b"cookie", b"a=1; session=s1"),
        (b"accept", b"text/html"),
        (b"cookie", b"b=2"),
        (b"accept", b"application/json"),
    ]
    facts = make_extractor().extract(make_scope(headers), NOW)
    assert facts.cookies == {"a": "1", "session": "s1", "b": "2"}
    assert facts.headers["accept"] == "text/html"
    assert facts.header_names.count("cookie") == 2


def test_joined_cookie_headers_are_cut_like_one() -> None:
    """Many Cookie headers join into one value no longer than any single header may be,
    so splitting a huge cookie over lines does not get past the cut."""
    line = b"; ".join(b"c%d=%s" % (i, b"v" * 20) for i in range(300))
    facts = make_extractor().extract(make_scope([(b"cookie", line)] * 50), NOW)
    assert len(facts.headers["cookie"]) == MAX_HEADER_VALUE
    assert facts.cookies["c0"] == "v" * 20


def test_tracked_only_for_valid_cookie_from_same_signer() -> None:
    """The tracked flag needs a guard cookie issued by this signer and not yet expired."""
    extractor = make_extractor()
    good = Signer(SECRET, max_age=3600.0).issue(NOW - 60)
    stranger = Signer(b"another-secret-another-secret!!!", max_age=3600.0).issue(NOW - 60)
    expired = Signer(SECRET, max_age=3600.0).issue(NOW - 7200)

    def tracked(value: str, name: str = "__guard") -> bool:
        header = (b"cookie", f"x=1; {name}={value}".encode())
        return extractor.extract(make_scope([header]), NOW).tracked

    assert tracked(good)
    assert not tracked(stranger)
    assert not tracked(expired)
    assert not tracked(good, name="other")
    assert not tracked("garbage")


def test_tracked_cookie_in_second_cookie_header() -> None:
    """A guard cookie sent in a second Cookie header still counts."""
    value = Signer(SECRET, max_age=3600.0).issue(NOW)
    headers = [(b"cookie", b"a=1"), (b"cookie", f"__guard={value}".encode())]
    assert make_extractor().extract(make_scope(headers), NOW).tracked


def test_custom_tracking_cookie_name() -> None:
    """The tracking cookie's name comes from the config."""
    value = Signer(SECRET, max_age=3600.0).issue(NOW)
    extractor = make_extractor({"tracking_cookie": "seen"})
    headers = [(b"cookie", f"seen={value}".encode())]
    assert extractor.extract(make_scope(headers), NOW).tracked


def test_non_ascii_tracking_cookie_does_not_raise() -> None:
    """A non-ASCII guard cookie is simply not tracked."""
    headers = [(b"cookie", b"__guard=a.1.\xe9")]
    assert not make_extractor().extract(make_scope(headers), NOW).tracked


def test_identity_from_session_cookie() -> None:
    """The session cookie becomes a keyed-hash identity that does not reveal it."""
    headers = browser_headers((b"cookie", b"session=s3cr3t-session"))
    facts = make_extractor().extract(make_scope(headers), NOW)
    assert facts.actors["identity"] == hash_identity("s3cr3t-session", SECRET)
    assert "s3cr3t" not in facts.actors["identity"]


def test_identity_from_authorization_header() -> None:
    """Without a session cookie the Authorization header is the identity."""
    headers = browser_headers((b"authorization", b"Bearer abc.def"))
    facts = make_extractor().extract(make_scope(headers), NOW)
    assert facts.actors["identity"] == hash_identity("Bearer abc.def", SECRET)


def test_identity_is_shared_across_addresses() -> None:
    """One account seen from two addresses has one identity but two IP actors."""
    extractor = make_extractor()
    headers = browser_headers((b"cookie", b"session=one"))
    first = extractor.extract(make_scope(headers, client=("198.51.100.1", 1)), NOW)
    second = extractor.extract(make_scope(headers, client=("192.0.2.1", 1)), NOW)
    assert first.actors["identity"] == second.actors["identity"]
    assert first.actors["ip"] != second.actors["ip"]
    assert first.actors["client"] != second.actors["client"]


def test_identity_cookie_name_and_custom_extractor() -> None:
    """The identity cookie name is configurable and an identity function replaces it."""
    config = demo_config({"identity_cookie": "sid"})
    signer = Signer(SECRET)
    headers = [(b"cookie", b"sid=abc"), (b"x-api-key", b"key-1")]
    by_cookie = FactExtractor(config, signer).extract(make_scope(headers), NOW)
    assert by_cookie.actors["identity"] == hash_identity("abc", SECRET)
    custom = FactExtractor(config, signer, identity=lambda h, c: h.get("x-api-key"))
    assert custom.extract(make_scope(headers), NOW).actors["identity"] == hash_identity(
        "key-1", SECRET
    )


def test_client_actor_combines_address_and_agent() -> None:
    """The client actor differs by UA at one address, and by address with one UA."""
    extractor = make_extractor()
    base = extractor.extract(make_scope([(b"user-agent", b"curl/8")]), NOW).actors["client"]
    other_ua = extractor.extract(make_scope([(b"user-agent", b"curl/9")]), NOW).actors["client"]
    other_ip = extractor.extract(
        make_scope([(b"user-agent", b"curl/8")], client=("203.0.113.6", 1)), NOW
    ).actors["client"]
    assert len({base, other_ua, other_ip}) == 3


def test_page_and_asset_share_the_fingerprint_actor() -> None:
    """A page and its image from one browser map to one fingerprint actor."""
    extractor = make_extractor()
    page = browser_headers((b"sec-fetch-dest", b"document"), (b"cookie", b"a=1"))
    asset = [
        (b"host", b"jobs.example"),
        (b"user-agent", CHROME_UA.encode()),
        (b"accept", b"image/webp,*/*"),
        (b"accept-language", b"en-GB"),
        (b"accept-encoding", b"gzip"),
        (b"sec-fetch-dest", b"image"),
        (b"referer", b"https://jobs.example/"),
    ]
    first = extractor.extract(make_scope(page, "/resume/1"), NOW)
    second = extractor.extract(make_scope(asset, "/static/logo.png"), NOW)
    assert first.actors["fingerprint"] == second.actors["fingerprint"]
    assert not second.is_document


def test_trusted_proxy_forwarding_and_tls_header() -> None:
    """Behind a trusted proxy the forwarded address and the TLS fingerprint header are used."""
    extractor = make_extractor(
        {"trusted_proxies": ["10.0.0.0/8"], "tls_fingerprint_header": "X-JA4"}
    )
    headers = [
        (b"x-forwarded-for", b"198.51.100.9, 10.0.0.2"),
        (b"x-ja4", b"t13d1516h2_8daaf6152771"),
        (b"x-forwarded-proto", b"https"),
    ]
    proxied = extractor.extract(make_scope(headers, client=("10.0.0.1", 1)), NOW)
    direct = extractor.extract(make_scope(headers, client=("198.51.100.9", 1)), NOW)
    assert proxied.client_ip == ipaddress.ip_address("198.51.100.9")
    assert proxied.secure_context
    assert direct.client_ip == ipaddress.ip_address("198.51.100.9")
    assert not direct.secure_context
    assert proxied.actors["fingerprint"] != direct.actors["fingerprint"]


def test_secure_context_sources() -> None:
    """HTTPS, a loopback host or a proxy's https marker make a secure context."""
    extractor = make_extractor()
    assert extractor.extract(make_scope(scheme="https"), NOW).secure_context
    loopback = make_scope([(b"host", b"localhost:8000")])
    assert extractor.extract(loopback, NOW).secure_context
    plain = make_scope([(b"host", b"jobs.example"), (b"x-forwarded-proto", b"https")])
    assert not extractor.extract(plain, NOW).secure_context


@pytest.mark.parametrize(
    ("accept", "wants_json"),
    [
        ("application/json", True),
        ("application/json, text/plain", True),
        ("text/html,application/json", False),
        ("*/*", False),
    ],
)
def test_wants_json(accept: str, wants_json: bool) -> None:
    """Facts.wants_json is true for JSON clients that do not also accept HTML."""
    facts = make_extractor().extract(make_scope([(b"accept", accept.encode())]), NOW)
    assert facts.wants_json is wants_json


def test_huge_values_are_worked_out_but_never_cached() -> None:
    """Clients sending huge user agents, forwarding headers or paths get their facts, but
    leave the caches as they were: their values cannot fill the caches' memory."""
    from guard.facts import fingerprint  # noqa: PLC0415 - its module-level cache is checked

    extractor = make_extractor({"trusted_proxies": ["203.0.113.0/24"]})
    fingerprint._cache.clear()
    for n in range(20):
        headers = [
            (b"user-agent", b"Mozilla/5.0 " + b"x" * 3000 + str(n).encode()),
            (b"accept-language", b"en-" + b"y" * 2000),
            (b"x-forwarded-for", b", ".join([b"198.51.100.1"] * 200) + b", 192.0.2.%d" % n),
        ]
        facts = extractor.extract(make_scope(headers, path="/jobs/" + "z" * 900 + str(n)), NOW)
        assert facts.actors["ip"] == f"192.0.2.{n}"
        assert facts.route.route_class.name == "default"
    assert not extractor._addresses
    assert not extractor._routes
    assert not extractor._clients
    assert not fingerprint._cache
    ordinary = extractor.extract(make_scope(browser_headers(), path="/jobs"), NOW)
    assert ordinary.actors["ip"] == "203.0.113.5"
    assert extractor._routes
    assert extractor._clients
    assert extractor._addresses
    assert fingerprint._cache


def test_huge_header_names_keep_a_fingerprint_out_of_its_cache() -> None:
    """Ordinary values under long header names: the fingerprint is worked out, not cached,
    so the names cannot fill the cache's memory either."""
    from guard.facts import fingerprint  # noqa: PLC0415 - its module-level cache is checked

    extractor = make_extractor()
    fingerprint._cache.clear()
    padding = [(b"x-padding-%d-" % k + b"n" * 900, b"1") for k in range(3)]
    first = extractor.extract(make_scope([*browser_headers(), *padding]), NOW)
    again = extractor.extract(make_scope([*browser_headers(), *padding]), NOW)
    assert first.actors["fingerprint"] == again.actors["fingerprint"]
    assert not fingerprint._cache
