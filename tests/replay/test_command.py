"""Tests for ``guard replay``: real and broken logs, stdin, gzip, JSON lines, --compare.

``data/apache_logs.gz`` is a real public access log: 10,000 lines of a blog's traffic in
May 2015 ("Common Data Formats/apache_logs/apache_logs" of github.com/elastic/examples,
Apache License 2.0), gzip-compressed unchanged. One of its lines is cut short.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from guard.cli import main
from tests.replay.logs import line, person, scraper

HERE = Path(__file__).parent
REAL_LOG = HERE / "data" / "apache_logs.gz"
RECORDS = HERE / "records.toml"


def test_a_real_log_is_replayed_with_its_broken_line_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real log, gzip and all: every line but the one cut short is judged, that one is
    counted and shown, and each actor gets one JSON line with the fields a team reads."""
    out = tmp_path / "actors.jsonl"
    assert main(["replay", str(REAL_LOG), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "10,000 lines, 9,999 requests judged" in text
    assert "1 lines not understood" in text
    assert "line 8899: not a combined or common log line" in text
    assert "request headers (Accept-*" in text
    rows = [json.loads(row) for row in out.read_text().splitlines()]
    assert sum(row["requests"] for row in rows) == 9999
    assert len({row["actor"] for row in rows}) == len(rows) > 1000
    keys = {"actor", "ip", "ua", "requests", "records", "first", "last", "action"}
    assert keys | {"max_score", "reasons", "refused", "challenged"} == set(rows[0])
    assert {row["action"] for row in rows} <= {"allow", "challenge", "throttle", "block"}


def test_people_in_the_real_log_are_not_challenged_for_what_logs_lack(tmp_path: Path) -> None:
    """The log's browsers load their pages' assets and follow the site's links; judged on
    what the log holds, nearly all are allowed and none is refused for missing headers or
    cookies (reasons a log cannot support)."""
    out = tmp_path / "actors.jsonl"
    assert main(["replay", str(REAL_LOG), "--json", str(out)]) == 0
    rows = [json.loads(row) for row in out.read_text().splitlines()]
    browsers = [r for r in rows if r["ua"].startswith("Mozilla/5.0 (") and "bot" not in r["ua"]]
    reasons = {reason for row in rows for reason in row["reasons"]}
    assert not reasons & {"browser_headers_missing", "no_fetch_metadata", "no_cookies"}
    challenged = [r for r in browsers if r["action"] != "allow"]
    assert len(challenged) < 0.05 * len(browsers), challenged[:5]


def test_stdin_common_format_and_compare(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``-`` reads standard input; common-format lines (no referer or agent) are judged;
    ``--compare`` prints which actors a second config judges differently."""
    lax = tmp_path / "lax.toml"
    lax.write_text(RECORDS.read_text() + "\n[thresholds]\ngray = 0.99\nblock = 1.0\n")
    rows = scraper("198.51.100.9", 0.0, range(100, 140)) + person("203.0.113.5", 0.0, range(3))
    common = '192.0.2.1 - - [15/Jan/2027:08:00:00 +0000] "GET /jobs HTTP/1.1" 200 10\n'
    data = "".join(sorted(rows)) + common + "garbage\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    assert main(["replay", "-", "--config", str(RECORDS), "--compare", str(lax)]) == 0
    text = capsys.readouterr().out
    assert "1 lines not understood" in text
    assert "requests judged" in text
    assert "with the compared config:" in text
    assert "198.51.100.9 python-requests/2.32.3" in text


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file, a broken config and a corrupt gzip file each end with exit 2 and a
    message, not a traceback."""
    assert main(["replay", str(tmp_path / "none.log")]) == 2
    assert "No such file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[thresholds]\ngray = 2\n")
    log = tmp_path / "a.log"
    log.write_text(line("192.0.2.1", "/", 0.0))
    assert main(["replay", str(log), "--config", str(bad)]) == 2
    assert "thresholds" in capsys.readouterr().err
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(gzip.compress(log.read_bytes() * 500)[:200])
    assert main(["replay", str(broken)]) == 2
    assert "could not read the log" in capsys.readouterr().err
