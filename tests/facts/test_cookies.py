"""Reading the Cookie header (guard.facts.cookies)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import cookie_parser

from guard.facts.cookies import parse_cookies

# RFC 6265's cookie-octet: printable ASCII but space, '"', ',', ';' and '\'.
OCTETS = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='",;\\'),
    max_size=40,
)
NAMES = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='",;\\='),
    min_size=1,
    max_size=20,
)


@settings(derandomize=True, max_examples=300)
@given(st.lists(st.tuples(NAMES, OCTETS, st.booleans()), max_size=8))
def test_agrees_with_starlette_on_what_browsers_send(
    pairs: list[tuple[str, str, bool]],
) -> None:
    """For cookies as RFC 6265 lets browsers send them (quoted or not), the result is
    Starlette's."""
    header = "; ".join(
        f'{name}="{value}"' if quoted else f"{name}={value}" for name, value, quoted in pairs
    )
    assert parse_cookies(header) == cookie_parser(header)


def test_reads_the_usual_forms() -> None:
    """Pairs split on ';' and the first '=', a bare value has an empty name, the last of a
    repeated name wins, surrounding quotes go, empty chunks are skipped."""
    header = 'a=1; b="two"; bare; a=3;; c=x=y; d=""'
    assert parse_cookies(header) == {"a": "3", "b": "two", "": "bare", "c": "x=y", "d": ""}


def test_backslashes_are_kept_as_sent() -> None:
    """Escapes are not processed (http.cookies' unquoting is quadratic on them), so a
    quoted value of backslashes and quotes comes back as it was sent, quotes stripped."""
    value = '\\"' * 4000
    assert parse_cookies(f'guard_id="{value}"') == {"guard_id": value}
    assert parse_cookies('s="a\\\\b"') == {"s": "a\\\\b"}
