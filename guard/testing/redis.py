"""Throwaway Redis servers and clusters for tests, each on its own free loopback port.

Nothing here talks to the shared Redis on 127.0.0.1:6379: every server is a child process
of the test run, bound to 127.0.0.1 on a port the kernel handed out, with persistence off
and its files in a private temporary directory. The module speaks raw RESP over a socket
(or runs ``redis-cli``) so it does not depend on the ``redis`` Python package.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from guard.store.resp import PythonReader, ReplyError, pack_command

__all__ = [
    "HOST",
    "RedisClusterProcess",
    "RedisReplyError",
    "RedisServer",
    "RespValue",
    "redis_cli_binary",
    "redis_server_binary",
    "resp_call",
]

HOST = "127.0.0.1"
SHARED_PORT = 6379  # the shared instance on this machine: never start, stop or flush it
CLUSTER_BUS_OFFSET = 10000  # Redis Cluster's bus listens on port + 10000
CLUSTER_SLOTS = 16384
POLL_INTERVAL = 0.02  # seconds between readiness checks

RespValue = str | int | bytes | None | list["RespValue"]


class RedisReplyError(RuntimeError):
    """Redis answered a command with an error reply (``-ERR ...``)."""


def redis_server_binary() -> str:
    """Return the path of ``redis-server`` on PATH, or raise a RuntimeError saying how to get it."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError(
            "redis-server not found: install Debian's redis-server package "
            "(apt-get install redis-server); .ci/run does this for CI"
        )
    return path


def redis_cli_binary() -> str:
    """Return the path of ``redis-cli`` on PATH, or raise a RuntimeError saying how to get it."""
    path = shutil.which("redis-cli")
    if path is None:
        raise RuntimeError(
            "redis-cli not found: install Debian's redis-tools package "
            "(apt-get install redis-server pulls it in); .ci/run does this for CI"
        )
    return path


# --- RESP over a plain socket ---------------------------------------------------------------


def _read_reply(sock: socket.socket) -> RespValue:
    """Read one RESP2 reply with the store's parser; bulk strings come back as bytes, status
    replies as str."""
    reader = PythonReader(status_text=True)
    while (reply := reader.gets()) is False:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed in the middle of a Redis reply")
        reader.feed(data)
    if isinstance(reply, ReplyError):
        raise RedisReplyError(str(reply))
    value: RespValue = reply
    return value


def resp_call(port: int, *args: str | bytes | int, timeout: float = 5.0) -> RespValue:
    """Send one command to 127.0.0.1:``port`` on a fresh connection and return its reply.

    Raises OSError (including ``TimeoutError``) if the server is unreachable or too slow, and
    RedisReplyError on an error reply.
    """
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(pack_command(args))
        return _read_reply(sock)


def _text(value: RespValue) -> str:
    """A bulk-string or status reply as text."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string reply, got {value!r}")


def _parse_info(text: str) -> dict[str, str]:
    """Parse ``INFO`` / ``CLUSTER INFO`` output into a field -> value mapping."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


# --- ports ----------------------------------------------------------------------------------


def _port_is_free(port: int) -> bool:
    """Whether a listening socket could bind 127.0.0.1:``port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _free_port(*, cluster: bool) -> int:
    """A port the kernel just reported free on 127.0.0.1 (and, for cluster nodes, port+10000)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port == SHARED_PORT:
            continue
        if not cluster:
            return port
        bus = port + CLUSTER_BUS_OFFSET
        if bus <= 65535 and _port_is_free(bus):
            return port
    raise RuntimeError("could not find a free loopback port for redis-server")


# --- cleanup at exit ------------------------------------------------------------------------

_LIVE: set[RedisServer] = set()


def _close_all() -> None:
    """Kill every server a test forgot to close, so none outlives the test run."""
    for server in list(_LIVE):
        server.close()


atexit.register(_close_all)


