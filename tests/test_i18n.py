"""Tests for guard.i18n: the message catalogue and Accept-Language negotiation."""

from __future__ import annotations

import random
import string

import pytest

from guard.i18n import (
    CATALOGUE,
    EN,
    LANGUAGES,
    MAX_HEADER_CHARS,
    MAX_RANGES,
    ZH_CN,
    known_language,
    markup,
    negotiate_language,
    text,
)


def placeholders(message: str) -> set[str]:
    """The ``{name}`` placeholders of a catalogue message."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}


def test_every_shipped_language_has_a_catalogue() -> None:
    """LANGUAGES and the catalogue name the same languages, English first."""
    assert tuple(CATALOGUE) == LANGUAGES
    assert LANGUAGES[0] == "en"
    assert CATALOGUE["en"] is EN
    assert CATALOGUE["zh-CN"] is ZH_CN


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_catalogues_have_the_same_keys(language: str) -> None:
    """Every key is in every language, and nothing else is."""
    assert set(CATALOGUE[language]) == set(EN)


@pytest.mark.parametrize("key", sorted(EN))
def test_translations_keep_the_placeholders(key: str) -> None:
    """A translation uses exactly the placeholders of the English message."""
    for language in LANGUAGES:
        assert placeholders(CATALOGUE[language][key]) == placeholders(EN[key]), language


def test_the_chinese_catalogue_is_translated() -> None:
    """No Chinese message is left in English."""
    untranslated = [key for key in EN if ZH_CN[key] == EN[key]]
    assert untranslated == []


def test_text_fills_placeholders() -> None:
    """text() returns the message of a language with its values put in."""
    assert text("en", "refusal.wait.seconds", seconds=7) == "Please try again in 7 seconds."
    assert text("zh-CN", "refusal.wait.seconds", seconds=7) == "请在 7 秒后重试。"


def test_text_falls_back_to_english() -> None:
    """A language not shipped, or not spelt as shipped, still gets a message."""
    assert text("fr", "refusal.block.title") == "Access denied"
    assert text("ZH-cn", "refusal.block.title") == ZH_CN["refusal.block.title"]
    assert known_language("zh-cn") == "zh-CN"
    assert known_language("de-DE") == "en"


def test_text_refuses_unknown_keys() -> None:
    """A key missing from the catalogue is a programming error, so it raises."""
    with pytest.raises(KeyError):
        text("en", "refusal.no_such_message")


def test_markup_escapes_the_message_but_not_the_fragments() -> None:
    """markup() escapes the catalogue text and puts the caller's HTML in as it is."""
    message = markup("en", "refusal.support")
    assert "site&#x27;s support" in message
    assert markup("en", "refusal.incident", incident="<code>X</code>") == (
        "Incident ID: <code>X</code>"
    )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("zh-HK,zh-TW;q=0.9", "zh-CN"),
        ("zh-Hant", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("fr-FR, fr;q=0.9", "en"),
        ("fr-FR, fr;q=0.9, zh;q=0.1", "zh-CN"),
        ("en;q=0.5, zh;q=0.8", "zh-CN"),
        ("zh;q=0.5, en;q=0.8", "en"),
        ("zh-CN;q=0.2, en;q=0.2", "zh-CN"),
        ("en;q=0.2, zh-CN;q=0.2", "en"),
        ("en ; q=0.3 , zh-CN ;q=0.4", "zh-CN"),
        ("en-GB;Q=0.1, zh;q=0.8", "zh-CN"),
        ("*", "en"),
        ("en;q=0, *", "zh-CN"),
        ("en;q=0, zh", "zh-CN"),
        ("zh;q=0", "en"),
        ("zh-TW;q=0, zh-CN", "zh-CN"),
        ("zh-CN;q=0, zh-TW", "en"),
        ("*;q=0", "en"),
    ],
)
def test_negotiation_follows_q_values_and_order(header: str | None, language: str) -> None:
    """Ranges are tried by q-value then header order; any Chinese range gets zh-CN, q=0 rules
    a language out, and anything unmatched gets English."""
    assert negotiate_language(header) == language


@pytest.mark.parametrize(
    "header",
    [
        "zh;q=1.5",
        "zh;q=abc",
        "zh;q=",
        "zh;q=-1",
        "zh;q=0.0001",
        "zh_CN",
        "zh-CN-",
        "zhzhzhzhzh",
        "中文",
        "zh-\u0130",
        "\u212aZ",
        ";;;,,,;=;",
        "\x00\xff\r\n",
        "zh q=1",
    ],
)
def test_malformed_ranges_are_ignored(header: str) -> None:
    """A range that is not RFC 9110 syntax, or has a bad q-value, counts for nothing."""
    assert negotiate_language(header) == "en"


def test_garbage_never_raises() -> None:
    """Random headers of any characters always give a shipped language."""
    rng = random.Random(9110)
    alphabet = string.printable + "中文é\u2028\U0001f600;=,-*"
    for _ in range(500):
        header = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120)))
        assert negotiate_language(header) in LANGUAGES


def test_a_huge_header_is_read_only_at_its_start() -> None:
    """In a 100 KB header, only the first KiB counts: a match there wins, one beyond is
    never seen."""
    filler = "x-filler;q=0.5, " * (100_000 // 16)
    assert len(filler) >= 100_000
    assert negotiate_language(filler + "zh-CN") == "en"
    assert negotiate_language("zh-CN, " + filler) == "zh-CN"
    assert negotiate_language("zh-CN;" + "a" * 100_000) == "en"  # one range, cut, dropped


def test_only_the_first_ranges_count() -> None:
    """Ranges after the first MAX_RANGES are not read."""
    assert negotiate_language("fr, " * (MAX_RANGES - 1) + "zh") == "zh-CN"
    assert negotiate_language("fr, " * MAX_RANGES + "zh") == "en"


def test_a_range_cut_at_the_limit_is_dropped() -> None:
    """A range the 1 KiB cut shortens is not read as a shorter one ("zh-CN" as "zh-C")."""
    header = " " * (MAX_HEADER_CHARS - 4) + "zh-CN"
    assert negotiate_language(header) == "en"
    assert negotiate_language(" " * (MAX_HEADER_CHARS - 6) + "zh-CN") == "zh-CN"


def test_other_available_languages() -> None:
    """A caller may offer other languages; the first is the fallback."""
    assert negotiate_language("fr-CA, en;q=0.5", ("en", "fr")) == "fr"
    assert negotiate_language("de", ("fr", "en")) == "fr"
    assert negotiate_language("de", ()) == "en"
