"""Tests for guard.signing.Signer: signed values, issued cookies, key rotation, keyed hashes."""

from __future__ import annotations

import pytest

from guard.signing import Signer, key_id, keyed_hash

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0


def split(value: str) -> tuple[str, str, str, str]:
    """An issued value's token, issue time, key id and MAC."""
    body, kid, mac = value.split(".")
    token, _, issued = body.rpartition("-")
    return token, issued, kid, mac


@pytest.fixture
def signer() -> Signer:
    """A signer whose values live one hour."""
    return Signer(SECRET, max_age=3600.0)


def test_issued_value_verifies(signer: Signer) -> None:
    """A fresh value verifies at once and until max_age has passed."""
    value = signer.issue(NOW)
    assert signer.verify(value, NOW)
    assert signer.verify(value, NOW + 3600)


def test_issued_values_are_random_and_cookie_safe(signer: Signer) -> None:
    """Two values issued at the same instant differ and need no cookie quoting."""
    first, second = signer.issue(NOW), signer.issue(NOW)
    assert first != second
    for value in (first, second):
        token, issued, kid, signature = split(value)
        assert issued == str(int(NOW))
        assert kid == key_id(SECRET)
        assert token
        assert signature
        assert value.isascii()
        assert not set(value) & set(' ";,\\')


def test_expired_value_is_rejected(signer: Signer) -> None:
    """A value older than max_age no longer verifies."""
    value = signer.issue(NOW)
    assert not signer.verify(value, NOW + 3601)


def test_value_from_the_future_is_rejected(signer: Signer) -> None:
    """A value issued after `now` (clock skew or forgery) does not verify."""
    assert not signer.verify(signer.issue(NOW + 10), NOW)


def test_other_key_is_rejected(signer: Signer) -> None:
    """A value signed with another key does not verify."""
    stranger = Signer(b"fedcba9876543210fedcba9876543210", max_age=3600.0)
    assert not signer.verify(stranger.issue(NOW), NOW)
    assert not stranger.verify(signer.issue(NOW), NOW)


def test_tampered_token_is_rejected(signer: Signer) -> None:
    """Changing the random token breaks the signature."""
    token, issued, kid, signature = split(signer.issue(NOW))
    changed = ("A" if token[0] != "A" else "B") + token[1:]
    assert not signer.verify(f"{changed}-{issued}.{kid}.{signature}", NOW)


def test_tampered_timestamp_is_rejected(signer: Signer) -> None:
    """Refreshing the issue time to extend a value's life breaks the signature."""
    token, _, kid, signature = split(signer.issue(NOW - 7200))
    assert not signer.verify(f"{token}-{int(NOW)}.{kid}.{signature}", NOW)


def test_tampered_signature_is_rejected(signer: Signer) -> None:
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
        "token--5.kid.sig",
        "x" * 4096,
        "\x00.\x00.\x00",
    ],
)
def test_garbage_is_rejected_without_raising(signer: Signer, value: str) -> None:
    """Malformed values are simply invalid."""
    assert signer.verify(value, NOW) is False


@pytest.mark.parametrize(
    "value", ["t\u00e9.1800000000.sig", "token.\u0661\u0662.sig", "\u00e9", "\u00e9.\u00e9"]
)
def test_non_ascii_body_is_rejected_without_raising(signer: Signer, value: str) -> None:
    """Non-ASCII tokens or Unicode digits in the timestamp are invalid, not errors."""
    assert signer.verify(value, NOW) is False


@pytest.mark.parametrize("value", ["a.1.\u00e9", "token.1800000000.\u00ff\u00fe"])
def test_non_ascii_signature_is_rejected_without_raising(signer: Signer, value: str) -> None:
    """A non-ASCII signature part is invalid, not a TypeError."""
    assert signer.verify(value, NOW) is False


def test_rotated_keys_still_verify_and_sign_nothing() -> None:
    """A value signed with a key moved to ``previous`` verifies; new values use the current
    key; a key dropped from the list no longer verifies."""
    old, new = b"old-key-0123456789abcdef-old-key", b"new-key-0123456789abcdef-new-key"
    issued_before = Signer(old, max_age=3600.0).issue(NOW)
    rotated = Signer(new, previous=[old], max_age=3600.0)
    assert rotated.verify(issued_before, NOW)
    assert split(rotated.issue(NOW))[2] == key_id(new)
    assert not Signer(new, max_age=3600.0).verify(issued_before, NOW)


def test_signed_bodies_open_only_unchanged() -> None:
    """sign/open round-trips a body for its purpose; any change to it or its key id fails."""
    signer = Signer(SECRET)
    value = signer.sign("c1|123|abc", purpose="challenge")
    assert signer.open(value, purpose="challenge") == "c1|123|abc"
    assert signer.open(value.replace("123", "124"), purpose="challenge") is None
    body, kid, mac = value.split(".")
    assert signer.open(f"{body}.{'0' * len(kid)}.{mac}", purpose="challenge") is None


def test_a_value_signed_for_one_purpose_opens_for_no_other() -> None:
    """A body signed as a challenge token is not a clearance or a cookie, even when its
    text would parse as one."""
    signer = Signer(SECRET, max_age=3600.0)
    looks_like_cookie = f"abc-{int(NOW)}"
    value = signer.sign(looks_like_cookie, purpose="challenge")
    assert signer.open(value, purpose="clearance") is None
    assert not signer.verify(value, NOW)
    assert signer.verify(signer.issue(NOW), NOW)


def test_keyed_hash_depends_on_the_key() -> None:
    """The keyed hash is stable for one key and differs between keys."""
    assert keyed_hash("alice", SECRET) == Signer(SECRET).hash("alice")
    assert keyed_hash("alice", SECRET) != keyed_hash("alice", b"another-key-0123456789abcdef")
    assert len(keyed_hash("alice", SECRET)) == 16
