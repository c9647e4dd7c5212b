"""HTML rendering for the demo job board: small f-string helpers, all dynamic text escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from guard.demo.data import Job, Resume

SITE_NAME = "58 Jobs Demo"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def layout(title: str, body: str, *, user: str | None, active: str = "") -> str:
    """Wrap ``body`` in the full page: head with CSS/JS/icon, header with logo and nav."""

    def nav_link(href: str, label: str, key: str) -> str:
        current = ' aria-current="page"' if key == active else ""
        return f'<a href="{href}"{current}>{label}</a>'

    if user is None:
        account = nav_link("/login", "Login", "login")
    else:
        account = (
            f'<span class="user">Signed in as {_e(user)}</span>'
            '<form class="logout" method="post" action="/logout">'
            '<button type="submit">Log out</button></form>'
        )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} - {SITE_NAME}</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/css/site.css">
<script src="/static/js/site.js" defer></script>
</head>
<body>
<header class="site-header">
<a class="brand" href="/"><img src="/static/img/logo.svg" alt="{SITE_NAME} logo" width="120"
 height="40"></a>
<nav class="site-nav" aria-label="Main">
{nav_link("/", "Home", "home")}
{nav_link("/resumes", "Resumes", "resumes")}
{nav_link("/jobs", "Jobs", "jobs")}
<form class="search" method="get" action="/search" role="search">
<input type="search" name="q" placeholder="Name, job or city" aria-label="Search resumes">
<button type="submit">Search</button>
</form>
{account}
</nav>
</header>
<main>
<h1>{_e(title)}</h1>
{body}
</main>
<footer class="site-footer"><p>Demo site with fake data. No real people are listed.</p></footer>
</body>
</html>
"""


def honeypot() -> str:
    """Return the trap link that no person sees or follows (hidden by the ``hp`` class)."""
    return (
        '<a class="hp" href="/resumes/all" aria-hidden="true" tabindex="-1" rel="nofollow">'
        "All resumes</a>"
    )


def resume_list(resumes: Iterable[Resume]) -> str:
    """Render resume summaries as a list linking to detail pages; never shows contact data."""
    items = [
        f'<li class="resume-card"><a href="/resume/{r.id}">{_e(r.name)}</a>'
        f'<span class="wish">{_e(r.job_wish)}</span> '
        f'<span class="meta">{_e(r.gender)}, {r.age}, {_e(r.city)}, {_e(r.education)}, '
        f"{r.years_experience} yrs</span> "
        f'<time datetime="{r.updated.isoformat()}">Updated {r.updated.isoformat()}</time></li>'
        for r in resumes
    ]
    if not items:
        return '<p class="empty">No resumes found.</p>'
    return '<ul class="resume-list">\n' + "\n".join(items) + "\n</ul>"


def _pagination(page: int, pages: int) -> str:
    links: list[str] = []
    if page > 1:
        links.append(f'<a rel="prev" href="/resumes?page={page - 1}">Previous</a>')
    for number in sorted({1, page - 1, page, page + 1, pages}):
        if 1 <= number <= pages:
            if number == page:
                links.append(f'<span class="current">{number}</span>')
            else:
                links.append(f'<a href="/resumes?page={number}">{number}</a>')
    if page < pages:
        links.append(f'<a rel="next" href="/resumes?page={page + 1}">Next</a>')
    return '<nav class="pagination" aria-label="Pages">' + " ".join(links) + "</nav>"


def home_page(latest: list[Resume], jobs: list[Job], total: int, *, user: str | None) -> str:
    """Render the home page with the newest resumes and a few jobs."""
    body = (
        f'<section class="hero"><p>{total} job seekers and {len(jobs)} open positions.</p>'
        '<p><a class="button" href="/resumes">Browse resumes</a> '
        '<a class="button" href="/jobs">See jobs</a></p></section>'
        f"<section><h2>Recently updated resumes</h2>{resume_list(latest)}{honeypot()}</section>"
        f"<section><h2>New jobs</h2>{_job_list(jobs[:5])}</section>"
    )
    return layout("Find workers and jobs", body, user=user, active="home")


