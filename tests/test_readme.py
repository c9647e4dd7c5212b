"""The README and docs/ stay true: their examples load and run, how-it-works quotes the real
decide(), every relative link resolves, and the README stays short."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import warnings
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from guard import Guard, Rate, load_config
from guard.testing import chrome_headers

with warnings.catch_warnings():
    # Starlette's TestClient prefers httpx2; with httpx it warns once, on import.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
GENERATED = DOCS / "configuration.md"  # written by python -m guard.config.docs; tested there
PAGES = [README, *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SCRAPER = {"user-agent": "python-requests/2.32.3"}


def blocks(page: Path, language: str) -> list[str]:
    """The fenced code blocks of one language in a Markdown page."""
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), re.DOTALL)


def test_every_toml_example_in_the_docs_loads(tmp_path: Path) -> None:
    """Each TOML block in the README and docs/ (but the generated reference) is a valid config."""
    examples = [(p, b) for p in PAGES if p != GENERATED for b in blocks(p, "toml")]
    assert len(examples) >= 3
    for number, (page, example) in enumerate(examples):
        path = tmp_path / f"example{number}.toml"
        path.write_text(example)
        try:
            load_config(path, env={})
        except Exception as exc:
            raise AssertionError(f"{page.name}: a TOML example does not load: {exc}") from exc


def test_the_getting_started_config_declares_a_record_class(tmp_path: Path) -> None:
    """The getting-started config makes /profile/{id} a sensitive class with the library's
    record limits, and the one budget it overrides."""
    (example,) = blocks(DOCS / "getting-started.md", "toml")
    path = tmp_path / "guard.toml"
    path.write_text(example)
    profiles = load_config(path, env={}).route_class("profiles")
    assert profiles.sensitive
    assert "/profile/{id}" in profiles.paths
    assert profiles.budgets["ip"] == (Rate(120, 3600.0), Rate(400, 86400.0))
    assert profiles.budgets["identity"] == (Rate(50, 3600.0), Rate(200, 86400.0))
    assert profiles.rates["ip"] == Rate(30, 60.0)


def test_the_readme_fastapi_example_serves_people_and_refuses_a_scraper() -> None:
    """The README's FastAPI example runs as written: Chrome reads /profile/1, the engine is
    app.state.guard, and a python-requests loop over /profile/{n} is refused every time."""
    example = blocks(README, "python")[0]
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    app = namespace["app"]
    assert isinstance(app, FastAPI)
    with TestClient(app, client=("198.51.100.20", 50000)) as browser:
        person = browser.get("/profile/1", headers=chrome_headers())
        assert person.status_code == 200
        assert person.json()["id"] == 1
        assert person.json()["mode"] == "enforce"
        assert isinstance(app.state.guard, Guard)
        scraper = TestClient(app, client=("203.0.113.7", 50000))
        statuses = [scraper.get(f"/profile/{n}", headers=SCRAPER).status_code for n in range(30)]
    assert statuses == [403] * 30


def test_how_it_works_quotes_the_real_decision_path() -> None:
    """docs/how-it-works.md shows Guard.decide exactly as it is in guard/engine.py."""
    assert inspect.getsource(Guard.decide) in (DOCS / "how-it-works.md").read_text()


def test_every_python_example_in_the_docs_parses() -> None:
    """Each Python block in the README and docs/ is valid Python (top-level await allowed)."""
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    for page in PAGES:
        for example in blocks(page, "python"):
            compile(textwrap.dedent(example), page.name, "exec", flags=flags)


def test_the_readme_is_under_10_kb() -> None:
    """The README stays a short front page; the rest lives in docs/."""
    assert len(README.read_bytes()) < 10_000


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a Markdown page's headings."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    """Each relative link in README.md and docs/*.md points at a file or folder that exists,
    and at a heading of it when it names one."""
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if "://" in target or target.startswith(("mailto:", "#")):
                continue
            path, _, anchor = target.partition("#")
            linked = page.parent / path
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken
