"""Access logs in the Apache/nginx "combined" format, to and from `Event`s.

`write_combined` turns simulated traffic into a log any log tool reads; `read_combined` turns a
site's own log (combined, or "common" without referer and user agent) into events, labelled
from a CSV of known clients (`Labels`), so the model can be trained and checked on real traffic.

Text conventions follow what a server hands the app: a header value or query string is one
character per byte (latin-1, as in `Event.scope`), a path is percent-decoded UTF-8 (ASGI's
``path``). Written lines are pure ASCII: paths are percent-encoded and other fields escaped the
way nginx does (``"``, ``\\``, control and non-ASCII bytes as ``\\xHH``). To read a log byte
for byte whatever its encoding, open it with ``encoding="latin-1"``.
"""

from __future__ import annotations

import csv
import functools
import ipaddress
import math
import os
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import quote, unquote_to_bytes

from guard.config import IPNetwork
from guard.errors import ConfigError
from guard.learn.events import Event

ErrorHandler = Callable[[int, str, str], None]
"""Called as ``on_error(line_number, line, reason)`` for each malformed line (1-based)."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS, 1)}
_NO_BODY = frozenset({204, 304})
_PATH_SAFE = "/:@!$&'()*+,;="
"""Characters a path keeps unencoded (RFC 3986 pchar, less '%'), beside letters, digits, -._~"""

# Each byte nginx will not write as is: '"', '\', control characters and non-ASCII.
_ESCAPES = {byte: f"\\x{byte:02X}" for byte in (*range(0x20), 0x22, 0x5C, *range(0x7F, 0x100))}
# Apache writes '"' and '\' (and a few control characters) with a backslash instead.
_BACKSLASHED = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "v": "\v"}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|.)", re.DOTALL)

_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
_LINE = re.compile(
    r"(\S+) \S+ \S+ "  # %h %l %u
    r"\[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
    rf"{_QUOTED} (\d{{3}}) (?:\d+|-)"
    # combined adds referer and user agent; extra fields after either are ignored, but a
    # quote right after the size must open the referer, so a truncated line is not "common".
    rf"(?: {_QUOTED} {_QUOTED}(?:\s.*)?|\s+[^\s\"].*)?",
    re.DOTALL,
)
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PROTOCOL = re.compile(r"HTTP/\d(?:\.\d)?")


@dataclass(slots=True)
class ReadStats:
    """What `read_combined` has read so far (it updates this as the caller iterates)."""

    lines: int = 0
    events: int = 0
    malformed: int = 0
    unlabelled: int = 0


def format_combined(event: Event) -> str:
    """One combined-format log line for `event`, without the newline."""
    ts = time.gmtime(math.floor(event.time))
    stamp = (
        f"{ts.tm_mday:02d}/{_MONTHS[ts.tm_mon - 1]}/{ts.tm_year:04d}"
        f":{ts.tm_hour:02d}:{ts.tm_min:02d}:{ts.tm_sec:02d} +0000"
    )
    target = quote(event.path, safe=_PATH_SAFE, errors="replace")
    if event.query:
        target = f"{target}?{_escape(event.query)}"
    referer = event.header("referer")
    agent = event.header("user-agent")
    return (
        f"{_escape(event.client_ip) or '-'} - - [{stamp}] "
        f'"{_escape(event.method)} {target} HTTP/1.1" {event.status} {_body_size(event)} '
        f'"{"-" if referer is None else _escape(referer)}" '
        f'"{"-" if agent is None else _escape(agent)}"'
    )


def write_combined(events: Iterable[Event], out: TextIO) -> int:
    """Write `events` to `out` as combined-format log lines, times in UTC.

    Returns:
        The number of lines written.
    """
    written = 0
    for event in events:
        out.write(format_combined(event) + "\n")
        written += 1
    return written


def read_combined(
    lines: Iterable[str],
    labels: Labels | None = None,
    *,
    on_error: ErrorHandler | None = None,
    stats: ReadStats | None = None,
) -> Iterator[Event]:
    """Parse combined- or common-format log lines into events, lazily.

    Malformed lines (including "-" or binary request lines, such as TLS handshakes sent to a
    plain HTTP port) never raise: they are counted, reported to `on_error` and skipped.

    Args:
        lines: log lines, with or without their line endings.
        labels: who is who; when given, lines from unlabelled clients are counted and skipped.
            Without it every event has actor ``f"{ip} {user_agent}"``, family ``unlabelled``
            and bot False.
        on_error: called as ``on_error(line_number, line, reason)`` for each malformed line.
        stats: counters to update as lines are read.

    Returns:
        The events, in log order.
    """
    counts = stats if stats is not None else ReadStats()
    known: dict[tuple[str, str], tuple[str, str, bool] | None] = {}
    for number, raw in enumerate(lines, 1):
        counts.lines += 1
        line = raw.rstrip("\r\n")
        parsed = _parse(line)
        if isinstance(parsed, str):
            counts.malformed += 1
            if on_error is not None:
                on_error(number, line, parsed)
            continue
        epoch, ip, method, path, query, status, referer, agent = parsed
        who: tuple[str, str, bool] | None
        if labels is None:
            who = (f"{ip} {agent or '-'}", "unlabelled", False)
        else:
            key = (ip, agent or "")
            if key in known:
                who = known[key]
            else:
                if len(known) >= 100_000:  # bounded memory on logs with endless clients
                    known.clear()
                who = known[key] = labels.lookup(*key)
        if who is None:
            counts.unlabelled += 1
            continue
        headers: list[tuple[str, str]] = []
        if agent is not None:
            headers.append(("user-agent", agent))
        if referer is not None:
            headers.append(("referer", referer))
        counts.events += 1
        yield Event(epoch, ip, method, path, query, tuple(headers), status, *who)


_Parsed = tuple[float, str, str, str, str, int, str | None, str | None]


def _parse(line: str) -> _Parsed | str:
    """The fields of one log line, or why it is malformed."""
    if not line.strip():
        return "empty line"
    match = _LINE.fullmatch(line)
    if match is None:
        return "not a combined or common log line"
    ip, stamp, request, status, referer, agent = match.groups()
    try:
        epoch = log_epoch(stamp)
    except ValueError:
        return f"bad timestamp [{stamp}]"
    parts = request.split(" ")
    if len(parts) >= 3 and _PROTOCOL.fullmatch(parts[-1]):
        target = " ".join(parts[1:-1])
    elif len(parts) == 2:  # HTTP/0.9: no protocol
        target = parts[1]
    else:
        return "no request line" if request == "-" else "request line is not METHOD TARGET HTTP/x"
    method = parts[0]
    if not _METHOD.fullmatch(method):
        return "request line does not start with a method"
    target = _unescape(target)
    if target.startswith(("http://", "https://")):  # absolute form, as sent to proxies
        slash = target.find("/", target.index("//") + 2)
        target = "/" if slash < 0 else target[slash:]
    elif not target.startswith(("/", "*")):
        return "request target is not a path"
    path, _, query = target.partition("?")
    if "%" in path or not path.isascii():
        path = decode_path(path)
    return (
        epoch,
        ip,
        method,
        path,
        query,
        int(status),
        None if referer is None or referer == "-" else _unescape(referer),
        None if agent is None or agent == "-" else _unescape(agent),
    )


@functools.lru_cache(maxsize=4096)
def log_epoch(stamp: str) -> float:
    """Seconds since the epoch for ``10/Oct/2000:13:55:36 -0700``; ValueError when invalid."""
    month = _MONTH_NUMBERS.get(stamp[3:6].title())
    if month is None:
        raise ValueError(stamp)
    moment = datetime(
        int(stamp[7:11]),
        month,
        int(stamp[0:2]),
        int(stamp[12:14]),
        int(stamp[15:17]),
        int(stamp[18:20]),
        tzinfo=UTC,
    )
    offset = int(stamp[22:24]) * 3600 + int(stamp[24:26]) * 60
    return moment.timestamp() - (offset if stamp[21] == "+" else -offset)


def decode_path(path: str) -> str:
    """Percent-decode a path as ASGI servers do (UTF-8, invalid bytes replaced)."""
    # Characters above U+00FF cannot be bytes of a latin-1 read: the log was read as UTF-8.
    raw = path.encode("latin-1") if max(path) <= "\xff" else path.encode("utf-8", "replace")
    return unquote_to_bytes(raw).decode("utf-8", "replace")


def _escape(text: str) -> str:
    """`text` as nginx logs it: one character per byte, unsafe bytes as ``\\xHH``."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return text.encode("latin-1", "replace").decode("latin-1").translate(_ESCAPES)


