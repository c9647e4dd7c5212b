"""``guard policy show|set``: read or change a running guard's live policy over its API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from guard.admin.api import POLICY_PATH

TIMEOUT = 10.0


def add_parser(commands: Any) -> None:
    """Register ``policy`` on the ``guard`` subcommand parser."""
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
    policy.add_argument("--url", required=True, help="the site, e.g. http://127.0.0.1:8000")
    policy.add_argument("--token", help="the admin token (default: $GUARD_ADMIN_TOKEN)")
    policy.add_argument("--operator", help="your name, for the audit log")


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
    token = args.token or os.environ.get("GUARD_ADMIN_TOKEN")
    if not token:
        print("guard policy: no token (--token or GUARD_ADMIN_TOKEN)", file=sys.stderr)
        return 2
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
        body = json.dumps(change).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if args.operator:
        headers["X-Guard-Operator"] = args.operator
    request = urllib.request.Request(  # noqa: S310 - the operator's own URL
        args.url.rstrip("/") + POLICY_PATH,
        data=body,
        headers=headers,
        method="PUT" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:  # noqa: S310
            print(json.dumps(json.loads(reply.read()), indent=2))
            return 0
    except urllib.error.HTTPError as exc:
        print(f"guard policy: {exc.code} {_reason(exc)}", file=sys.stderr)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"guard policy: could not reach {args.url}: {exc}", file=sys.stderr)
    return 1


def _reason(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["error"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)
