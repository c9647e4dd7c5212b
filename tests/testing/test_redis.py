"""The Redis test infrastructure itself: private servers and a cluster on free loopback ports."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard.testing import redis as redis_servers
from guard.testing.redis import (
    CLUSTER_SLOTS,
    SHARED_PORT,
    RedisClusterProcess,
    RedisServer,
    redis_server_binary,
    resp_call,
)


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    """One private server for the tests here that neither kill nor pause it."""
    with RedisServer() as private:
        yield private


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie of ours)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_server_answers_ping_on_the_port_in_its_url(server: RedisServer) -> None:
    """A new server answers PING and its URL names its own loopback port and database 0."""
    assert server.ping()
    assert resp_call(server.port, "PING") == "PONG"
    assert server.url == f"redis://127.0.0.1:{server.port}/0"


def test_server_is_ours_and_not_the_shared_one(server: RedisServer) -> None:
    """The private server is our own child process on a port other than the shared 6379."""
    assert server.port != SHARED_PORT
    fields = server.info("server")
    assert fields["tcp_port"] == str(server.port)
    assert fields["process_id"] == str(server.pid)


def test_the_shared_port_is_refused() -> None:
    """Asking for port 6379 is refused before any process starts."""
    with pytest.raises(ValueError, match="shared Redis"):
        RedisServer(port=SHARED_PORT)


def test_command_runs_admin_commands_through_redis_cli(server: RedisServer) -> None:
    """command() returns redis-cli's plain output and raises on an error reply."""
    assert server.command("SET", "test_redis_servers:cli", "value") == "OK"
    assert server.command("GET", "test_redis_servers:cli") == "value"
    assert int(server.command("MEMORY", "USAGE", "test_redis_servers:cli")) > 0
    assert "used_memory:" in server.command("INFO", "memory")
    with pytest.raises(RuntimeError, match="unknown command"):
        server.command("NO-SUCH-COMMAND")


def test_kill_then_start_reuses_the_port_and_forgets_the_data() -> None:
    """After SIGKILL the server comes back on the same port, empty: nothing is persisted."""
    with RedisServer() as private:
        port, first_pid = private.port, private.pid
        assert private.call("SET", "survivor", "1") == "OK"
        private.kill()
        assert not private.running
        assert not private.ping(timeout=0.2)
        private.start()
        assert (private.port, private.url) == (port, f"redis://127.0.0.1:{port}/0")
        assert private.pid != first_pid
        assert private.call("GET", "survivor") is None
        assert private.command("DBSIZE") == "0"
        assert not any(private.directory.glob("*.rdb"))
        assert not any(private.directory.glob("*.aof"))


def test_restart_after_graceful_stop_is_empty_too() -> None:
    """stop() shuts down without saving, so restart() brings back an empty server."""
    with RedisServer() as private:
        private.call("SET", "survivor", "1")
        private.restart()
        assert private.ping()
        assert private.call("DBSIZE") == 0


def test_pause_delays_a_raw_socket_ping() -> None:
    """pause(300) holds a PING sent over a raw socket for about 300 ms."""
    with RedisServer() as private:
        private.pause(300)
        started = time.monotonic()
        assert resp_call(private.port, "PING", timeout=5.0) == "PONG"
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 3.0


def test_close_kills_the_process_and_removes_its_directory() -> None:
    """Leaving the with block ends the process and deletes its files, even after an error."""
    private = RedisServer()
    pid, directory = private.pid, private.directory
    assert pid is not None
    assert directory.is_dir()
    with pytest.raises(KeyError), private:
        raise KeyError("the test failed")
    assert not private.running
    assert not _alive(pid)
    assert not directory.exists()
    with pytest.raises(OSError):  # noqa: PT011 - refused or reset, depending on timing
        resp_call(private.port, "PING", timeout=0.5)


def test_a_port_lost_to_a_race_moves_to_another_free_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the free port it picked is taken before it binds, a new server picks another."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken: int = squatter.getsockname()[1]
        real_free_port = redis_servers._free_port
        offers = [taken]

        def taken_first(*, cluster: bool) -> int:
            return offers.pop() if offers else real_free_port(cluster=cluster)

        monkeypatch.setattr(redis_servers, "_free_port", taken_first)
        with RedisServer() as private:
            assert private.port != taken
            assert private.ping()


def test_missing_redis_server_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without redis-server on PATH the error names the Debian package and .ci/run."""
    monkeypatch.setenv("PATH", os.fspath(tmp_path))
    expected = "redis-server not found: install Debian's redis-server package"
    with pytest.raises(RuntimeError, match=expected):
        redis_server_binary()
    with pytest.raises(RuntimeError, match=r"\.ci/run does this for CI"):
        RedisServer()


def test_cluster_of_three_masters_covers_every_slot() -> None:
    """A 3-master cluster reaches cluster_state:ok on every node with all 16384 slots assigned."""
    with RedisClusterProcess() as cluster:
        ports = [node.port for node in cluster.nodes]
        assert len(set(ports)) == 3
        assert SHARED_PORT not in ports
        assert cluster.startup_nodes == [("127.0.0.1", port) for port in ports]
        assert cluster.url == f"redis+cluster://127.0.0.1:{ports[0]}"
        for index in range(3):
            info = cluster.cluster_info(index)
            assert info["cluster_state"] == "ok"
            assert info["cluster_slots_assigned"] == str(CLUSTER_SLOTS)
            assert info["cluster_known_nodes"] == "3"
            assert info["cluster_size"] == "3"
        lines = cluster.nodes[0].command("CLUSTER", "NODES").splitlines()
        flags = [line.split()[2].split(",") for line in lines]
        assert len(flags) == 3
        assert all("master" in node_flags for node_flags in flags)
    assert not any(node.running for node in cluster.nodes)