def _unescape(text: str) -> str:
    """Undo nginx's ``\\xHH`` and Apache's ``\\"``, ``\\\\`` escapes (one character per byte)."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(_unescape_one, text)


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 3:
        return chr(int(code[1:], 16))
    return _BACKSLASHED.get(code, match.group(0))


def _body_size(event: Event) -> str:
    """A plausible, repeatable response size: logs carry one, events do not."""
    if event.method == "HEAD" or event.status < 200 or event.status in _NO_BODY:
        return "0"
    spread = zlib.crc32(event.path.encode("utf-8", "replace"))
    return str(2048 + spread % 30000 if event.status < 300 else 150 + spread % 400)


# --- Labels: ground truth for a platform's own logs -------------------------------------------

_TRUE = frozenset({"bot", "1", "true"})
_FALSE = frozenset({"human", "0", "false"})


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One known client: an address or network, optionally one user agent from it."""

    network: IPNetwork
    user_agent: str
    """'' means any user agent from `network`."""
    family: str
    bot: bool

    @property
    def actor(self) -> str:
        """``address|user agent``, ``network|*``: who the requests it labels come from."""
        full = self.network.prefixlen == self.network.max_prefixlen
        where = str(self.network.network_address) if full else str(self.network)
        return f"{where}|{self.user_agent or '*'}"


_Verdict = tuple[str, str, bool]
_Table = dict[tuple[int, str], _Verdict]


