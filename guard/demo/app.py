"""The demo job board: a bare Starlette app (no guard inside) that serves fake resumes."""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from guard.demo import pages
from guard.demo.data import ResumeStore, make_jobs
from guard.demo.session import COOKIE_NAME, SessionSigner, check_credentials, clear_cookie_header

PAGE_SIZE = 20
STATIC_DIR = Path(__file__).parent / "static"
STATIC_CACHE_CONTROL = "public, max-age=3600"
MAX_FORM_BYTES = 4096
ROBOTS_TXT = """User-agent: *
Disallow: /resume/
Disallow: /api/
Disallow: /resumes/all
Disallow: /login
"""
_NUMBER = re.compile(r"[0-9]{1,9}")


class CachedStaticFiles(StaticFiles):
    """StaticFiles that marks every file it serves as cacheable for an hour."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve ``path`` like StaticFiles and add the ``Cache-Control`` header."""
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = STATIC_CACHE_CONTROL
        return response


def _parse_number(raw: str | None) -> int | None:
    """Return ``raw`` as an int if it is a plain ASCII decimal of at most 9 digits."""
    if raw is None or not _NUMBER.fullmatch(raw):
        return None
    return int(raw)


class _DemoSite:
    """The state and endpoints of one demo app instance."""

    def __init__(self, resumes: int, seed: int, session_secret: bytes | None) -> None:
        self.store = ResumeStore(resumes, seed)
        self.jobs = make_jobs(seed)
        self.signer = SessionSigner(session_secret)
        self.pages_total = max(1, math.ceil(len(self.store) / PAGE_SIZE))

    def user(self, request: Request) -> str | None:
        """Return the signed-in employer, if the session cookie verifies."""
        return self.signer.verify(request.cookies.get(COOKIE_NAME))

    def not_found(self, request: Request, message: str) -> HTMLResponse:
        """Return the HTML 404 page with ``message``."""
        return HTMLResponse(pages.not_found_page(message, user=self.user(request)), 404)

    async def home(self, request: Request) -> Response:
        """Serve ``GET /``."""
        latest = self.store.newest(0, 5)
        return HTMLResponse(
            pages.home_page(latest, self.jobs, len(self.store), user=self.user(request))
        )

    async def resume_listing(self, request: Request) -> Response:
        """Serve ``GET /resumes?page=N`` (newest first, 404 for a bad page)."""
        raw = request.query_params.get("page")
        page = 1 if raw is None else _parse_number(raw)
        if page is None or not 1 <= page <= self.pages_total:
            return self.not_found(request, "There is no such page of resumes.")
        items = self.store.newest((page - 1) * PAGE_SIZE, PAGE_SIZE)
        return HTMLResponse(
            pages.listing_page(items, page, self.pages_total, user=self.user(request))
        )

    async def resumes_all(self, request: Request) -> Response:
        """Serve the honeypot target ``GET /resumes/all``: a harmless empty page."""
        return HTMLResponse(pages.nothing_here_page(user=self.user(request)))

    async def resume_detail(self, request: Request) -> Response:
        """Serve ``GET /resume/{id}`` with the phone number."""
        resume_id = _parse_number(request.path_params["resume_id"])
        resume = None if resume_id is None else self.store.get(resume_id)
        if resume is None:
            return self.not_found(request, "No resume with this id.")
        return HTMLResponse(pages.resume_page(resume, user=self.user(request)))

    async def resume_api(self, request: Request) -> Response:
        """Serve ``GET /api/resumes/{id}`` as JSON."""
        resume_id = _parse_number(request.path_params["resume_id"])
        resume = None if resume_id is None else self.store.get(resume_id)
        if resume is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(resume.to_json())

    async def jobs_listing(self, request: Request) -> Response:
        """Serve ``GET /jobs``."""
        return HTMLResponse(pages.jobs_page(self.jobs, user=self.user(request)))

    async def search(self, request: Request) -> Response:
        """Serve ``GET /search?q=`` (at most 20 results, no contact data)."""
        query = request.query_params.get("q", "")[:100]
        results = self.store.search(query, limit=PAGE_SIZE)
        return HTMLResponse(pages.search_page(query, results, user=self.user(request)))

    async def robots(self, _request: Request) -> Response:
        """Serve ``GET /robots.txt``."""
        return PlainTextResponse(ROBOTS_TXT)

    async def login_form(self, request: Request) -> Response:
        """Serve ``GET /login``."""
        return HTMLResponse(pages.login_page(user=self.user(request)))

    async def login(self, request: Request) -> Response:
        """Serve ``POST /login``: 303 with a signed cookie, or 401 with the form."""
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return PlainTextResponse("Request body too large", status_code=413)
        try:
            form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        except ValueError:
            return PlainTextResponse("Malformed form", status_code=400)
        username = form.get("username", [""])[0].strip()
        password = form.get("password", [""])[0]
        if not check_credentials(username, password):
            html = pages.login_page(
                user=self.user(request), error="Wrong username or password.", username=username
            )
            return HTMLResponse(html, status_code=401)
        response = RedirectResponse("/resumes", status_code=303)
        response.headers.append("set-cookie", self.signer.set_cookie_header(username))
        return response

    async def logout(self, _request: Request) -> Response:
        """Serve ``POST /logout``: clear the cookie and go home."""
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", clear_cookie_header())
        return response

    async def http_not_found(self, request: Request, exc: Exception) -> Response:
        """Answer unmatched paths: JSON under ``/api/``, an HTML page elsewhere."""
        headers = exc.headers if isinstance(exc, HTTPException) else None
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "not found"}, status_code=404, headers=headers)
        html = pages.not_found_page("This page does not exist.", user=self.user(request))
        return HTMLResponse(html, status_code=404, headers=headers)

    def routes(self) -> list[BaseRoute]:
        """Return the route table (a fixed contract that external tools drive)."""
        return [
            Route("/", self.home),
            Route("/resumes", self.resume_listing),
            Route("/resumes/all", self.resumes_all),
            Route("/resume/{resume_id}", self.resume_detail),
            Route("/api/resumes/{resume_id}", self.resume_api),
            Route("/jobs", self.jobs_listing),
            Route("/search", self.search),
            Route("/robots.txt", self.robots),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Mount("/static", app=CachedStaticFiles(directory=STATIC_DIR), name="static"),
        ]


def create_demo_app(
    resumes: int = 10000, *, seed: int = 58, session_secret: bytes | None = None
) -> Starlette:
    """Build the demo job board with ``resumes`` fake resumes generated from ``seed``.

    ``session_secret`` signs the login cookie (at least 16 bytes); a random 32-byte secret is
    used when omitted. The app contains no guard: wrap it to protect it.
    """
    site = _DemoSite(resumes, seed, session_secret)
    app = Starlette(routes=site.routes(), exception_handlers={404: site.http_not_found})
    app.state.resume_store = site.store
    return app
