"""Tests for guard.learn.accesslog: combined-format logs to and from events, and labels."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from guard.errors import ConfigError
from guard.learn.accesslog import (
    Labels,
    ReadStats,
    format_combined,
    read_combined,
    write_combined,
)
from guard.learn.events import Event

T0 = 1_700_000_000.75  # 2023-11-14 22:13:20.75 UTC

UA_QUOTE = 'Mozilla/5.0 (X11; "quoted" \\ back\\slash) Gecko/20100101'
LABELS_CSV = [
    "ip,user_agent,label,family",
    "2001:db8::7,,bot,enumerators",
    "203.0.113.5,,human,people",
    f'198.51.100.9,"{UA_QUOTE.replace(chr(34), chr(34) * 2)}",bot,scrapers',
]


def event(
    ip: str = "203.0.113.5",
    *,
    path: str = "/people/42",
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (("user-agent", "curl/8.4.0"),),
    status: int = 200,
    method: str = "GET",
    at: float = T0,
) -> Event:
    """An event with sensible defaults."""
    return Event(at, ip, method, path, query, headers, status, "actor", "people", False)


def parse(text: str, labels: Labels | None = None) -> tuple[list[Event], list[tuple[int, str]]]:
    """Events and (line number, reason) errors read from log text."""
    errors: list[tuple[int, str]] = []
    events = list(
        read_combined(
            text.splitlines(), labels, on_error=lambda n, _line, why: errors.append((n, why))
        )
    )
    return events, errors


def test_round_trip_keeps_request_fields() -> None:
    """Write then read keeps time (to the second), ip, method, path, query, status, UA, referer."""
    events = [
        event("2001:db8::7", path="/search", query="q=ann%20lee&page=2", status=404),
        event(
            "198.51.100.9",
            path="/people/José ?x%",
            headers=(("user-agent", UA_QUOTE), ("referer", "https://example.org/a?b=1")),
            method="POST",
            at=T0 + 61,
        ),
        event(query='q=a b"c\x01é', headers=(), status=304, method="HEAD"),
    ]
    out = io.StringIO()
    assert write_combined(events, out) == 3
    assert out.getvalue().isascii()
    labels = Labels.read(LABELS_CSV)
    back, errors = parse(out.getvalue(), labels)
    assert errors == []
    assert len(back) == 3
    for before, after in zip(events, back, strict=True):
        assert after.time == int(before.time)
        assert (after.client_ip, after.method, after.path, after.query, after.status) == (
            before.client_ip,
            before.method,
            before.path,
            before.query,
            before.status,
        )
        assert after.header("user-agent") == before.header("user-agent")
        assert after.header("referer") == before.header("referer")
    assert [(e.actor, e.family, e.bot) for e in back] == [
        ("2001:db8::7|*", "enumerators", True),
        (f"198.51.100.9|{UA_QUOTE}", "scrapers", True),
        ("203.0.113.5|*", "people", False),
    ]


def test_written_line_escapes_like_nginx() -> None:
    """Quotes, backslashes and control bytes in fields are written as \\xHH; the time in UTC."""
    line = format_combined(event(headers=(("user-agent", 'a"b\\c\td'),)))
    assert line.startswith(
        '203.0.113.5 - - [14/Nov/2023:22:13:20 +0000] "GET /people/42 HTTP/1.1" 200 '
    )
    assert line.endswith('"-" "a\\x22b\\x5Cc\\x09d"')


def test_reads_apache_backslash_escapes() -> None:
    """Apache's \\" and \\\\ escapes are undone too."""
    line = '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "a\\"b\\\\c"'
    (only,), _ = parse(line)
    assert only.header("user-agent") == 'a"b\\c'


def test_common_format_has_no_referer_or_agent() -> None:
    """A common-format line gives an event without user-agent or referer headers."""
    line = 'example.net - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'
    (only,), errors = parse(line)
    assert errors == []
    assert only.client_ip == "example.net"
    assert (only.method, only.path, only.query, only.status) == ("GET", "/apache_pb.gif", "", 200)
    assert only.headers == ()
    assert (only.actor, only.family, only.bot) == ("example.net -", "unlabelled", False)


def test_extra_trailing_fields_are_ignored() -> None:
    """Fields nginx configs append (request time, forwarded-for) do not change the event."""
    base = '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET /a?b=1 HTTP/2.0" 200 5 "-" "ua"'
    common = '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET /a?b=1 HTTP/2.0" 200 5'
    events, errors = parse(f'{base} 0.003 "10.0.0.1, 10.0.0.2"\n{common} 0.003 0.001')
    assert errors == []
    assert [(e.path, e.query, e.header("user-agent")) for e in events] == [
        ("/a", "b=1", "ua"),
        ("/a", "b=1", None),
    ]


