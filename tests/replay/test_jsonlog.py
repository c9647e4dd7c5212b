"""JSON-lines access logs: nginx's JSON log_format and its common variants, with the
request headers a combined log cannot hold, which turn the header signal back on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard.cli import main
from guard.learn.accesslog import ReadStats
from guard.replay.jsonlog import logs_headers, looks_like_json, read_json_log
from guard.testing import chrome_headers
from tests.replay.logs import CHROME

RECORDS = Path(__file__).with_name("records.toml")


def entry(t: int, ip: str, uri: str, headers: dict[str, str], **more: object) -> str:
    """One line as nginx writes ``log_format ... escape=json`` with $http_* variables."""
    row: dict[str, object] = {
        "time_iso8601": f"2027-01-15T08:{t // 60:02d}:{t % 60:02d}+00:00",
        "remote_addr": ip,
        "request_method": "GET",
        "request_uri": uri,
        "status": 200,
    }
    row |= {f"http_{name.replace('-', '_')}": value for name, value in headers.items()}
    return json.dumps(row | more)


def test_fields_and_their_variants_are_read() -> None:
    """Times as ISO 8601, nginx local time or epoch seconds; the request as method and URI
    or as one request line; http_* fields and a headers object as headers; a line that is
    not an entry is counted."""
    lines = [
        entry(0, "192.0.2.1", "/resume/7?x=1", {"user-agent": CHROME, "accept-language": "en"}),
        json.dumps({"ts": 1800000000, "ip": "192.0.2.2", "request": "HEAD /jobs HTTP/1.1",
                    "status": 404, "headers": {"User-Agent": "curl/8"}}),
        json.dumps({"time_local": "15/Jan/2027:08:00:00 +0100", "client_ip": "192.0.2.3",
                    "method": "GET", "path": "/r%C3%A9sum%C3%A9", "args": "q=1", "status": 200}),
        "{not json",
        json.dumps(["a list"]),
    ]  # fmt: skip
    stats = ReadStats()
    events = list(read_json_log(lines, stats=stats))
    assert (stats.lines, stats.events, stats.malformed) == (5, 3, 2)
    first, second, third = events
    assert (first.time, first.path, first.query) == (1800000000.0, "/resume/7", "x=1")
    assert first.header("accept-language") == "en"
    assert (second.method, second.status, second.header("user-agent")) == ("HEAD", 404, "curl/8")
    assert (third.time, third.path, third.query) == (1800000000.0 - 3600, "/résumé", "q=1")
    assert looks_like_json(lines[0])
    assert not looks_like_json('1.2.3.4 - - [..] "GET / HTTP/1.1"')
    assert logs_headers(entry(0, "192.0.2.1", "/", {"accept": "text/html"}))
    assert not logs_headers(lines[1])


def test_logged_headers_turn_the_header_signal_back_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With Accept and fetch metadata logged, a script that claims Chrome but sends none of
    Chrome's headers is judged on them, and the summary no longer lists request headers as
    unseen; the browser that sends them is allowed."""
    browser = {**chrome_headers(), "user-agent": CHROME}
    fake = {"user-agent": CHROME, "accept": "*/*"}
    lines = [entry(i, "198.51.100.7", f"/resume/{100 + i}", browser) for i in range(3)]
    lines += [entry(i, "203.0.113.8", f"/resume/{200 + i}", fake) for i in range(3)]
    log = tmp_path / "access.json"
    log.write_text("\n".join(sorted(lines)) + "\n")
    out = tmp_path / "actors.jsonl"
    assert main(["replay", str(log), "--config", str(RECORDS), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "request headers (" not in text
    rows = {row["ip"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert rows["198.51.100.7"]["action"] == "allow"
    assert rows["203.0.113.8"]["action"] != "allow"
    assert any(r.startswith(("browser_headers_missing", "no_fetch_metadata", "ua_hints"))
               for r in rows["203.0.113.8"]["reasons"])  # fmt: skip
