"""Tests for the demo job board (guard.demo): routes, content contracts, data and login."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from starlette.applications import Starlette

from guard.demo.app import create_demo_app
from guard.demo.data import ResumeStore, make_jobs, make_resume
from guard.demo.draws import FIRST_RESUME_ID
from guard.demo.session import SessionSigner

pytestmark = pytest.mark.anyio

SECRET = b"0123456789abcdef0123456789abcdef"
PHONE_RE = re.compile(r"(?<![0-9])1[358][0-9]{9}(?![0-9])")
DETAIL_LINK_RE = re.compile(r'href="/resume/([0-9]+)"')
HTML_PAGES = ["/", "/resumes", "/resumes?page=2", "/resume/100000", "/jobs", "/search?q=Wang"]
HTML_PAGES += ["/login", "/resumes/all", "/no-such-page"]
ROBOTS = "User-agent: *\nDisallow: /resume/\nDisallow: /api/\nDisallow: /resumes/all\n"
ROBOTS += "Disallow: /login\n"


@pytest.fixture(scope="module")
def app() -> Starlette:
    """The demo app at its default size (10,000 resumes), shared by the module."""
    return create_demo_app(session_secret=SECRET)


@pytest.fixture(scope="module")
def small_app() -> Starlette:
    """A demo app with only 50 resumes."""
    return create_demo_app(50, session_secret=SECRET)


def client(app: Starlette, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
    """Return an in-process HTTP client for ``app``."""
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies)


async def get(app: Starlette, url: str) -> httpx.Response:
    """GET ``url`` from ``app`` with a fresh anonymous client."""
    async with client(app) as c:
        return await c.get(url)


def detail_ids(html: str) -> list[int]:
    """Return the resume ids linked from ``html``, in page order."""
    return [int(m) for m in DETAIL_LINK_RE.findall(html)]


@pytest.mark.parametrize("path", HTML_PAGES)
async def test_pages_are_full_html_with_assets(app: Starlette, path: str) -> None:
    """Every HTML page is a complete document that references the CSS, JS, logo and nav."""
    response = await get(app, path)
    html = response.text
    assert response.headers["content-type"].startswith("text/html")
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert '<meta charset="utf-8">' in html
    assert '<meta name="viewport"' in html
    assert re.search(r"<title>[^<]+</title>", html)
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert '<script src="/static/js/site.js" defer></script>' in html
    assert re.search(r'<img src="/static/img/logo.svg" alt="[^"]+"', html)
    for link in ('href="/"', 'href="/resumes"', 'href="/jobs"', 'action="/search"'):
        assert link in html
    assert 'href="/login"' in html


async def test_home_page_lists_latest_resumes(app: Starlette) -> None:
    """The home page answers 200 and links to recently updated resumes."""
    response = await get(app, "/")
    assert response.status_code == 200
    assert len(detail_ids(response.text)) == 5


async def test_listing_has_twenty_links_not_in_id_order(app: Starlette) -> None:
    """A listing page links 20 distinct resumes, not in sequential id order."""
    response = await get(app, "/resumes?page=1")
    ids = detail_ids(response.text)
    assert response.status_code == 200
    assert len(ids) == 20
    assert len(set(ids)) == 20
    assert ids != sorted(ids)
    assert ids != sorted(ids, reverse=True)
    assert all(FIRST_RESUME_ID <= i < FIRST_RESUME_ID + 10000 for i in ids)


async def test_listing_defaults_to_page_one(app: Starlette) -> None:
    """Without a page parameter the listing shows page 1 and links to page 2."""
    plain = await get(app, "/resumes")
    first = await get(app, "/resumes?page=1")
    assert detail_ids(plain.text) == detail_ids(first.text)
    assert 'href="/resumes?page=2"' in plain.text


async def test_listing_is_newest_first(app: Starlette) -> None:
    """Listing pages are ordered by updated date, newest first, across pages."""
    dates: list[str] = []
    for page in (1, 2, 250, 500):
        html = (await get(app, f"/resumes?page={page}")).text
        dates += re.findall(r'<time datetime="([0-9-]+)">', html)
    assert len(dates) == 80
    assert dates == sorted(dates, reverse=True)


async def test_listing_pages_do_not_overlap(app: Starlette) -> None:
    """Consecutive listing pages show different resumes."""
    first = detail_ids((await get(app, "/resumes?page=1")).text)
    second = detail_ids((await get(app, "/resumes?page=2")).text)
    assert not set(first) & set(second)


@pytest.mark.parametrize("path", ["/", "/resumes", "/resumes?page=7", "/search?q=Li"])
async def test_listings_have_no_phone_numbers(app: Starlette, path: str) -> None:
    """Listing-style pages never contain a phone number or a phone element."""
    response = await get(app, path)
    ids = detail_ids(response.text)
    assert ids
    assert not PHONE_RE.search(response.text)
    assert 'class="phone"' not in response.text
    for resume_id in ids:
        assert make_resume(58, resume_id).phone not in response.text


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "501", "99999999999"])
async def test_bad_listing_page_is_404(app: Starlette, page: str) -> None:
    """A malformed or out-of-range page number gives 404, never a server error."""
    response = await get(app, f"/resumes?page={page}")
    assert response.status_code == 404
    assert "<!doctype html>" in response.text


@pytest.mark.parametrize("path", ["/", "/resumes?page=3", "/search?q=Zhang", "/search"])
async def test_honeypot_link_present_and_hidden(app: Starlette, path: str) -> None:
    """Listing pages carry a trap link to /resumes/all hidden from people and assistive tech."""
    html = (await get(app, path)).text
    match = re.search(r'<a [^>]*href="/resumes/all"[^>]*>', html)
    assert match
    tag = match.group(0)
    for attribute in ('class="hp"', 'aria-hidden="true"', 'tabindex="-1"', 'rel="nofollow"'):
        assert attribute in tag
    css = (await get(app, "/static/css/site.css")).text
    assert re.search(r"\.hp\s*\{[^}]*display:\s*none", css)


async def test_honeypot_target_is_harmless(app: Starlette) -> None:
    """/resumes/all answers 200 with a page that says nothing is here and lists nobody."""
    response = await get(app, "/resumes/all")
    assert response.status_code == 200
    assert "nothing here" in response.text.lower()
    assert not detail_ids(response.text)
    assert not PHONE_RE.search(response.text)


async def test_resume_detail_contract(app: Starlette) -> None:
    """The detail page carries data-resume-id and the phone inside class="phone"."""
    response = await get(app, "/resume/100042")
    assert response.status_code == 200
    assert 'data-resume-id="100042"' in response.text
    match = re.search(r'<span class="phone">([0-9]+)</span>', response.text)
    assert match
    assert match.group(1) == make_resume(58, 100042).phone


async def test_resume_api_contract(app: Starlette) -> None:
    """The JSON API returns the same record with an int id and a string phone."""
    response = await get(app, "/api/resumes/100042")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["id"] == 100042
    assert isinstance(data["phone"], str)
    assert PHONE_RE.fullmatch(data["phone"])
    assert data == make_resume(58, 100042).to_json()
    html = (await get(app, "/resume/100042")).text
    assert f'<span class="phone">{data["phone"]}</span>' in html


@pytest.mark.parametrize("resume_id", ["99999", "110000", "0", "999999999"])
async def test_unknown_resume_is_404(app: Starlette, resume_id: str) -> None:
    """Unknown ids give 404: an HTML page for /resume/ and a JSON body for /api/."""
    page = await get(app, f"/resume/{resume_id}")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "data-resume-id" not in page.text
    api = await get(app, f"/api/resumes/{resume_id}")
    assert api.status_code == 404
    assert api.json() == {"error": "not found"}


@pytest.mark.parametrize("resume_id", ["abc", "1e5", "100000abc", "-100000", "100000.0", "%20"])
async def test_non_numeric_resume_id_is_404(app: Starlette, resume_id: str) -> None:
    """Non-numeric ids give 404 for both the HTML page and the JSON API."""
    page = await get(app, f"/resume/{resume_id}")
    assert page.status_code == 404
    api = await get(app, f"/api/resumes/{resume_id}")
    assert api.status_code == 404
    assert api.json() == {"error": "not found"}


async def test_resume_count_is_respected(small_app: Starlette) -> None:
    """With N resumes, id 100000+N-1 exists, 100000+N is 404 and pages stop at ceil(N/20)."""
    assert (await get(small_app, "/resume/100049")).status_code == 200
    assert (await get(small_app, "/resume/100050")).status_code == 404
    assert (await get(small_app, "/api/resumes/100050")).status_code == 404
    last = await get(small_app, "/resumes?page=3")
    assert len(detail_ids(last.text)) == 10
    assert (await get(small_app, "/resumes?page=4")).status_code == 404


async def test_robots_txt(app: Starlette) -> None:
    """robots.txt is plain text disallowing the resume, API, honeypot and login paths."""
    response = await get(app, "/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == ROBOTS


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/css/site.css", "text/css"),
        ("/static/js/site.js", "javascript"),
        ("/static/img/logo.svg", "image/svg+xml"),
        ("/static/img/avatar.svg", "image/svg+xml"),
        ("/static/img/favicon.svg", "image/svg+xml"),
    ],
)
async def test_static_files_are_cacheable(app: Starlette, path: str, content_type: str) -> None:
    """Static assets are served with their type and a one-hour public Cache-Control."""
    response = await get(app, path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.content


async def test_missing_static_file_is_404(app: Starlette) -> None:
    """A missing static file gives 404."""
    assert (await get(app, "/static/css/missing.css")).status_code == 404


async def test_jobs_page_lists_postings(app: Starlette) -> None:
    """/jobs shows the 50 generated job postings."""
    response = await get(app, "/jobs")
    assert response.status_code == 200
    assert response.text.count('<li class="job"') == 50


async def test_search_finds_matches_up_to_twenty(app: Starlette) -> None:
    """Search returns at most 20 matching resumes by name, job wish or city."""
    response = await get(app, "/search?q=beijing")
    ids = detail_ids(response.text)
    assert response.status_code == 200
    assert len(ids) == 20
    assert all(make_resume(58, i).city == "Beijing" for i in ids)
    electricians = detail_ids((await get(app, "/search?q=Electrician")).text)
    assert electricians
    assert all(make_resume(58, i).job_wish == "Electrician" for i in electricians)


async def test_search_escapes_query(app: Starlette) -> None:
    """The search query is HTML-escaped when echoed back."""
    response = await get(app, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)" in response.text


async def test_login_form(app: Starlette) -> None:
    """GET /login shows a form posting username and password."""
    response = await get(app, "/login")
    assert response.status_code == 200
    assert '<form class="login" method="post" action="/login">' in response.text
    assert 'name="username"' in response.text
    assert 'name="password" type="password"' in response.text


async def test_login_success_sets_verifying_cookie(app: Starlette) -> None:
    """Good credentials redirect to /resumes with a signed HttpOnly cookie that signs in."""
    async with client(app) as c:
        form = {"username": "employer7", "password": "demo-pass"}
        response = await c.post("/login", data=form)
        assert response.status_code == 303
        assert response.headers["location"] == "/resumes"
        set_cookie = response.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=Lax", "Path=/"):
            assert attribute in set_cookie
        assert SessionSigner(SECRET).verify(c.cookies["session"]) == "employer7"
        page = await c.get("/resumes")
    assert "Signed in as employer7" in page.text


@pytest.mark.parametrize(
    "form",
    [
        {"username": "employer7", "password": "wrong"},
        {"username": "employer51", "password": "demo-pass"},
        {"username": "admin", "password": "demo-pass"},
        {"username": "", "password": ""},
        {},
    ],
)
async def test_login_failure_is_401(app: Starlette, form: dict[str, str]) -> None:
    """Bad or missing credentials give 401 with the form, an error and no cookie."""
    async with client(app) as c:
        response = await c.post("/login", data=form)
    assert response.status_code == 401
    assert 'action="/login"' in response.text
    assert 'class="error"' in response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("cookie", ["employer1.deadbeef", "employer1", "employer1.", ".abc"])
async def test_forged_cookie_is_ignored(app: Starlette, cookie: str) -> None:
    """A session cookie without a valid signature does not sign anyone in."""
    async with client(app, cookies={"session": cookie}) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert "Signed in as" not in response.text


async def test_cookie_from_other_secret_is_ignored(app: Starlette) -> None:
    """A cookie signed with another app's secret does not verify."""
    forged = SessionSigner(b"another-secret-of-32-bytes-long!").sign("employer1")
    async with client(app, cookies={"session": forged}) as c:
        response = await c.get("/")
    assert "Signed in as" not in response.text


