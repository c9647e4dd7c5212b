"""A page as a person sees it: the links to click, the assets a browser loads, its kind."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from guard.testing.people.headers import Dest


class Links(HTMLParser):
    """The links a person can see on a page, and the assets a browser loads for it."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.assets: list[tuple[str, Dest]] = []
        self.icons: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        rel = found.get("rel", "").split()
        if tag == "a" and found.get("href", "").startswith("/"):
            if found.get("aria-hidden") != "true":  # hidden from people: never clicked
                self.links.append(found["href"])
        elif tag == "link" and "stylesheet" in rel and found.get("href"):
            self.assets.append((found["href"], "style"))
        elif tag == "link" and "icon" in rel and found.get("href"):
            self.icons.append(found["href"])  # browsers ask for the icon after the page
        elif tag == "script" and found.get("src"):
            self.assets.append((found["src"], "script"))
        elif tag == "img" and found.get("src"):
            self.assets.append((found["src"], "image"))


_KINDS = (
    ("/resumes", "listing"), ("/resume/", "record"), ("/search", "search"), ("/jobs", "jobs"),
    ("/login", "login"),
)  # fmt: skip


@dataclass
class Page:
    """A page a person has seen: where it is and the links on it."""

    url: str
    path: str
    links: list[str]

    @property
    def kind(self) -> str:
        path = self.path.split("?")[0]
        if path == "/":
            return "home"
        return next((kind for prefix, kind in _KINDS if path.startswith(prefix)), "other")

    def records(self) -> list[str]:
        return [link for link in self.links if link.startswith("/resume/")]
