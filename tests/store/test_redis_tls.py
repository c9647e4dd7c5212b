"""rediss:// end to end: the store talks TLS to a real redis-server and verifies it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard.errors import StorageError
from guard.signals.profile import ClientProfile
from guard.store.base import RateHit, RateState, ValueGet, ValuePut
from guard.store.redis import RedisStore
from guard.testing.redis import RedisServer

pytestmark = pytest.mark.anyio
CERTS = Path(__file__).parent / "tls"
T0 = 1_800_000_000.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def tls_redis() -> Iterator[tuple[RedisServer, int]]:
    """A private server that also listens with TLS (the test CA's certificate) on a port."""
    port = _free_port()
    tls_args = (
        "--tls-port", str(port),
        "--tls-cert-file", str(CERTS / "server.pem"),
        "--tls-key-file", str(CERTS / "server.key"),
        "--tls-ca-cert-file", str(CERTS / "ca.pem"),
        "--tls-auth-clients", "no",
    )  # fmt: skip
    with RedisServer(extra_args=tls_args) as server:
        yield server, port


async def test_rediss_store_runs_its_script_over_tls(tls_redis: tuple[RedisServer, int]) -> None:
    """With the CA given, the store's batches run over TLS and their state is in Redis."""
    server, port = tls_redis
    store = RedisStore.from_url(
        f"rediss://127.0.0.1:{port}/0?timeout=1&ssl_ca_certs={CERTS / 'ca.pem'}"
    )
    try:
        rate, put, got = await store.execute(
            [
                RateHit("tls:rate", 30, 60.0),
                ValuePut("tls:profile", ClientProfile(requests=9), 60.0),
                ValueGet("tls:profile", ClientProfile),
            ],
            T0,
        )
    finally:
        await store.close()
    assert isinstance(rate, RateState)
    assert rate.remaining == 29
    assert put is None
    assert isinstance(got, ClientProfile)
    assert got.requests == 9
    assert server.command("EXISTS", "tls:profile") == "1"


async def test_rediss_refuses_a_server_it_cannot_verify(
    tls_redis: tuple[RedisServer, int],
) -> None:
    """Without the CA the certificate does not verify: the store fails, it never goes plain."""
    _, port = tls_redis
    store = RedisStore.from_url(f"rediss://127.0.0.1:{port}/0?timeout=1&connect_timeout=1")
    try:
        with pytest.raises(StorageError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
            await store.execute([RateHit("tls:unverified", 30, 60.0)], T0)
    finally:
        await store.close()