async def test_logout_clears_cookie(app: Starlette) -> None:
    """POST /logout redirects home and removes the session cookie."""
    async with client(app) as c:
        await c.post("/login", data={"username": "employer2", "password": "demo-pass"})
        response = await c.post("/logout")
        assert response.status_code == 303
        assert "Max-Age=0" in response.headers["set-cookie"]
        page = await c.get("/")
    assert "Signed in as" not in page.text


async def test_same_seed_gives_same_data() -> None:
    """Two apps with the same seed serve identical records; another seed differs."""
    one = (await get(create_demo_app(100, seed=7), "/api/resumes/100021")).json()
    two = (await get(create_demo_app(100, seed=7), "/api/resumes/100021")).json()
    other = (await get(create_demo_app(100, seed=8), "/api/resumes/100021")).json()
    assert one == two
    assert one != other
    assert make_resume(7, 100021) == make_resume(7, 100021)
    assert make_jobs(7) == make_jobs(7)


def test_generated_records_look_right() -> None:
    """Records have fake Chinese mobile numbers, plausible ages and matching ids."""
    store = ResumeStore(300, seed=58)
    records = [store.get(FIRST_RESUME_ID + i) for i in range(300)]
    assert all(r is not None for r in records)
    for i, resume in enumerate(r for r in records if r is not None):
        assert resume.id == FIRST_RESUME_ID + i
        assert re.fullmatch(r"1[358][0-9]{9}", resume.phone)
        assert 18 <= resume.age <= 58
        assert 0 <= resume.years_experience <= resume.age - 18
    assert len({r.phone for r in records if r is not None}) == 300
    assert store.get(FIRST_RESUME_ID - 1) is None
    assert store.get(FIRST_RESUME_ID + 300) is None


def test_ten_thousand_resumes_build_quickly() -> None:
    """Building the default 10,000-resume app takes well under half a second."""
    start = time.perf_counter()
    create_demo_app(10000)
    assert time.perf_counter() - start < 0.5


def test_invalid_arguments_are_rejected() -> None:
    """A negative resume count or a too-short session secret raises ValueError."""
    with pytest.raises(ValueError, match="negative"):
        create_demo_app(-1)
    with pytest.raises(ValueError, match="16 bytes"):
        create_demo_app(10, session_secret=b"short")
