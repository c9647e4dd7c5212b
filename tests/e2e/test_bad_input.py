"""Malformed requests over a real socket to uvicorn never make the guard answer 500."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from guard.testing import live_server
from tests.conftest import GuardedFactory

pytestmark = pytest.mark.e2e

CASES = {
    "bad-header-bytes": b"GET /resume/100001 HTTP/1.1\r\nHost: x\r\nUser-Agent: \xff\xfe\x80\r\n"
    b"Accept-Language: \xc3\x28\r\n\r\n",
    "16k-user-agent": b"GET /resume/100001 HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 "
    + b"A" * 16384
    + b"\r\n\r\n",
    "non-utf8-path": b"GET /resume/%ff%fe%fd HTTP/1.1\r\nHost: x\r\n"
    b"User-Agent: Mozilla/5.0\r\n\r\n",
    "garbage-forwarded": b'GET /jobs HTTP/1.1\r\nHost: x\r\nForwarded: for="[::\r\n'
    b"X-Forwarded-For: ,,,\xff\r\n\r\n",
    "many-cookies": b"GET /jobs HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"Cookie: c%d=%s\r\n" % (n, b"\xff" * 50) for n in range(100))
    + b"\r\n",
    "no-user-agent": b"GET /resume/100001 HTTP/1.1\r\nHost: x\r\n\r\n",
}


def _status(base: str, raw: bytes) -> int:
    """Send raw bytes, return the status code of the answer."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(raw)
        head = b""
        while b"\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
    return int(head.split(b" ", 2)[1])


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_requests_get_a_non_500_answer(guarded: GuardedFactory, name: str) -> None:
    """Each malformed request is answered (refused, rejected or served), never with a 500."""
    app, _ = guarded()
    with live_server(app) as base:
        status = _status(base, CASES[name])
        after = _status(
            base,
            b"GET /jobs HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (X11; "
            b"Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n"
            b"Accept: text/html\r\nAccept-Language: en\r\nAccept-Encoding: gzip\r\n"
            b"Connection: close\r\n\r\n",
        )
    assert status < 500
    assert after == 200
