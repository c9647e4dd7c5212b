"""Tests for guard.signals.discovery: records a client was shown, and records nobody showed."""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from guard.config import GuardConfig
from guard.middleware import GuardMiddleware
from guard.observe.decision_log import DecisionLog
from guard.signals.discovery import MAX_LINKS, DiscoverySignal, LinkScanner, link_pattern
from guard.testing import ManualClock, call_asgi, chrome_headers
from tests.conftest import GuardedFactory, expose

pytestmark = pytest.mark.anyio
LINK = re.compile(r'href="(/resume/\d+)"')


def scan(chunks: list[bytes], encoding: str | None = None) -> set[str]:
    pattern = link_pattern(["/resume/{id}", "/api/resumes/{id}", "/org/{org}/cv/{id}", "/s/*"])
    assert pattern is not None
    scanner = LinkScanner(pattern)
    for chunk in chunks:
        scanner.feed(chunk, encoding)
    return set(scanner.ids)


def test_links_to_record_templates_are_found_even_across_chunks() -> None:
    """Ids linked by any record template (in an href or src, a JSON value, with or without
    the origin; other parameters of a template are any value) are found, also when a link
    is split between chunks; paths that merely start like one are not."""
    body = b'<a href="/resume/100001">a</a> <a href="/api/resumes/7?x=1">b</a>'
    assert scan([body]) == {"100001", "7"}
    assert scan([body[:15], body[15:40], body[40:]]) == {"100001", "7"}
    more = b"<a href='https://jobs.example/resume/8'>" + b'{"url": "/org/acme/cv/9"}'
    assert scan([more]) == {"8", "9"}
    assert scan([b'<a href="/resumes/all">', b"/resume/ /resumes/7"]) == set()


def test_compressed_bodies_are_inflated_and_unknown_encodings_skipped() -> None:
    """gzip and deflate bodies are read; an encoding it cannot read (br) is left alone."""
    body = b'<a href="/resume/100001">a</a>' * 3
    packed = gzip.compress(body)
    assert scan([packed[:10], packed[10:]], "gzip") == {"100001"}
    assert scan([zlib.compress(body)], "deflate") == {"100001"}
    assert scan([body], "br") == set()
    assert scan([b"not gzip at all"], "gzip") == set()


def test_one_response_gives_at_most_max_links() -> None:
    """A page linking thousands of records adds at most MAX_LINKS to the ledger."""
    body = b"".join(b'<a href="/resume/%d">' % n for n in range(5000))
    assert len(scan([body])) == MAX_LINKS


def test_nothing_is_scanned_unless_a_class_shows_records() -> None:
    """With no route class marked shows_records (the library's default), discovery is off."""
    assert DiscoverySignal(GuardConfig()).pattern is None


def reasons(log: object) -> list[list[str]]:
    return [json.loads(line)["reasons"] for line in log.getvalue().splitlines()]  # type: ignore[attr-defined]


