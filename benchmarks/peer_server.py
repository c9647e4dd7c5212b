"""The demo behind a peer's rate limiter, for ``overhead.py --modes ...,slowapi,limits``.

Each peer is set up as its documentation shows, with its Redis storage and one
moving-window limit per client, keyed like the guard's benchmark run (the first
``X-Forwarded-For`` address, which the benchmark sends for ~10,000 clients):

* ``slowapi``: ``Limiter(default_limits=[LIMIT], storage_uri=..., strategy="moving-window")``
  with its pure ASGI middleware (``SlowAPIASGIMiddleware``) and its 429 handler;
* ``limits``: a pure ASGI middleware calling ``limits``' async ``MovingWindowRateLimiter``
  on ``RedisStorage`` (through redis-py, the client guard uses too).

    python benchmarks/peer_server.py --peer slowapi|limits --redis-url URL [--limit 5/minute]
        [--host 127.0.0.1] [--port 8000] [--resumes 10000]
"""

from __future__ import annotations

import argparse
import gc
from typing import Any

import uvicorn
from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from guard.demo.app import create_demo_app
from guard.types import ASGIApp, Receive, Scope, Send

OUT_OF_REACH = "1000000000/minute"


def client_of(scope: Scope) -> str:
    """The first X-Forwarded-For address, else the peer's."""
    for name, value in scope.get("headers") or ():
        if name == b"x-forwarded-for":
            return str(bytes(value).decode("latin-1").split(",")[0].strip())
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class LimitsMiddleware:
    """One moving-window limit per client with ``limits`` on Redis, as pure ASGI."""

    def __init__(self, app: ASGIApp, redis_url: str, limit: str) -> None:
        self.app = app
        self.limit = parse(limit)
        storage = RedisStorage(
            redis_url.replace("redis://", "async+redis://", 1), implementation="redispy"
        )
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)

    async def aclose(self) -> None:
        """Close the Redis client (limits has no close of its own: its redis-py client)."""
        await self.storage.bridge.storage.aclose()  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not await self.limiter.hit(self.limit, client_of(scope)):
            await PlainTextResponse("too many requests\n", 429)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def slowapi_app(redis_url: str, limit: str, resumes: int) -> Any:
    """The demo with slowapi's limiter and middleware."""
    from slowapi import Limiter, _rate_limit_exceeded_handler  # noqa: PLC0415
    from slowapi.errors import RateLimitExceeded  # noqa: PLC0415
    from slowapi.middleware import SlowAPIASGIMiddleware  # noqa: PLC0415

    def key(request: Request) -> str:
        return client_of(request.scope)

    app = create_demo_app(resumes)
    app.state.limiter = Limiter(
        key_func=key, default_limits=[limit], storage_uri=redis_url, strategy="moving-window"
    )
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    app.add_middleware(SlowAPIASGIMiddleware)
    return app


def main() -> None:
    """Serve the demo behind the peer until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", choices=("slowapi", "limits"), required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--limit", default=OUT_OF_REACH)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--resumes", type=int, default=10_000)
    args = parser.parse_args()
    if args.peer == "slowapi":
        app: Any = slowapi_app(args.redis_url, args.limit, args.resumes)
    else:
        app = LimitsMiddleware(create_demo_app(args.resumes), args.redis_url, args.limit)
    gc.collect()
    gc.freeze()  # as guard demo does: the same footing for every mode
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
