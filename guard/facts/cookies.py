"""The Cookie header as a name -> value map, in time linear in its length.

Starlette's ``cookie_parser`` unquotes values with ``http.cookies._unquote``, which takes
time quadratic in a quoted value full of backslashes on Python before 3.11.10 and 3.12.6
(CVE-2024-7592): one 8 KiB cookie cost 100 ms of CPU a request here. The guard only needs
its own cookies and a session id, none of which holds escapes, so it reads values as
browsers send them (RFC 6265: an optional pair of double quotes around the value, no
escapes).
"""

from __future__ import annotations


def parse_cookies(header: str) -> dict[str, str]:
    """The cookies of a ``Cookie`` header; the last of a repeated name wins, as in Starlette.

    A pair without ``=`` is a value with an empty name (as browsers send
    ``document.cookie = "value"``); surrounding double quotes are dropped, nothing else is
    unescaped.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            name, value = "", name
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name or value:
            cookies[name] = value
    return cookies
