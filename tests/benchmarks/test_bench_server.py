"""benchmarks/bench_server.py: the overhead benchmark's server serves the guarded demo on
uvicorn[standard]'s parser and loop with two workers, sharing one Redis."""

from __future__ import annotations

import http.client
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from guard.testing import chrome_headers

SERVER = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_server.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str]) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def test_two_uvloop_workers_serve_the_guarded_demo_on_one_redis(
    redis_url: str, tmp_path: Path
) -> None:
    """Every request is served and each client's state lands in the shared Redis."""
    port = _free_port()
    command = [sys.executable, str(SERVER), "--mode", "redis", "--port", str(port)]
    command += ["--redis-url", redis_url, "--resumes", "100"]
    command += ["--http", "httptools", "--loop", "uvloop", "--workers", "2"]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    clients = [f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}" for _ in range(6)]
    try:
        deadline = time.monotonic() + 60
        while _get(port, "/robots.txt", {}) is None:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        statuses = [
            _get(port, "/resume/100001", {**chrome_headers(), "x-forwarded-for": client})
            for client in clients
        ]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert statuses == [200] * len(clients), log.read_text()
    server = redis.Redis.from_url(redis_url)
    try:
        stored = [server.keys(f"guard:{{ip:{client}}}*") for client in clients]
    finally:
        server.close()
    assert all(stored), "a worker did not write its client's state to Redis"
