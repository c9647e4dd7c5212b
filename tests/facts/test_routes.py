"""Tests for guard.facts.routes: path templates, record ids and the catch-all."""

from __future__ import annotations

import pytest

from guard.config import RouteClass
from guard.demo.config import demo_config
from guard.facts.routes import RouteMatcher

RECORDS = RouteClass("records", ("/resume/{id}", "/api/resumes/{id}"), sensitive=True)
PEOPLE = RouteClass("people", ("/people/{id}/contact",), sensitive=False)
STATIC = RouteClass("static", ("/static/*", "/favicon.ico"), static=True)
NESTED = RouteClass("nested", ("/org/{org}/member/{id}",), sensitive=True)


@pytest.fixture
def matcher() -> RouteMatcher:
    """A matcher over hand-built classes and no explicit catch-all."""
    return RouteMatcher([RECORDS, PEOPLE, STATIC, NESTED])


@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("/resume/123", "123"),
        ("/resume/abc-9", "abc-9"),
        ("/resume/123/", "123"),
        ("/api/resumes/77", "77"),
        ("/api/resumes/77/", "77"),
    ],
)
def test_id_template_binds_the_record(matcher: RouteMatcher, path: str, record: str) -> None:
    """`{id}` matches one path segment and becomes the record id, trailing slash or not."""
    match = matcher.match(path)
    assert match.route_class is RECORDS
    assert match.record_id == record


@pytest.mark.parametrize(
    "path", ["/resume/", "/resume", "/resume/1/2", "/resume/1//", "/x/resume/1"]
)
def test_id_template_needs_exactly_one_segment(matcher: RouteMatcher, path: str) -> None:
    """`{id}` never matches an empty segment or several segments, and matches are anchored."""
    assert matcher.match(path).route_class is not RECORDS


def test_template_reports_which_template_matched(matcher: RouteMatcher) -> None:
    """The match names the template that matched, not just the class."""
    assert matcher.match("/api/resumes/5").template == "/api/resumes/{id}"
    assert matcher.match("/resume/5").template == "/resume/{id}"


def test_record_id_only_for_sensitive_classes(matcher: RouteMatcher) -> None:
    """A non-sensitive class with `{id}` matches but names no record."""
    match = matcher.match("/people/42/contact")
    assert match.route_class is PEOPLE
    assert match.record_id is None


def test_other_parameters_are_not_the_record(matcher: RouteMatcher) -> None:
    """Only the parameter called `id` is the record; others just match a segment."""
    match = matcher.match("/org/acme/member/9")
    assert match.route_class is NESTED
    assert match.record_id == "9"


@pytest.mark.parametrize("path", ["/static/", "/static/app.css", "/static/img/logo.png"])
def test_trailing_star_matches_any_rest(matcher: RouteMatcher, path: str) -> None:
    """A trailing `*` matches everything after its prefix, including further slashes."""
    match = matcher.match(path)
    assert match.route_class is STATIC
    assert match.record_id is None


@pytest.mark.parametrize("path", ["/static", "/statics/app", "/favicon.ico.bak"])
def test_star_and_literal_templates_are_anchored(matcher: RouteMatcher, path: str) -> None:
    """Prefixes and literals match whole paths only."""
    assert matcher.match(path).route_class is not STATIC


def test_literal_template_tolerates_trailing_slash(matcher: RouteMatcher) -> None:
    """A literal template also matches with one trailing slash."""
    assert matcher.match("/favicon.ico/").route_class is STATIC


def test_template_with_trailing_slash_matches_path_without_it() -> None:
    """Slash tolerance works both ways: template '/a/{id}/' also matches '/a/1'."""
    route = RouteClass("records", ("/a/{id}/",), sensitive=True)
    match = RouteMatcher([route]).match("/a/1")
    assert match.route_class is route
    assert match.record_id == "1"


def test_template_with_trailing_slash_matches_path_with_it() -> None:
    """A template written with a trailing slash matches that exact form."""
    route = RouteClass("records", ("/a/{id}/",), sensitive=True)
    assert RouteMatcher([route]).match("/a/1/").record_id == "1"


def test_regex_metacharacters_in_templates_are_literal() -> None:
    """Dots and other regex syntax in templates match themselves only."""
    matcher = RouteMatcher([RouteClass("dot", ("/a.b",))])
    assert matcher.match("/a.b").route_class.name == "dot"
    assert matcher.match("/aXb").route_class.name == "default"


