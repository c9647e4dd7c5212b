"""``guard policy show|set`` and ``guard forget``: a running guard's admin API from the
command line (the live policy; erasing one person's state)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from guard.admin.api import POLICY_PATH
from guard.admin.erasure import FORGET_PATH

TIMEOUT = 10.0


def add_parser(commands: Any) -> None:
    """Register ``policy`` and ``forget`` on the ``guard`` subcommand parser."""
    policy = commands.add_parser(
        "policy",
        help="show or change a running guard's live policy (on every worker)",
        description="Read or change the live policy of a running guard through "
        f"{POLICY_PATH}. The token comes from --token or GUARD_ADMIN_TOKEN.",
    )
    policy.add_argument("action", choices=("show", "set"))
    policy.add_argument(
        "changes",
        nargs="*",
        metavar="NAME=VALUE",
        help="mode=shadow, thresholds.gray=0.5, thresholds.gray_action=throttle, "
        "weights.no_cookies=0.3 (weights.NAME=none drops one), shadow=model,campaign "
        "(shadow= for none)",
    )
    _add_site(policy)
    forget = commands.add_parser(
        "forget",
        help="erase what a running guard holds about one person (an erasure request)",
        description=f"Delete one person's state in a running guard through {FORGET_PATH}: "
        "the keys of their address, of their profiles (address and user agent) and of their "
        "identity. The token comes from --token or GUARD_ADMIN_TOKEN.",
    )
    forget.add_argument("--ip", help="the person's address")
    forget.add_argument(
        "--user-agent",
        action="append",
        default=[],
        dest="user_agents",
        help="a user agent they used (with --ip; repeat for several)",
    )
    forget.add_argument("--identity", help="their session id or API key, as the guard reads it")
    _add_site(forget)


def _add_site(parser: Any) -> None:
    parser.add_argument("--url", required=True, help="the site, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="the admin token (default: $GUARD_ADMIN_TOKEN)")
    parser.add_argument("--operator", help="your name, for the audit log")


def parse_changes(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` items as a partial policy document.

    Raises:
        ValueError: an item is not ``mode=...``, ``shadow=...``, ``thresholds.KEY=...`` or
            ``weights.REASON=...``.
    """
    change: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        section, dot, key = name.partition(".")
        flat = section in {"mode", "shadow"}
        if not sep or flat == bool(dot):
            raise ValueError(f"expected mode=VALUE or SECTION.KEY=VALUE, got {item!r}")
        if section == "mode":
            change["mode"] = value
        elif section == "shadow":
            change["shadow"] = [reason.strip() for reason in value.split(",") if reason.strip()]
        elif section in {"thresholds", "weights"}:
            change.setdefault(section, {})[key] = _value(value)
        else:
            raise ValueError(
                f"unknown setting {name!r}: use mode, shadow, thresholds.* or weights.*"
            )
    return change


def _value(text: str) -> Any:
    if text.lower() in {"none", "null"}:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def run_policy(args: argparse.Namespace) -> int:
    """Show the policy, or send the change; print the policy the guard answers with."""
    body = None
    if args.action == "set":
        try:
            change = parse_changes(args.changes)
        except ValueError as exc:
            print(f"guard policy: {exc}", file=sys.stderr)
            return 2
        if not change:
            print("guard policy: set needs at least one NAME=VALUE", file=sys.stderr)
            return 2
        body = change
    return _call("policy", args, POLICY_PATH, body, "PUT" if body is not None else "GET")


def run_forget(args: argparse.Namespace) -> int:
    """Ask the guard to forget one person; print how many keys of each kind went."""
    if args.ip is None and args.identity is None:
        print("guard forget: give --ip, --identity or both", file=sys.stderr)
        return 2
    person: dict[str, Any] = {"ip": args.ip, "user_agents": args.user_agents}
    if args.identity is not None:
        person["identity"] = args.identity
    return _call("forget", args, FORGET_PATH, person, "POST")


def _call(name: str, args: argparse.Namespace, path: str, body: Any, method: str) -> int:
    """One authorised request to the admin API; print its JSON answer (0) or why not (1, 2)."""
    token = args.token or os.environ.get("GUARD_ADMIN_TOKEN")
    if not token:
        print(f"guard {name}: no token (--token or GUARD_ADMIN_TOKEN)", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if args.operator:
        headers["X-Guard-Operator"] = args.operator
    request = urllib.request.Request(  # noqa: S310 - the operator's own URL
        args.url.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:  # noqa: S310
            print(json.dumps(json.loads(reply.read()), indent=2))
            return 0
    except urllib.error.HTTPError as exc:
        print(f"guard {name}: {exc.code} {_reason(exc)}", file=sys.stderr)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"guard {name}: could not reach {args.url}: {exc}", file=sys.stderr)
    return 1


def _reason(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["error"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)
