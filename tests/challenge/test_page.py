"""Tests for guard.challenge.page: the challenge and failure pages in each language."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest

from guard.challenge import Challenges
from guard.challenge.page import (
    VERIFY_PATH,
    challenge_page,
    failed_page,
    script_json,
)
from guard.i18n import EN, LANGUAGES, text

CHALLENGE_SOURCE = Path(__file__).resolve().parents[2] / "guard" / "challenge" / "__init__.py"
SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
SCRIPT_TEXT = re.compile(r"^  const text = (.*);$", re.MULTILINE)


def script_of(page: str) -> str:
    """The page's only inline script."""
    scripts = SCRIPT.findall(page)
    assert len(scripts) == 1
    return str(scripts[0])


def script_text_of(page: str) -> dict[str, str]:
    """The status texts the page's script shows, decoded as JavaScript would."""
    found = SCRIPT_TEXT.search(script_of(page))
    assert found is not None
    decoded: dict[str, str] = json.loads(found.group(1))
    return decoded


def problems_challenges_give() -> set[str]:
    """The problems guard.challenge returns for a refused solution, read from its source so
    a new one is noticed."""
    tree = ast.parse(CHALLENGE_SOURCE.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == Challenges.__name__]
    sentences: set[str] = set()
    for method in cls.body:
        if isinstance(method, ast.AsyncFunctionDef | ast.FunctionDef) and method.name in {
            "_problem",
            "_spend",
        }:
            for node in ast.walk(method):
                if isinstance(node, ast.Return) and node.value is not None:
                    sentences |= {
                        c.value
                        for c in ast.walk(node.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
    return sentences


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_challenge_page_speaks_its_language(language: str) -> None:
    """Title, heading, text, label, status and noscript advice are the language's, and
    the page says which language it is in."""
    page = challenge_page("tok", 12, language)
    assert f'<html lang="{language}">' in page
    for key in (
        "challenge.title",
        "challenge.heading",
        "challenge.intro",
        "challenge.progress",
        "challenge.checking",
        "challenge.noscript.title",
        "challenge.noscript.body",
    ):
        assert html.escape(text(language, key)) in page, key


def test_the_chinese_page_has_no_english_left() -> None:
    """The zh-CN challenge page shows none of the English texts."""
    page = challenge_page("tok", 12, "zh-CN")
    for key in ("challenge.title", "challenge.heading", "challenge.progress", "challenge.done"):
        assert EN[key] not in page
    assert "<h1>请稍候</h1>" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_script_shows_the_catalogue_status_texts(language: str) -> None:
    """The script's status texts decode to the catalogue's messages."""
    assert script_text_of(challenge_page("tok", 12, language)) == {
        "insecure": text(language, "challenge.insecure"),
        "done": text(language, "challenge.done"),
    }


def test_the_proof_of_work_is_the_same_in_every_language() -> None:
    """Apart from its texts, the script is the same in every language, and the form posts
    the token and counter fields to the verify path."""
    pages = [challenge_page("tok", 12, language) for language in LANGUAGES]
    scripts = {SCRIPT_TEXT.sub("", script_of(page)) for page in pages}
    assert len(scripts) == 1
    (script,) = scripts
    assert 'crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + n))' in script
    assert "bits = 12;" in script
    assert "form.elements.counter.value = String(start + i);" in script
    for page in pages:
        assert f'<form id="guard-challenge" method="post" action="{VERIFY_PATH}">' in page
        assert '<input type="hidden" name="token" value="tok">' in page
        assert '<input type="hidden" name="counter" value="">' in page


def test_a_language_not_shipped_gets_the_english_page() -> None:
    """An unknown language gives the English page, marked lang="en"."""
    page = challenge_page("tok", 12, "ko")
    assert '<html lang="en">' in page
    assert f"<h1>{EN['challenge.heading']}</h1>" in page


def test_the_token_is_escaped() -> None:
    """A token with markup stays inside its attribute."""
    page = challenge_page('"><script>alert(1)</script>', 8)
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert page.count("<script>") == 1


def test_catalogue_text_cannot_break_out_of_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """A status text holding "</script>", an HTML comment or a line separator still ends up
    as a string inside the one script element."""
    evil = '</script><script>alert("x")</script><!-- \u2028 & done'
    monkeypatch.setitem(EN, "challenge.done", evil)
    page = challenge_page("tok", 8)
    assert page.count("</script>") == 1
    assert "\u2028" not in script_of(page)
    assert script_text_of(page)["done"] == evil


def test_script_json_is_a_safe_literal() -> None:
    """script_json escapes what could end a script element and round-trips as JSON."""
    value = {"a": "</script><!--&\u2028\u2029中文"}
    encoded = script_json(value)
    assert not set("<>&\u2028\u2029") & set(encoded)
    assert json.loads(encoded) == value


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", [key for key in EN if key.startswith("challenge.problem.")])
def test_failed_page_translates_a_problem_key(key: str, language: str) -> None:
    """A problem given as a catalogue key is shown in the page's language, with the
    language's title and "try again" link back."""
    page = failed_page(key, "/resume/1?tab=contact", language)
    assert f'<html lang="{language}">' in page
    assert f"<p>{html.escape(text(language, key))}</p>" in page
    again = html.escape(text(language, "challenge.failed.again"))
    assert f'<a href="/resume/1?tab=contact">{again}</a>' in page
    assert f"<title>{html.escape(text(language, 'challenge.failed.title'))}</title>" in page


def test_every_problem_challenges_give_has_a_key() -> None:
    """Each problem guard.challenge gives is a catalogue key, and every problem key is used."""
    problems = problems_challenges_give()
    assert "challenge.problem.wrong" in problems
    assert problems == {k for k in EN if k.startswith("challenge.problem.")}


def test_failed_page_shows_unknown_text_escaped() -> None:
    """A problem that is neither a key nor a known sentence is shown as it is, escaped, and
    so is the link back."""
    page = failed_page("<b>Odd</b> problem", '/x?a="><script>', "zh-CN")
    assert "<p>&lt;b&gt;Odd&lt;/b&gt; problem</p>" in page
    assert 'href="/x?a=&quot;&gt;&lt;script&gt;"' in page
    assert "<script>" not in page
    assert "refusal.block.title" in failed_page("refusal.block.title", "/")
