"""Helpers for testing apps behind the guard: a manual clock, browser headers, a live server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

from guard.facts.agent import classify_agent
from guard.types import ASGIApp, Message, Scope

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


_HINT_PLATFORM = {
    "windows": "Windows",
    "macos": "macOS",
    "linux": "Linux",
    "android": "Android",
    "chromeos": "Chrome OS",
}


class ManualClock:
    """A clock that moves only when told: pass it as ``GuardMiddleware(..., clock=clock)``."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        with self._lock:
            self.now += seconds


def chrome_headers(
    user_agent: str = CHROME_UA,
    *,
    document: bool = True,
    language: str = "en-US,en;q=0.9",
    referer: str | None = None,
) -> dict[str, str]:
    """The headers Chrome sends for a page navigation (or, if not, a subresource).

    The client hints agree with ``user_agent`` (version, platform, mobile), as a real
    Chromium's do. A navigation with a ``referer`` is a click within the site
    (``sec-fetch-site: same-origin``); without one it is a typed URL or bookmark (``none``).
    """
    agent = classify_agent(user_agent)
    version = agent.major or 131
    brand = "Microsoft Edge" if agent.family == "edge" else "Google Chrome"
    headers = {
        "sec-ch-ua": f'"{brand}";v="{version}", "Chromium";v="{version}", "Not_A Brand";v="24"',
        "sec-ch-ua-mobile": "?1" if agent.mobile else "?0",
        "sec-ch-ua-platform": f'"{_HINT_PLATFORM.get(agent.platform or "", "Windows")}"',
        "user-agent": user_agent,
        "accept-encoding": "gzip, deflate, br, zstd",
        "accept-language": language,
    }
    if document:
        headers |= {
            "upgrade-insecure-requests": "1",
            "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
            "image/webp,image/apng,*/*;q=0.8",
            "sec-fetch-site": "same-origin" if referer else "none",
            "sec-fetch-mode": "navigate",
            "sec-fetch-user": "?1",
            "sec-fetch-dest": "document",
        }
    else:
        headers |= {
            "accept": "*/*",
            "sec-fetch-site": "same-origin",
            "sec-fetch-mode": "no-cors",
            "sec-fetch-dest": "script",
        }
    if referer:
        headers["referer"] = referer
    return headers


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def live_server(app: ASGIApp, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a real uvicorn in a background thread; yields its base URL.

    Requires uvicorn (the ``demo`` or ``dev`` extra).
    """
    import uvicorn  # noqa: PLC0415 - optional dependency

    port = free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Reply:
    """A response captured from an ASGI app: status, headers (lower-case names) and body."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.body = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, or None."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", "replace")


async def call_asgi(
    app: ASGIApp,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | list[tuple[bytes, bytes]] | None = None,
    client: tuple[str, int] | None = ("198.51.100.1", 50000),
    scheme: str = "http",
    body: bytes = b"",
) -> Reply:
    """Send one HTTP request straight into an ASGI app, with full control of the scope.

    ``headers`` may be raw byte pairs to test malformed input; ``client=None`` sends no
    peer address at all.
    """
    raw = (
        headers
        if isinstance(headers, list)
        else [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]
    )
    if not any(k == b"host" for k, _ in raw):
        raw = [(b"host", b"testserver"), *raw]
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": client,
        "server": ("testserver", 80),
    }
    if "?" in path:
        scope["path"], _, query = path.partition("?")
        scope["query_string"] = query.encode()
    reply = Reply()
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            reply.status = int(message["status"])
            reply.headers = [
                (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            reply.body += bytes(message.get("body", b""))

    await app(scope, receive, send)
    return reply


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan: startup on entry, shutdown on exit (as a server would,
    so that ``app.state.guard`` is published and closed)."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    inbox.put_nowait({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def run() -> None:
        await app(scope, inbox.get, outbox.put)

    task = asyncio.create_task(run())
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task