def test_catch_all_default_is_added(matcher: RouteMatcher) -> None:
    """Without a '*' class an unrestricted default class catches every other path."""
    match = matcher.match("/jobs")
    assert match.route_class.name == "default"
    assert match.route_class.paths == ("*",)
    assert match.template == "*"
    assert match.record_id is None
    assert not match.route_class.sensitive


def test_first_match_wins() -> None:
    """Classes are tried in order, so an earlier class shadows a later overlapping one."""
    early = RouteClass("early", ("/a/*",))
    late = RouteClass("late", ("/a/b",))
    assert RouteMatcher([early, late]).match("/a/b").route_class is early


def test_configured_catch_all_is_used_instead_of_builtin() -> None:
    """The config's own '*' class (with its rates) is the catch-all."""
    routes = demo_config({}).routes
    match = RouteMatcher(routes).match("/jobs?page=2")
    assert match.route_class is routes[-1]
    assert "ip" in match.route_class.rates


def test_demo_config_routes() -> None:
    """The demo's config maps record pages, API records and static assets."""
    matcher = RouteMatcher(demo_config({}).routes)
    assert matcher.match("/resume/100000").record_id == "100000"
    assert matcher.match("/api/resumes/100000").record_id == "100000"
    assert matcher.match("/static/site.css").route_class.static
    assert matcher.match("/resumes/all").route_class.name == "default"


@pytest.mark.parametrize("path", ["/\udcff", "/caf\u00e9", "", "/%2F"])
def test_odd_paths_fall_to_the_catch_all(matcher: RouteMatcher, path: str) -> None:
    """Surrogates, non-ASCII, empty and percent-looking paths are matched without error."""
    assert matcher.match(path).route_class.name == "default"


def test_path_with_newline_falls_to_the_catch_all(matcher: RouteMatcher) -> None:
    """A decoded %0A in the path still matches the catch-all."""
    assert matcher.match("/x\ny").route_class.name == "default"


def test_star_rest_may_contain_newline(matcher: RouteMatcher) -> None:
    """A trailing `*` matches a rest that contains a newline."""
    assert matcher.match("/static/a\nb.css").route_class is STATIC


@pytest.mark.parametrize(
    "path",
    [
        "/presentations/2014/deck/images/slide-12.png",
        "/assets/app.3f9a.JS",
        "/fonts/inter.woff2",
        "/media/intro.mp4",
    ],
)
def test_assets_are_recognised_by_file_type(matcher: RouteMatcher, path: str) -> None:
    """A path only the catch-all claims is a static asset when its file type is one pages
    load, wherever the site keeps it."""
    match = matcher.match(path)
    assert match.route_class is STATIC
    assert match.record_id is None


@pytest.mark.parametrize("path", ["/resume/123.png", "/people/7.css/contact"])
def test_declared_classes_win_over_file_type(matcher: RouteMatcher, path: str) -> None:
    """A record (or any declared class) whose path looks like a file stays what it is."""
    assert not matcher.match(path).route_class.static


@pytest.mark.parametrize("path", ["/report.pdf", "/feed.xml", "/index.html", "/a.png/b"])
def test_documents_are_not_assets(matcher: RouteMatcher, path: str) -> None:
    """Documents people open (PDF, HTML, feeds) and paths that only contain a dot are not."""
    assert matcher.match(path).route_class.name == "default"


@pytest.mark.parametrize(
    ("dest", "static"),
    [("image", True), ("style", True), ("font", True), ("document", False), (None, False)],
)
def test_sec_fetch_dest_marks_catch_all_assets(
    matcher: RouteMatcher, dest: str | None, static: bool
) -> None:
    """A browser's Sec-Fetch-Dest of a subresource makes a catch-all path count as an asset
    but keeps the catch-all's limits (the header is the client's word); a document or no
    header leaves it a page; a declared record never becomes one."""
    found = matcher.as_asset(matcher.match("/thumbs/42"), dest)
    assert found.route_class.static is static
    assert found.route_class.name == "default"
    assert not matcher.as_asset(matcher.match("/resume/42"), "image").route_class.static


def test_a_record_catch_all_never_becomes_an_asset() -> None:
    """A site whose catch-all is its record class keeps every path a record, whatever its
    file type or Sec-Fetch-Dest."""
    everything = RouteClass("records", ("*",), sensitive=True)
    matcher = RouteMatcher([STATIC, everything])
    for path in ("/people/7.png", "/people/7"):
        found = matcher.as_asset(matcher.match(path), "image")
        assert found.route_class is everything


def test_a_config_without_a_static_class_still_has_one_for_assets() -> None:
    """Assets get a static class even when the routes declare none."""
    matcher = RouteMatcher([RECORDS])
    assert matcher.match("/logo.svg").route_class.static