@dataclass(frozen=True, slots=True)
class Labels:
    """Ground truth for a platform's own logs: which clients are bots.

    The most specific row wins: the narrowest network (a single address is the narrowest),
    and within one network a row for the request's user agent over a row for any.
    """

    rows: tuple[LabelRow, ...]
    _index: dict[int, tuple[tuple[int, _Table], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tables: dict[tuple[int, int], _Table] = {}
        for row in self.rows:
            net = row.network
            key = (int(net.network_address) >> (net.max_prefixlen - net.prefixlen), row.user_agent)
            verdict = (row.actor, row.family, row.bot)
            tables.setdefault((net.version, net.prefixlen), {})[key] = verdict
        index = {
            version: tuple(
                (prefix, tables[version, prefix])
                for _, prefix in sorted((k for k in tables if k[0] == version), reverse=True)
            )
            for version in (4, 6)
        }
        object.__setattr__(self, "_index", index)

    @classmethod
    def read(cls, path_or_lines: str | os.PathLike[str] | Iterable[str]) -> Labels:
        """Read labels from a CSV file (a path) or its lines.

        Columns, named in a header row: ``ip`` (an address or a CIDR network), ``label``
        (bot, human, true, false, 1 or 0), optional ``user_agent`` (empty: any) and ``family``
        (empty: ``labelled_bot`` or ``labelled_human``). Other columns are ignored.

        Raises:
            ConfigError: naming the line and the problem.
        """
        if isinstance(path_or_lines, str | os.PathLike):
            with open(path_or_lines, newline="", encoding="utf-8-sig") as file:
                return cls._parse(file, str(path_or_lines))
        return cls._parse(path_or_lines, "labels")

    @classmethod
    def _parse(cls, lines: Iterable[str], source: str) -> Labels:
        reader = csv.reader(lines, skipinitialspace=True)
        header = next(reader, None)
        if header is None:
            raise ConfigError(f"{source}: empty, expected a header row naming ip and label")
        columns = {name.strip().lower(): position for position, name in enumerate(header)}
        for required in ("ip", "label"):
            if required not in columns:
                found = ", ".join(repr(name) for name in header)
                raise ConfigError(
                    f"{source} line {reader.line_num}: missing column {required!r} (found {found})"
                )

        def cell(row: list[str], name: str) -> str:
            position = columns.get(name)
            return row[position] if position is not None and position < len(row) else ""

        rows: list[LabelRow] = []
        seen: dict[tuple[IPNetwork, str], int] = {}
        for row in reader:
            line = reader.line_num
            if not any(value.strip() for value in row):
                continue
            where = f"{source} line {line}"
            try:
                network = ipaddress.ip_network(cell(row, "ip").strip(), strict=False)
            except ValueError:
                raise ConfigError(
                    f"{where}: ip {cell(row, 'ip')!r} is not an address or CIDR network"
                ) from None
            mapped = network.network_address
            if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped is not None:
                # lookups see IPv4-mapped clients as IPv4, so the row must be IPv4 too
                bits = max(network.prefixlen - 96, 0)
                network = ipaddress.ip_network(f"{mapped.ipv4_mapped}/{bits}", strict=False)
            label = cell(row, "label").strip().lower()
            if label not in _TRUE and label not in _FALSE:
                raise ConfigError(
                    f"{where}: label {cell(row, 'label')!r} is not one of "
                    "bot, human, true, false, 1, 0"
                )
            bot = label in _TRUE
            agent = cell(row, "user_agent")
            if (network, agent) in seen:
                raise ConfigError(f"{where}: labels the same client as line {seen[network, agent]}")
            seen[network, agent] = line
            family = cell(row, "family").strip() or ("labelled_bot" if bot else "labelled_human")
            rows.append(LabelRow(network, agent, family, bot))
        return cls(tuple(rows))

    def lookup(self, ip: str, user_agent: str) -> tuple[str, str, bool] | None:
        """``(actor, family, bot)`` for a client, or None when no row covers it."""
        address = _address(ip)
        if address is None:  # a hostname or "-": nothing to match
            return None
        version, value = address
        bits = 32 if version == 4 else 128
        for prefix, table in self._index[version]:
            masked = value >> (bits - prefix)
            verdict = table.get((masked, user_agent)) or table.get((masked, ""))
            if verdict is not None:
                return verdict
        return None


def _address(ip: str) -> tuple[int, int] | None:
    """(IP version, address as an integer), IPv4-mapped IPv6 as IPv4; None if not an address."""
    # inet_pton is several times faster than ipaddress, and this runs once per client.
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip))
    except (OSError, ValueError):
        pass
    try:
        value = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip))
    except (OSError, ValueError):
        try:  # forms inet_pton refuses, such as a scoped "fe80::1%eth0"
            parsed = ipaddress.ip_address(ip)
        except ValueError:
            return None
        value = int(parsed)
        if parsed.version == 4:
            return 4, value
    if value >> 32 == 0xFFFF:
        return 4, value & 0xFFFFFFFF
    return 6, value
