"""Access logs written as one JSON object a line (nginx ``log_format ... escape=json``,
log shippers), which can hold more than the combined format: request headers.

Field names follow nginx's variables, with common alternatives: ``time_iso8601`` /
``time_local`` / ``time`` / ``timestamp`` / ``@timestamp`` / ``ts`` (ISO 8601, nginx's
local time, or seconds since the epoch), ``remote_addr`` / ``client_ip`` / ``ip``,
``request_method`` / ``method``, ``request_uri`` / ``uri`` / ``path`` (query included or in
``args`` / ``query``), or ``request`` (``GET /path HTTP/1.1``), ``status``, and any
``http_<name>`` field as the header ``<name>`` (``http_user_agent``, ``http_accept_language``,
``http_sec_fetch_site``...), or a ``headers`` object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from guard.learn.accesslog import ErrorHandler, ReadStats, decode_path, log_epoch
from guard.learn.events import Event

_TIME = ("time_iso8601", "time_local", "time", "timestamp", "@timestamp", "ts")
_IP = ("remote_addr", "client_ip", "ip", "clientip")
_METHOD = ("request_method", "method")
_TARGET = ("request_uri", "uri", "path", "url")
_QUERY = ("args", "query", "query_string")
_SKIP = frozenset({"http_version", "http_x_forwarded_for"})

HEADERS_LOGGED = "accept"
"""A log whose lines carry this header holds the request headers the header signal reads."""


def looks_like_json(line: str) -> bool:
    """Whether a log line is a JSON object (this format) rather than combined or common."""
    return line.lstrip().startswith("{")


def logs_headers(line: str) -> bool:
    """Whether a JSON log line carries the request headers (an ``Accept`` header)."""
    try:
        event = _event(json.loads(line))
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    return event.header(HEADERS_LOGGED) is not None


def read_json_log(
    lines: Iterable[str], *, on_error: ErrorHandler | None = None, stats: ReadStats | None = None
) -> Iterator[Event]:
    """Parse JSON-lines access-log entries into events, lazily; malformed lines are counted,
    reported to ``on_error`` and skipped."""
    counts = stats if stats is not None else ReadStats()
    for number, raw in enumerate(lines, 1):
        counts.lines += 1
        line = raw.strip()
        try:
            event = _event(json.loads(line))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            counts.malformed += 1
            if on_error is not None:
                on_error(number, line, f"not a JSON access-log entry ({exc})")
            continue
        counts.events += 1
        yield event


def _event(row: Any) -> Event:
    if not isinstance(row, dict):
        raise TypeError("not an object")
    method, target = _request(row)
    path, _, query = target.partition("?")
    query = query or str(_first(row, _QUERY) or "")
    if "%" in path or not path.isascii():
        path = decode_path(path)
    headers = [
        (name[5:].replace("_", "-"), str(value))
        for name, value in row.items()
        if name.startswith("http_") and name not in _SKIP and value not in (None, "", "-")
    ]
    nested = row.get("headers")
    if isinstance(nested, dict):
        headers += [(str(k).lower(), str(v)) for k, v in nested.items() if v not in (None, "")]
    ip = str(_first(row, _IP))
    if not ip or ip == "None":
        raise KeyError("no client address")
    ua = row.get("user_agent")
    if ua and not any(name == "user-agent" for name, _ in headers):
        headers.append(("user-agent", str(ua)))
    return Event(
        _epoch(_first(row, _TIME)),
        ip,
        method,
        path,
        query,
        tuple(headers),
        int(row["status"]),
        f"{ip} {dict(headers).get('user-agent', '-')}",
        "unlabelled",
        False,
    )


def _request(row: dict[str, Any]) -> tuple[str, str]:
    target = _first(row, _TARGET)
    method = _first(row, _METHOD)
    if target is None or method is None:
        parts = str(row["request"]).split(" ")
        if len(parts) < 2:
            raise ValueError("request is not METHOD TARGET")
        method, target = parts[0], parts[1]
    target = str(target)
    if not target.startswith("/"):
        raise ValueError("request target is not a path")
    return str(method), target


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if row.get(name) not in (None, ""):
            return row[name]
    return None


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if text[:2].isdigit() and text[2:3] == "/":  # nginx's $time_local
        return log_epoch(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