# --- one server -----------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` child process on its own loopback port, with persistence off.

    The server starts in the constructor and answers PING before the constructor returns.
    ``kill()``/``stop()`` end the process but keep its directory, so ``start()``/``restart()``
    bring it back on the same port (empty: nothing is saved). ``close()`` (or leaving the
    ``with`` block) ends it for good and removes its directory.
    """

    def __init__(
        self,
        *,
        cluster: bool = False,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 10.0,
    ) -> None:
        """Start the server; ``port`` defaults to a free one. Raises RuntimeError on failure."""
        if port == SHARED_PORT:
            raise ValueError(f"port {SHARED_PORT} belongs to the shared Redis: pick another")
        self._binary = redis_server_binary()
        self._cli = redis_cli_binary()
        self.cluster = cluster
        self.startup_timeout = startup_timeout
        self._extra_args = tuple(extra_args)
        self._fixed_port = port is not None
        self._port = port if port is not None else _free_port(cluster=cluster)
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._closed = False
        self.directory = Path(tempfile.mkdtemp(prefix="guard-redis-"))
        self.log_path = self.directory / "redis.log"
        _LIVE.add(self)
        try:
            self.start()
        except BaseException:
            self.close()
            raise

    # -- identity --

    @property
    def port(self) -> int:
        """The TCP port the server listens on (127.0.0.1 only)."""
        return self._port

    @property
    def host(self) -> str:
        """Always the loopback address."""
        return HOST

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://{HOST}:{self._port}/0"

    @property
    def pid(self) -> int | None:
        """The process id while the server runs, else None."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive (it may still be starting or paused)."""
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        """Show the port and whether the process is alive."""
        state = "running" if self.running else "stopped"
        return f"<RedisServer {HOST}:{self._port} {state}{' cluster' if self.cluster else ''}>"

    # -- lifecycle --

    def _command_line(self) -> list[str]:
        """The ``redis-server`` argument vector."""
        args = [
            self._binary,
            "--port",
            str(self._port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--daemonize",
            "no",
            "--loglevel",
            "notice",
        ]
        if self.cluster:
            args += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            ]
        return [*args, *self._extra_args]

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the server's log (stdout and stderr)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - 8192))
                text = log.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        """Start the process on this server's port and wait until it answers PING.

        Retries briefly if the port is still held (e.g. by the previous process's sockets);
        a server given no port moves to another free one if its port was taken meanwhile.
        Raises RuntimeError, with the log tail, if it does not come up within the deadline.
        """
        if self._closed:
            raise RuntimeError(f"{self!r} was closed; create a new RedisServer")
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        deadline = time.monotonic() + self.startup_timeout
        while True:
            self._spawn()
            outcome = self._wait_ready(deadline)
            if outcome == "ready":
                self._fixed_port = True  # from now on restarts reuse this port
                return
            tail = self.log_tail()
            port_taken = outcome == "exited" and "Address already in use" in self._log_since_spawn()
            if port_taken and time.monotonic() < deadline:
                if self._fixed_port:
                    time.sleep(0.1)  # e.g. the old process's sockets: wait for them to go
                else:
                    self._port = _free_port(cluster=self.cluster)  # lost a race: move on
                continue
            self._reap(signal.SIGKILL)
            what = (
                "exited"
                if outcome == "exited"
                else f"did not answer PING within {self.startup_timeout:g} s"
            )
            raise RuntimeError(f"redis-server on {HOST}:{self._port} {what}; log tail:\n{tail}")

    def _log_since_spawn(self) -> str:
        """What the latest process wrote to the log."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _spawn(self) -> None:
        """Launch redis-server with stdout and stderr appended to the log file."""
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._process = subprocess.Popen(
                self._command_line(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )

    def _wait_ready(self, deadline: float) -> str:
        """Poll until our process answers ("ready"), dies ("exited") or time runs out.

        The answer must come from our process: if another server holds the port, ours is
        about to exit with "Address already in use" and must not be mistaken for ready.
        """
        assert self._process is not None
        while True:
            if self._process.poll() is not None:
                return "exited"
            if self.ping(timeout=0.2) and self._answering_pid() == self._process.pid:
                return "ready"
            if time.monotonic() >= deadline:
                return "timeout"
            time.sleep(POLL_INTERVAL)

    def _answering_pid(self) -> int | None:
        """The process id of whichever server answers on our port, if any."""
        try:
            return int(self.info("server")["process_id"])
        except (OSError, RedisReplyError, KeyError, ValueError):
            return None

    def _reap(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        """Send ``sig`` to the process (if alive) and wait for it; SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        else:
            process.wait()

    def kill(self) -> None:
        """SIGKILL the server (a crash: no shutdown work) and wait for it to exit."""
        self._reap(signal.SIGKILL)

    def stop(self) -> None:
        """Shut the server down gracefully (SIGTERM; nothing is saved) and wait for it."""
        self._reap(signal.SIGTERM)

    def restart(self) -> None:
        """Stop the server if it runs, then start it again on the same port (empty)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Kill the server for good and remove its directory; safe to call twice."""
        self._closed = True
        try:
            self._reap(signal.SIGKILL)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            _LIVE.discard(self)

    def __enter__(self) -> Self:
        """Return the (already running) server."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the server, whatever happened in the block."""
        self.close()

    # -- talking to it --

    def call(self, *args: str | bytes | int, timeout: float = 5.0) -> RespValue:
        """Send one command over a raw RESP connection and return the decoded reply."""
        return resp_call(self._port, *args, timeout=timeout)

    def ping(self, timeout: float = 1.0) -> bool:
        """Whether the server answers PING with PONG within ``timeout`` seconds."""
        try:
            return self.call("PING", timeout=timeout) == "PONG"
        except (OSError, RedisReplyError):
            return False

    def pause(self, ms: int) -> None:
        """Pause every client for ``ms`` milliseconds (``CLIENT PAUSE ms ALL``)."""
        reply = self.call("CLIENT", "PAUSE", ms, "ALL")
        if reply != "OK":
            raise RuntimeError(f"CLIENT PAUSE on {self!r} answered {reply!r}")

    def command(self, *args: str, timeout: float = 10.0) -> str:
        """Run an admin command through ``redis-cli`` and return its raw output, stripped.

        Meant for simple commands (``DBSIZE``, ``FLUSHALL``, ``MEMORY USAGE key``,
        ``INFO memory``). Line endings are normalised to ``\\n``; a nil reply is ``""``.
        Raises RuntimeError if redis-cli fails or Redis answers with an error.
        """
        result = subprocess.run(
            [self._cli, "-h", HOST, "-p", str(self._port), "-e", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = result.stdout.replace("\r\n", "\n").strip()
        if result.returncode != 0:
            detail = (output + "\n" + result.stderr.strip()).strip()
            raise RuntimeError(f"redis-cli -p {self._port} {' '.join(args)} failed: {detail}")
        return output

    def info(self, section: str = "") -> dict[str, str]:
        """``INFO [section]`` as a field -> value mapping."""
        args = ("INFO", section) if section else ("INFO",)
        return _parse_info(_text(self.call(*args)))


# --- a cluster ------------------------------------------------------------------------------


class RedisClusterProcess:
    """A Redis Cluster of ``masters`` master-only nodes, each a ``RedisServer(cluster=True)``.

    The constructor returns once every node reports ``cluster_state:ok``. ``stop()`` (or
    leaving the ``with`` block) kills all nodes and removes their directories.
    """

    def __init__(self, masters: int = 3, *, timeout: float = 20.0) -> None:
        """Start the nodes, join them with ``redis-cli --cluster create`` and wait for ok."""
        if masters < 3:
            raise ValueError("redis-cli --cluster create needs at least 3 masters")
        self._cli = redis_cli_binary()
        self._nodes: list[RedisServer] = []
        try:
            for _ in range(masters):
                self._nodes.append(RedisServer(cluster=True))
            deadline = time.monotonic() + timeout
            self._create(timeout)
            self.wait_ok(deadline)
        except BaseException:
            self.stop()
            raise

    @property
    def nodes(self) -> list[RedisServer]:
        """The master nodes, in creation order."""
        return list(self._nodes)

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        """``(host, port)`` of every node."""
        return [(HOST, node.port) for node in self._nodes]

    @property
    def url(self) -> str:
        """``redis+cluster://127.0.0.1:PORT`` naming the first node."""
        return f"redis+cluster://{HOST}:{self._nodes[0].port}"

    def __repr__(self) -> str:
        """Show the node ports."""
        return f"<RedisClusterProcess {[node.port for node in self._nodes]}>"

    def _create(self, timeout: float) -> None:
        """Assign all slots across the nodes with ``redis-cli --cluster create``."""
        addresses = [f"{HOST}:{node.port}" for node in self._nodes]
        command = [self._cli, "--cluster", "create", *addresses]
        command += ["--cluster-replicas", "0", "--cluster-yes"]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"redis-cli --cluster create took over {timeout:g} s") from exc
        if result.returncode != 0:
            raise RuntimeError(
                "redis-cli --cluster create failed:\n"
                + (result.stdout + result.stderr).strip()[-2000:]
            )

    def cluster_info(self, node: int = 0) -> dict[str, str]:
        """``CLUSTER INFO`` of one node as a field -> value mapping."""
        return _parse_info(_text(self._nodes[node].call("CLUSTER", "INFO")))

    def wait_ok(self, deadline: float) -> None:
        """Wait until every node reports ``cluster_state:ok``; RuntimeError at the deadline."""
        states: dict[int, str] = {}
        while True:
            for index, node in enumerate(self._nodes):
                try:
                    states[node.port] = self.cluster_info(index).get("cluster_state", "?")
                except (OSError, RedisReplyError) as exc:
                    states[node.port] = f"unreachable ({exc})"
            if all(state == "ok" for state in states.values()):
                return
            if time.monotonic() >= deadline:
                raise RuntimeError(f"Redis Cluster did not reach cluster_state:ok: {states}")
            time.sleep(POLL_INTERVAL * 2.5)

    def stop(self) -> None:
        """Kill every node and remove its directory; safe to call twice."""
        for node in self._nodes:
            node.close()

    def __enter__(self) -> Self:
        """Return the (already running) cluster."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the cluster, whatever happened in the block."""
        self.stop()
