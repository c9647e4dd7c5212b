"""Access-log lines for replay tests, written as nginx writes the combined format."""

from __future__ import annotations

from guard.learn.accesslog import format_combined
from guard.learn.events import Event

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
START = 1_800_000_000.0


def line(
    ip: str,
    path: str,
    t: float,
    *,
    agent: str = CHROME,
    status: int = 200,
    referer: str = "-",
) -> str:
    """One combined-format line: ``ip`` asked for ``path`` at ``START + t``."""
    target, _, query = path.partition("?")
    headers = (("user-agent", agent),) + ((("referer", referer),) if referer != "-" else ())
    event = Event(START + t, ip, "GET", target, query, headers, status, "", "", False)
    return format_combined(event) + "\n"


def person(ip: str, t: float, records: range) -> list[str]:
    """A person in a browser: the listing with its assets, then records at a reading pace,
    each referred by the listing and loading the page's stylesheet."""
    lines = [line(ip, "/resumes", t), line(ip, "/static/site.css", t + 0.2, referer="/resumes")]
    for n, record in enumerate(records, 1):
        lines.append(line(ip, f"/resume/{record}", t + 25 * n, referer="http://site/resumes"))
        lines.append(line(ip, "/static/site.css", t + 25 * n + 0.2, referer="/resume"))
    return lines


def scraper(ip: str, t: float, records: range, agent: str = "python-requests/2.32.3") -> list[str]:
    """A script walking record ids a second apart."""
    return [line(ip, f"/resume/{r}", t + i, agent=agent) for i, r in enumerate(records)]
