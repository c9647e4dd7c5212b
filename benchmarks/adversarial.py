"""Can a client make the guard's matching slow? The worst case a request, in process.

Every case sends ``hot_path.py``'s Chrome request with one part replaced by an input built
to be slow to match: a user agent, cookie, forwarding chain, client hint, language list,
path or query of 8 or 16 KiB, shaped against the patterns that read it (unclosed device
comments, near-misses of ``crawler-user-agents``' hundreds of patterns, iOS tokens that
make a backtracking pattern try every split, thousands of list items), and the same just
under the size where the guard stops reading (a 512-character user agent: the longest it
classifies). Each request's input differs, so no cache answers for it.

For each case: microseconds a request through ``GuardMiddleware`` (``bench.toml``: every
check runs, nothing refused; the memory store), the best of several passes, and its ratio
to the plain Chrome request. Exit 1 when any case costs more than ``--limit`` times the
plain one (default 10): matching that an attacker can make 10 times dearer is a bug.

Run: ``make bench-adversarial`` or ``.venv/bin/python benchmarks/adversarial.py
[--requests N] [--limit X]``. Results go to ``benchmarks/results/adversarial.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hot_path import CHROME, CONFIG, drive, instant_app, request

from guard.demo.config import demo_config
from guard.middleware import GuardMiddleware
from guard.types import Scope

HERE = Path(__file__).resolve().parent
PASSES = 3
KIB = 1024

Build = Callable[[int], Scope]
"""The n-th request of a case (n makes each input distinct)."""


def with_header(name: str, make: Callable[[int], str]) -> Build:
    """Chrome's request with header ``name`` set to ``make(n)`` (added when absent)."""

    def build(n: int) -> Scope:
        scope = request(n % 10_000, 100_000 + n % 10_000)
        value = make(n).encode("latin-1", "replace")
        headers = [(k, v) for k, v in scope["headers"] if k != name.encode()]
        scope["headers"] = [*headers, (name.encode(), value)]
        return scope

    return build


def with_path(make: Callable[[int], str]) -> Build:
    def build(n: int) -> Scope:
        scope = request(n % 10_000, 100_000 + n % 10_000)
        path = make(n)
        return dict(scope, path=path, raw_path=path.encode())

    return build


def with_query(make: Callable[[int], str]) -> Build:
    def build(n: int) -> Scope:
        scope = request(n % 10_000, 100_000 + n % 10_000)
        return dict(scope, query_string=make(n).encode())

    return build