async def test_a_reader_of_listings_is_never_flagged(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """A person reading the records a listing and a search showed them meets no finding."""
    app, log = guarded(model="off")
    headers = chrome_headers()
    listing = await call_asgi(app, "/resumes?page=4", headers=headers)
    headers["cookie"] = (listing.header("set-cookie") or "").partition(";")[0]
    search = await call_asgi(app, "/search?q=sales", headers=headers)
    links = LINK.findall(listing.text) + LINK.findall(search.text)
    assert len(links) >= 20
    for link in links:
        clock.advance(9)
        await call_asgi(app, link, headers=headers)
    assert not any("undiscovered_records" in r or "enumeration" in r for r in reasons(log))


async def test_records_nobody_showed_make_a_streak_that_challenges(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """One landing is free; each further record nobody showed weighs more, and the fourth
    in a row reaches the gray threshold: a challenge, never a block."""
    app, log = guarded(model="off")
    await expose(app, [100417, 100023, 100881, 100302])  # shown to others, not to this client
    headers = chrome_headers()
    await call_asgi(app, "/static/css/site.css", headers=chrome_headers(document=False))
    statuses = []
    for record in (100417, 100023, 100881, 100302):
        clock.advance(20)
        reply = await call_asgi(app, f"/resume/{record}", headers=headers)
        headers["cookie"] = (
            headers.get("cookie") or (reply.header("set-cookie") or "").partition(";")[0]
        )
        statuses.append(reply.status)
    assert statuses == [200, 200, 200, 429]
    assert [r for r in reasons(log) if "undiscovered_records" in r]
    assert reasons(log)[-1][0] == "undiscovered_records"


async def test_walking_ids_nobody_showed_is_enumeration(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Reading ids in order that no page showed is hard evidence: it blocks with the rest."""
    app, log = guarded(model="off")
    for step in range(8):
        clock.advance(15)
        reply = await call_asgi(app, f"/resume/{100200 + step}", headers=chrome_headers())
    assert reply.status == 403
    assert "enumeration" in reasons(log)[-1]


@pytest.mark.parametrize("status_ok", [True, False])
async def test_only_served_listings_fill_the_ledger(
    guarded: GuardedFactory, status_ok: bool
) -> None:
    """What a listing shows counts only when it was served (a 404 page shows nothing)."""
    app, log = guarded(model="off")
    headers = chrome_headers()
    page = "/resumes?page=2" if status_ok else "/resumes?page=99999"
    listing = await call_asgi(app, page, headers=headers)
    assert (listing.status == 200) is status_ok
    for record in (100500, 100501, 100502):
        await call_asgi(app, f"/resume/{record}", headers=headers)
    shown_by_page_two = {int(link.rsplit("/", 1)[1]) for link in LINK.findall(listing.text)}
    assert shown_by_page_two.isdisjoint({100500, 100501, 100502})
    assert [r for r in reasons(log) if "undiscovered_records" in r]


async def test_pages_compressed_inside_the_guard_are_read(clock: ManualClock) -> None:
    """An app that gzips its own responses (GZipMiddleware inside the guard) still has its
    listing's records noted: the client reads them without a finding."""
    links = "".join(f'<a href="/item/{n}">item {n}</a>' for n in range(40))

    async def listing(_: Request) -> HTMLResponse:
        return HTMLResponse(f"<html><body>{links}</body></html>")

    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"item {request.path_params['id']}")

    inner = Starlette(
        routes=[Route("/items", listing), Route("/item/{id}", item)],
        middleware=[Middleware(GZipMiddleware, minimum_size=10)],
    )
    stream = io.StringIO()
    app = GuardMiddleware(
        inner,
        GuardConfig.from_mapping(
            {
                "secret": "x" * 32,
                "routes": {
                    "items": {"paths": ["/item/{id}"], "sensitive": True},
                    "lists": {"paths": ["/items"], "shows_records": True},
                },
            }
        ),
        decision_log=DecisionLog(stream, 0.0),
        clock=clock,
    )
    headers = {**chrome_headers(), "accept-encoding": "gzip"}
    page = await call_asgi(app, "/items", headers=headers)
    assert page.header("content-encoding") == "gzip"
    headers["cookie"] = (page.header("set-cookie") or "").partition(";")[0]
    for n in (3, 17, 29, 31, 38):
        clock.advance(6)
        reply = await call_asgi(app, f"/item/{n}", headers=headers)
        assert reply.status == 200, stream.getvalue()
    assert "undiscovered_records" not in stream.getvalue()


def test_a_record_path_echoed_outside_a_link_shows_nothing() -> None:
    """A search box repeating what was typed (or any text) does not make ids look shown."""
    echoed = b'<input name="q" value="/resume/1000 /resume/1001"> you searched /resume/1002'
    assert scan([echoed]) == set()
    assert scan([b'<a href="/search?q=/resume/1003">again</a>']) == set()


def test_a_body_of_one_link_repeated_is_cut_short() -> None:
    """A body repeating links stops being read after MAX_MATCHES links."""
    pattern = link_pattern(["/resume/{id}"])
    assert pattern is not None
    scanner = LinkScanner(pattern)
    scanner.feed(b'<a href="/resume/1">' * 100_000)
    assert list(scanner.ids) == ["1"]


async def test_reading_again_is_no_discovery(guarded: GuardedFactory, clock: ManualClock) -> None:
    """A record read is never marked as shown by the reading: reading others again does not
    reset a streak of records nobody showed (only asking for the same one again, a reload
    or the return from a challenge, is not counted twice)."""
    app, log = guarded(model="off")
    headers = chrome_headers()
    await call_asgi(app, "/static/css/site.css", headers=chrome_headers(document=False))
    statuses = []
    for record in (100417, 100417, 100023, 100417, 100881, 100023, 100302):
        clock.advance(20)
        reply = await call_asgi(app, f"/resume/{record}", headers=headers)
        headers["cookie"] = (
            headers.get("cookie") or (reply.header("set-cookie") or "").split(";")[0]
        )
        statuses.append(reply.status)
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    assert any("undiscovered_records" in r for r in reasons(log))


async def test_a_walk_clicked_from_this_site_is_no_proof(
    guarded: GuardedFactory, clock: ManualClock
) -> None:
    """Ids in order that the ledger never saw, each clicked with a Referer from this site
    (a listing the ledger lost when the person changed network), are challenged, not
    blocked; the same walk without a Referer is enumeration, and blocked."""
    app, _ = guarded(model="off")
    for referer, expected in (("http://testserver/resumes?page=3", 429), (None, 403)):
        statuses = []
        client = ("192.0.2.50", 1) if referer else ("192.0.2.80", 1)
        await call_asgi(
            app, "/static/css/site.css", headers=chrome_headers(document=False), client=client
        )
        for step in range(8):
            clock.advance(15)
            headers = chrome_headers(referer=referer)
            reply = await call_asgi(app, f"/resume/{100300 + step}", headers=headers, client=client)
            statuses.append(reply.status)
        assert statuses[-1] == expected
        assert 403 not in statuses or expected == 403
