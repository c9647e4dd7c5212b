"""What a test Redis ran, from ``INFO commandstats``."""

from __future__ import annotations

import re

from guard.testing.redis import RedisServer


def command_calls(server: RedisServer, command: str) -> int:
    """How many times ``command`` ran since the last CONFIG RESETSTAT (inside scripts too)."""
    found = re.search(rf"cmdstat_{command}:calls=(\d+)", server.command("INFO", "commandstats"))
    return int(found.group(1)) if found else 0


def evalsha_calls(server: RedisServer) -> int:
    """Script calls since the last CONFIG RESETSTAT."""
    return command_calls(server, "evalsha")