def listing_page(resumes: list[Resume], page: int, pages: int, *, user: str | None) -> str:
    """Render one page of the resume listing with pagination and the honeypot."""
    body = (
        f'<p class="page-info">Page {page} of {pages}</p>'
        f"{resume_list(resumes)}{honeypot()}{_pagination(page, pages)}"
    )
    return layout("Resumes", body, user=user, active="resumes")


def resume_page(resume: Resume, *, user: str | None) -> str:
    """Render one resume including its phone number (the sensitive field)."""
    r = resume
    body = f"""<article class="resume" data-resume-id="{r.id}">
<img class="avatar" src="/static/img/avatar.svg" alt="" width="96" height="96">
<h2>{_e(r.name)}</h2>
<dl>
<dt>Phone</dt><dd><span class="phone">{_e(r.phone)}</span></dd>
<dt>Wants to work as</dt><dd>{_e(r.job_wish)}</dd>
<dt>City</dt><dd>{_e(r.city)}</dd>
<dt>Age</dt><dd>{r.age}</dd>
<dt>Gender</dt><dd>{_e(r.gender)}</dd>
<dt>Education</dt><dd>{_e(r.education)}</dd>
<dt>Experience</dt><dd>{r.years_experience} years</dd>
<dt>Updated</dt><dd><time datetime="{r.updated.isoformat()}">{r.updated.isoformat()}</time></dd>
</dl>
<p class="summary">{_e(r.summary)}</p>
</article>
<p><a href="/resumes">Back to resumes</a></p>"""
    return layout(f"Resume of {r.name}", body, user=user, active="resumes")


def _job_list(jobs: Iterable[Job]) -> str:
    items = [
        f'<li class="job" id="job-{j.id}"><h3>{_e(j.title)}</h3>'
        f'<p class="company">{_e(j.company)}, {_e(j.city)}</p>'
        f'<p class="salary">{j.salary_min}-{j.salary_max} CNY / month</p>'
        f"<p>{_e(j.description)}</p>"
        f'<time datetime="{j.posted.isoformat()}">Posted {j.posted.isoformat()}</time></li>'
        for j in jobs
    ]
    return '<ul class="job-list">\n' + "\n".join(items) + "\n</ul>"


def jobs_page(jobs: list[Job], *, user: str | None) -> str:
    """Render all job postings."""
    return layout("Jobs", _job_list(jobs), user=user, active="jobs")


def search_page(query: str, results: list[Resume], *, user: str | None) -> str:
    """Render search results (listing style, no contact data) for ``query``."""
    form = (
        '<form class="search-big" method="get" action="/search" role="search">'
        f'<input type="search" name="q" value="{_e(query)}" aria-label="Search resumes">'
        '<button type="submit">Search</button></form>'
    )
    if query.strip():
        summary = f'<p class="page-info">{len(results)} results for &ldquo;{_e(query)}&rdquo;</p>'
        body = form + summary + resume_list(results) + honeypot()
    else:
        body = form + "<p>Search by name, job or city.</p>" + honeypot()
    return layout("Search resumes", body, user=user, active="search")


def login_page(*, user: str | None, error: str = "", username: str = "") -> str:
    """Render the employer login form, with ``error`` shown when given."""
    message = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    body = f"""{message}<form class="login" method="post" action="/login">
<label>Username <input name="username" autocomplete="username" value="{_e(username)}"
 required></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
 required></label>
<button type="submit">Sign in</button>
</form>
<p class="hint">Demo accounts: employer1 to employer50, password demo-pass.</p>"""
    return layout("Employer login", body, user=user, active="login")


def nothing_here_page(*, user: str | None) -> str:
    """Render the harmless page behind the honeypot link."""
    return layout("Nothing here", "<p>There is nothing here.</p>", user=user)


def not_found_page(message: str, *, user: str | None) -> str:
    """Render a 404 page with ``message``."""
    body = f'<p>{_e(message)}</p><p><a href="/">Go to the home page</a></p>'
    return layout("Not found", body, user=user)
