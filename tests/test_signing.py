"""Tests for guard.cookies.CookieSigner: issuing and verifying signed cookie values."""

from __future__ import annotations

import pytest

from guard.cookies import CookieSigner

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0


@pytest.fixture
def signer() -> CookieSigner:
    """A signer whose values live one hour."""
    return CookieSigner(SECRET, max_age=3600.0)


def test_issued_value_verifies(signer: CookieSigner) -> None:
    """A fresh value verifies at once and until max_age has passed."""
    value = signer.issue(NOW)
    assert signer.verify(value, NOW)
    assert signer.verify(value, NOW + 3600)


def test_issued_values_are_random_and_cookie_safe(signer: CookieSigner) -> None:
    """Two values issued at the same instant differ and need no cookie quoting."""
    first, second = signer.issue(NOW), signer.issue(NOW)
    assert first != second
    for value in (first, second):
        token, issued, signature = value.split(".")
        assert issued == str(int(NOW))
        assert token
        assert signature
        assert value.isascii()
        assert not set(value) & set(' ";,\\')


def test_expired_value_is_rejected(signer: CookieSigner) -> None:
    """A value older than max_age no longer verifies."""
    value = signer.issue(NOW)
    assert not signer.verify(value, NOW + 3601)


def test_value_from_the_future_is_rejected(signer: CookieSigner) -> None:
    """A value issued after `now` (clock skew or forgery) does not verify."""
    assert not signer.verify(signer.issue(NOW + 10), NOW)


def test_other_key_is_rejected(signer: CookieSigner) -> None:
    """A value signed with another key does not verify."""
    stranger = CookieSigner(b"fedcba9876543210fedcba9876543210", max_age=3600.0)
    assert not signer.verify(stranger.issue(NOW), NOW)
    assert not stranger.verify(signer.issue(NOW), NOW)


def test_tampered_token_is_rejected(signer: CookieSigner) -> None:
    """Changing the random token breaks the signature."""
    token, issued, signature = signer.issue(NOW).split(".")
    changed = ("A" if token[0] != "A" else "B") + token[1:]
    assert not signer.verify(f"{changed}.{issued}.{signature}", NOW)


def test_tampered_timestamp_is_rejected(signer: CookieSigner) -> None:
    """Refreshing the issue time to extend a value's life breaks the signature."""
    token, _, signature = signer.issue(NOW - 7200).split(".")
    assert not signer.verify(f"{token}.{int(NOW)}.{signature}", NOW)


def test_tampered_signature_is_rejected(signer: CookieSigner) -> None:
    """Any change to the signature, including truncation, is rejected."""
    value = signer.issue(NOW)
    body, _, signature = value.rpartition(".")
    flipped = "A" if signature[-1] != "A" else "B"
    assert not signer.verify(f"{body}.{signature[:-1]}{flipped}", NOW)
    assert not signer.verify(f"{body}.{signature[:-1]}", NOW)
    assert not signer.verify(f"{body}.", NOW)


@pytest.mark.parametrize(
    "value",
    [
        "",
        ".",
        "..",
        "a.b.c.d",
        "a.b",
        "token.notanumber.sig",
        "token.-5.sig",
        "token.1.5.sig",
        "x" * 4096,
        "\x00.\x00.\x00",
    ],
)
def test_garbage_is_rejected_without_raising(signer: CookieSigner, value: str) -> None:
    """Malformed values are simply invalid."""
    assert signer.verify(value, NOW) is False


@pytest.mark.parametrize(
    "value", ["t\u00e9.1800000000.sig", "token.\u0661\u0662.sig", "\u00e9", "\u00e9.\u00e9"]
)
def test_non_ascii_body_is_rejected_without_raising(signer: CookieSigner, value: str) -> None:
    """Non-ASCII tokens or Unicode digits in the timestamp are invalid, not errors."""
    assert signer.verify(value, NOW) is False


@pytest.mark.parametrize("value", ["a.1.\u00e9", "token.1800000000.\u00ff\u00fe"])
def test_non_ascii_signature_is_rejected_without_raising(signer: CookieSigner, value: str) -> None:
    """A non-ASCII signature part is invalid, not a TypeError."""
    assert signer.verify(value, NOW) is False
