"""``guard init``: a commented starter ``guard.toml`` for a site's own record routes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

_HEAD = """\
# guard.toml: what guard protects on this site. Start in shadow mode (judge and log,
# refuse nothing), read the decision log, then set mode = "enforce".
# `guard check-config guard.toml` shows every effective value and which are defaults;
# docs/configuration.md lists all settings. GUARD_<KEY> environment variables override.

[guard]
mode = "shadow"
# Signs guard's cookies: the same on every worker. Keep it secret (or set GUARD_SECRET
# and delete this line).
secret = {secret}
# Where state lives: memory:// for one process, redis://host:6379/0 for several workers.
store = "memory://"
# Proxies in front of the app whose X-Forwarded-For is believed (none by default).
trusted_proxies = []
# Every refusal (and challenge) as a JSON line.
decision_log = "guard-decisions.jsonl"
# Paths your pages link invisibly (display: none): only a crawler follows them.
# honeypot_paths = ["/members/all"]
# Prefixes your robots.txt disallows: a client that reads it and goes there anyway is a bot.
# robots_disallow = ["/profile/", "/api/"]
"""

_RECORDS = """
# Your records: the pages with personal data a harvester is after. {{id}} names the
# record, so budgets count distinct records. sensitive = true gives the class the library's
# per-client rate limits and harvest budgets; override any of them here.
{comment}[guard.routes.records]
{comment}paths = {paths}
{comment}sensitive = true
# budgets.ip = ["120/hour", "400/day"]
# budgets.identity = ["100/hour", "400/day"]
"""


def starter_config(record_paths: Sequence[str] = ()) -> str:
    """The text of a starter config declaring ``record_paths`` (an example, commented out,
    when there are none), with a fresh random secret."""
    paths = list(record_paths) or ["/profile/{id}", "/api/profiles/{id}"]
    return _HEAD.format(secret=json.dumps(secrets.token_urlsafe(32))) + _RECORDS.format(
        paths=json.dumps(paths), comment="" if record_paths else "# "
    )