def test_malformed_lines_are_reported_and_skipped() -> None:
    """Malformed lines never raise: each is reported with its 1-based line number and skipped."""
    good = '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"'
    lines = [
        good,
        "",
        '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "\\x16\\x03\\x01\\x00\\xF7" 400 157 "-" "-"',
        '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01 \x00\xf7" 400 157 "-" "-"',
        '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "-" 400 0 "-" "-"',
        '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X1',
        '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTT',
        '192.0.2.1 - - [31/Feb/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"',
        '192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET example.org HTTP/1.1" 200 5 "-" "ua"',
        good + "\r\n",
    ]
    reported: list[tuple[int, str, str]] = []
    stats = ReadStats()
    events = list(read_combined(lines, on_error=lambda *error: reported.append(error), stats=stats))
    assert len(events) == 2
    assert [number for number, _, _ in reported] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert reported[0][2] == "empty line"
    assert reported[3][2] == "no request line"
    assert "timestamp" in reported[6][2]
    assert reported[1][1] == lines[2]
    assert stats == ReadStats(lines=10, events=2, malformed=8, unlabelled=0)


@pytest.mark.parametrize(
    ("stamp", "epoch"),
    [
        ("14/Nov/2023:22:13:20 +0000", 1_700_000_000),
        ("15/Nov/2023:06:13:20 +0800", 1_700_000_000),
        ("14/Nov/2023:17:13:20 -0500", 1_700_000_000),
        ("15/Nov/2023:03:43:20 +0530", 1_700_000_000),
    ],
)
def test_timezone_offsets_give_the_same_instant(stamp: str, epoch: int) -> None:
    """A timestamp's offset is applied: local time minus offset is the epoch second."""
    (only,), _ = parse(f'192.0.2.1 - - [{stamp}] "GET / HTTP/1.1" 200 5 "-" "ua"')
    assert only.time == epoch


def test_labels_most_specific_row_wins() -> None:
    """An ip+UA row beats an ip row, which beats the narrowest CIDR, which beats a wider one."""
    labels = Labels.read(
        [
            "ip,user_agent,label,family",
            "10.0.0.0/8,,human,wide",
            "10.1.0.0/16,,BOT,narrow",
            "10.1.2.3,,false,address",
            "10.1.2.3,Scraper/1.0,TRUE,address_agent",
        ]
    )
    assert labels.lookup("10.1.2.3", "Scraper/1.0") == (
        "10.1.2.3|Scraper/1.0",
        "address_agent",
        True,
    )
    assert labels.lookup("10.1.2.3", "Firefox") == ("10.1.2.3|*", "address", False)
    assert labels.lookup("10.1.9.9", "Firefox") == ("10.1.0.0/16|*", "narrow", True)
    assert labels.lookup("10.9.9.9", "") == ("10.0.0.0/8|*", "wide", False)
    assert labels.lookup("::ffff:10.1.2.3", "x") == ("10.1.2.3|*", "address", False)
    assert labels.lookup("192.0.2.1", "Firefox") is None
    assert labels.lookup("example.net", "Firefox") is None


def test_labels_default_family_and_optional_columns() -> None:
    """Without user_agent and family columns, rows cover any UA and get a default family."""
    labels = Labels.read(["IP, Label", "192.0.2.0/24, 1", "198.51.100.1, human"])
    assert labels.lookup("192.0.2.77", "ua") == ("192.0.2.0/24|*", "labelled_bot", True)
    assert labels.lookup("198.51.100.1", "ua") == ("198.51.100.1|*", "labelled_human", False)


def test_labels_read_from_a_path(tmp_path: Path) -> None:
    """A path is opened and read, and errors name the file."""
    good = tmp_path / "labels.csv"
    good.write_text("\ufeffip,label\n192.0.2.1,bot\n", encoding="utf-8")
    assert Labels.read(good).lookup("192.0.2.1", "") == ("192.0.2.1|*", "labelled_bot", True)
    bad = tmp_path / "bad.csv"
    bad.write_text("ip,label\n192.0.2.1,bot\n192.0.2.300,bot\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.csv line 3: ip '192\.0\.2\.300'"):
        Labels.read(str(bad))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["ip,label", "192.0.2.1,bot", "192.0.2.2,maybe"], r"line 3: label 'maybe' is not one of"),
        (["ip,label", "", "not-an-ip,bot"], r"line 3: ip 'not-an-ip' is not an address"),
        (["ip,label", "192.0.2.0/33,bot"], r"line 2: ip '192\.0\.2\.0/33'"),
        (["ip,user_agent", "192.0.2.1,x"], r"line 1: missing column 'label'"),
        (["user_agent,label", "x,bot"], r"line 1: missing column 'ip'"),
        (["ip,label", "192.0.2.1,bot", "192.0.2.1,human"], r"line 3: .* same client as line 2"),
        ([], r"empty"),
    ],
)
def test_bad_label_files_name_the_line(lines: list[str], message: str) -> None:
    """A bad label, address, missing column or duplicate is a ConfigError naming the line."""
    with pytest.raises(ConfigError, match=message):
        Labels.read(lines)


def test_unlabelled_clients_are_counted_and_skipped() -> None:
    """With labels, lines from clients no row covers are skipped and counted."""
    out = io.StringIO()
    write_combined(
        [event("203.0.113.5"), event("192.0.2.1"), event("192.0.2.1"), event("2001:db8::7")], out
    )
    stats = ReadStats()
    events = list(read_combined(out.getvalue().splitlines(), Labels.read(LABELS_CSV), stats=stats))
    assert [e.client_ip for e in events] == ["203.0.113.5", "2001:db8::7"]
    assert stats == ReadStats(lines=4, events=2, malformed=0, unlabelled=2)