def many_headers(size: int) -> Build:
    """Chrome's request plus ``size`` bytes of extra headers, 40 bytes each."""

    def build(n: int) -> Scope:
        scope = request(n % 10_000, 100_000 + n % 10_000)
        extra = [(f"x-h{i}-{n}".encode(), b"v" * 30) for i in range(size // 40)]
        return dict(scope, headers=[*scope["headers"], *extra])

    return build


def repeated_header(name: str, lines: int, make: Callable[[int], str]) -> Build:
    """Chrome's request plus header ``name`` sent ``lines`` times (HTTP/2 splits cookies so)."""

    def build(n: int) -> Scope:
        scope = request(n % 10_000, 100_000 + n % 10_000)
        extra = [(name.encode(), make(n * lines + i).encode()) for i in range(lines)]
        return dict(scope, headers=[*scope["headers"], *extra])

    return build


def fill(unit: str, size: int, head: str = "", tail: str = "") -> Callable[[int], str]:
    """``head``, ``unit`` repeated to ``size`` characters, ``tail``; distinct per request."""

    def make(n: int) -> str:
        body = (unit * (size // len(unit) + 1))[: size - len(head) - len(tail) - 8]
        return f"{head}{body}{n:08d}{tail}"

    return make


MOZILLA = "Mozilla/5.0 ("
IOS = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "


def cases(agent_limit: int) -> dict[str, Build]:
    """Every adversarial case by name."""
    ua = "user-agent"
    found: dict[str, Build] = {"plain Chrome": with_header(ua, lambda n: CHROME.decode())}
    for size in (agent_limit - 12, 8 * KIB, 16 * KIB):
        label = f"{size} B" if size < KIB else f"{size // KIB} KiB"
        found |= {
            f"user agent, unclosed comments, {label}": with_header(ua, fill("(a", size, MOZILLA)),
            f"user agent, iOS splits, {label}": with_header(
                ua, fill(" OS 1_ AppleWebKit/", size, IOS)
            ),
            f"user agent, crawler near-misses, {label}": with_header(
                ua, fill("Googlebo Bingbo spide crawle ", size, MOZILLA)
            ),
            f"user agent, browser tokens, {label}": with_header(
                ua, fill("Chrome/ Version/ Safari/ Trident/1;", size, MOZILLA)
            ),
        }
    for size in (8 * KIB, 16 * KIB):
        label = f"{size // KIB} KiB"
        found |= {
            f"cookie, many pairs, {label}": with_header("cookie", fill("a=b; ", size)),
            f"cookie, one value of quotes, {label}": with_header(
                "cookie", fill('"\\', size, "guard_id=")
            ),
            f"x-forwarded-for, many hops, {label}": with_header(
                "x-forwarded-for", fill("10.0.0.1, ", size, tail=", 198.18.0.1")
            ),
            f"forwarded, many pairs, {label}": with_header(
                "forwarded", fill("for=10.0.0.1;proto=https, ", size)
            ),
            f"accept-language, many tags, {label}": with_header(
                "accept-language", fill("en-US;q=0.9,", size)
            ),
            f"accept, many types, {label}": with_header("accept", fill("text/html;q=0.9,", size)),
            f"sec-ch-ua, many brands, {label}": with_header(
                "sec-ch-ua", fill('"Chromium";v="131", ', size)
            ),
            f"referer, long, {label}": with_header("referer", fill("a/", size, "http://x/")),
            f"path, long record id, {label}": with_path(fill("1", size, "/resume/")),
            f"path, many segments, {label}": with_path(fill("/a", size)),
            f"query, many pairs, {label}": with_query(fill("a=1&", size)),
            f"headers, many names, {label}": many_headers(size),
            f"cookie, 8 lines of {label}": repeated_header("cookie", 8, fill("a=b; ", size)),
        }
    return found


async def cost(app: GuardMiddleware, scopes: Sequence[Scope]) -> float:
    """Best microseconds a request over PASSES passes (the first warms up)."""
    await drive(app, scopes[: max(len(scopes) // 4, 1)], 1)
    best = min([await drive(app, scopes, 1) for _ in range(PASSES)])
    return best / len(scopes) * 1e6


async def measure(requests: int) -> dict[str, float]:
    """Microseconds a request for every case, one guard for all (as a server would be)."""
    from guard.facts.agent import MAX_AGENT_LENGTH  # noqa: PLC0415

    app = GuardMiddleware(instant_app, demo_config({"store": "memory://"}, path=CONFIG))
    results: dict[str, float] = {}
    try:
        for name, build in cases(MAX_AGENT_LENGTH).items():
            scopes = [build(n) for n in range(requests)]
            results[name] = round(await cost(app, scopes), 1)
            print(f"{results[name]:9.1f} us  {name}", flush=True)
    finally:
        await app.guard.aclose()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every case, write the results, and fail past the limit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--limit", type=float, default=10.0)
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.requests))
    plain = results["plain Chrome"]
    worst = max(results, key=results.__getitem__)
    summary = {
        "date": time.strftime("%Y-%m-%d"),
        "requests_per_case": args.requests,
        "plain_us": plain,
        "worst_case": worst,
        "worst_us": results[worst],
        "worst_ratio": round(results[worst] / plain, 2),
        "limit": args.limit,
        "cases_us": results,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "cases_us"}, indent=2))
    (HERE / "results" / "adversarial.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["worst_ratio"] <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
