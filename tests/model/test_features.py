"""Tests for guard.model.features: the feature vector of real facts over a real profile."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping

import pytest

from guard.demo.config import demo_config
from guard.facts import FactExtractor, Facts
from guard.model.features import FEATURES, INDEX, features
from guard.policy import Policy
from guard.signals.base import Report
from guard.signals.behaviour import PROFILE, BehaviourSignal
from guard.signals.profile import ClientProfile
from guard.signing import Signer
from guard.testing import chrome_headers

NOW = 1_800_000_000.0  # 08:00 UTC: daytime on the site's clock
HOST = "jobs.example"
CONFIG = demo_config({})
SIGNER = Signer(b"0123456789abcdef0123456789abcdef", max_age=3600.0)
EXTRACTOR = FactExtractor(CONFIG, SIGNER)
UA_FLAGS = ("ua_browser", "ua_declared_bot", "ua_automation", "ua_other")


class Client:
    """One client walking the site: each request is extracted from a scope and observed by
    the real BehaviourSignal, as the middleware does."""

    def __init__(
        self, headers: Mapping[str, str] | None = None, cookies_tracked: bool = True
    ) -> None:
        self.headers = dict(chrome_headers() if headers is None else headers)
        self.signal = BehaviourSignal(
            CONFIG.key_prefix,
            CONFIG.honeypot_paths,
            CONFIG.robots_disallow,
            Policy("enforce" if cookies_tracked else "shadow"),
        )
        self.cookies_tracked = cookies_tracked
        self.profile: ClientProfile | None = None
        self.now = NOW

    def get(
        self, path: str, after: float = 5.0, method: str = "GET", **extra: str
    ) -> tuple[Facts, ClientProfile, Report]:
        """Request ``path`` ``after`` seconds past the previous request, with ``extra``
        headers."""
        if self.profile is not None:
            self.now += after
        headers = {"host": HOST, **self.headers, **extra}
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "scheme": "https",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
            "client": ("203.0.113.5", 50000),
        }
        facts = EXTRACTOR.extract(scope, self.now)
        report = Report()
        self.signal.judge(facts, [self.profile], report)
        profile = report.read(PROFILE)
        assert profile is not None
        self.profile = profile
        return facts, profile, report

    def vector(
        self, path: str, after: float = 5.0, method: str = "GET", **extra: str
    ) -> dict[str, float]:
        """Request ``path`` and return its features by name."""
        facts, profile, report = self.get(path, after, method, **extra)
        values = features(facts, profile, report, self.cookies_tracked)
        return dict(zip(FEATURES, values, strict=True))


def test_fresh_client_vector_is_complete_and_finite() -> None:
    """A first request gives one finite value per feature, in FEATURES order."""
    facts, profile, report = Client().get("/")
    vector = features(facts, profile, report)
    assert len(vector) == len(FEATURES) == len(INDEX)
    assert all(math.isfinite(value) for value in vector)
    assert vector[INDEX["requests_log"]] == pytest.approx(math.log1p(1))
    assert vector[INDEX["pages_log"]] == pytest.approx(math.log1p(1))
    assert vector[INDEX["age_log"]] == 0.0
    assert vector[INDEX["ua_browser"]] == 1.0


def test_a_sequential_reader_without_assets_or_referrers() -> None:
    """Ten consecutive records with no assets and no Referer: all records, all sequential,
    no statics, every page without a referrer."""
    client = Client()
    for offset in range(10):
        vector = client.vector(f"/resume/{100001 + offset}")
    assert vector["record_share"] == 1.0
    assert vector["sequential_share"] == 1.0
    assert vector["statics_per_page"] == 0.0
    assert vector["empty_referrer_share"] == 1.0
    assert vector["site_referrer_share"] == 0.0
    assert vector["is_record"] == 1.0
    assert vector["referred_now"] == 0.0
    assert vector["pages_log"] == pytest.approx(math.log1p(10))
    assert vector["age_log"] == pytest.approx(math.log1p(45.0))


def test_a_browsing_person_with_assets_and_referrers() -> None:
    """Listing pages with assets and same-site referrers: few records, no sequence,
    two assets per page, referrers from this site."""
    client = Client()
    asset = chrome_headers(document=False)
    for page in ("/resumes", "/resume/100417", "/jobs", "/resume/100023"):
        vector = client.vector(page, 7.0, referer=f"https://{HOST}/resumes")
        for name in ("/static/css/site.css", "/static/js/site.js"):
            client.headers, page_headers = asset, client.headers
            client.get(name, 0.2)
            client.headers = page_headers
    assert vector["record_share"] == 0.5
    assert vector["sequential_share"] == 0.0
    assert vector["statics_per_page"] == pytest.approx(6 / 4)  # asked before the last 2
    assert vector["empty_referrer_share"] == 0.0
    assert vector["site_referrer_share"] == 1.0
    assert vector["referred_now"] == 1.0


@pytest.mark.parametrize(
    ("user_agent", "flag"),
    [
        (chrome_headers()["user-agent"], "ua_browser"),
        ("python-requests/2.32.3", "ua_automation"),
        ("curl/8.5.0", "ua_automation"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "ua_declared_bot"),
        ("", "ua_other"),
        ("zzz", "ua_other"),
    ],
)
def test_user_agent_class_sets_exactly_one_flag(user_agent: str, flag: str) -> None:
    """The user-agent features are one-hot: the agent's class is 1, the others 0."""
    headers = {"user-agent": user_agent, "accept": "*/*"}
    vector = Client(headers).vector("/")
    assert {name: vector[name] for name in UA_FLAGS} == {
        name: float(name == flag) for name in UA_FLAGS
    }


def test_header_anomaly_is_the_strongest_header_finding() -> None:
    """header_anomaly is the largest weight among header findings, ignoring other findings."""
    facts, profile, report = Client().get("/")
    assert features(facts, profile, report)[INDEX["header_anomaly"]] == 0.0
    report.add("sequential_ids", 0.9)
    report.add("ua_hints_mismatch:version", 0.55)
    report.add("no_fetch_metadata", 0.3)
    assert features(facts, profile, report)[INDEX["header_anomaly"]] == 0.55
    report.add("browser_headers_missing:accept", 0.7)
    assert features(facts, profile, report)[INDEX["header_anomaly"]] == 0.7


def test_untracked_cookies_are_neutral() -> None:
    """When the guard sets no cookie, the cookie features say the client kept it."""
    client = Client(cookies_tracked=False)
    first = client.vector("/")
    later = [client.vector(f"/resume/{100001 + n}") for n in range(4)]
    assert first["cookie_share"] == 1.0
    assert first["cookie_now"] == 0.0
    assert all(v["cookie_share"] == 1.0 and v["cookie_now"] == 1.0 for v in later)


def test_tracked_cookies_count_returns() -> None:
    """With cookies tracked, a client that never returns one scores 0; one that returns a
    valid cookie on every later request scores 1."""
    dropper = Client()
    for n in range(4):
        dropper_vector = dropper.vector(f"/resume/{100001 + n}")
    assert dropper_vector["cookie_share"] == 0.0
    assert dropper_vector["cookie_now"] == 0.0
    keeper = Client()
    keeper.vector("/")
    cookie = f"{CONFIG.tracking_cookie}={SIGNER.issue(keeper.now)}"
    for n in range(3):
        keeper_vector = keeper.vector(f"/resume/{100001 + n}", cookie=cookie)
    assert keeper_vector["cookie_share"] == 1.0
    assert keeper_vector["cookie_now"] == 1.0


def test_gap_features_wait_for_enough_pages() -> None:
    """Gap mean and minimum are -1 before the second page, the CV before the third."""
    client = Client()
    first = client.vector("/resumes")
    assert (first["gap_mean_log"], first["gap_cv"], first["gap_min_log"]) == (-1.0, -1.0, -1.0)
    second = client.vector("/jobs", 4.0)
    assert second["gap_mean_log"] == pytest.approx(math.log1p(4.0))
    assert second["gap_min_log"] == pytest.approx(math.log1p(4.0))
    assert second["gap_cv"] == -1.0
    third = client.vector("/search", 8.0)
    assert third["gap_mean_log"] == pytest.approx(math.log1p(6.0))
    assert third["gap_min_log"] == pytest.approx(math.log1p(4.0))
    assert third["gap_cv"] == pytest.approx(statistics.stdev([4.0, 8.0]) / 6.0)


def test_static_assets_do_not_count_as_gaps() -> None:
    """Assets between pages change the request count but not the page gaps."""
    client = Client()
    client.get("/")
    client.get("/static/css/site.css", 0.5)
    vector = client.vector("/jobs", 3.5)
    assert vector["gap_mean_log"] == pytest.approx(math.log1p(4.0))
    assert vector["requests_log"] == pytest.approx(math.log1p(3))
    assert vector["pages_log"] == pytest.approx(math.log1p(2))


def test_regular_and_bursty_gaps_cap_the_cv() -> None:
    """A metronome has CV 0; wildly uneven gaps are capped at 5."""
    metronome = Client()
    for n in range(6):
        regular = metronome.vector(f"/resume/{100001 + n}", 2.0)
    assert regular["gap_cv"] == pytest.approx(0.0, abs=1e-12)
    bursty = Client()
    bursty.vector("/")
    for n in range(60):
        bursty.vector("/jobs" if n % 2 else "/resumes", 0.0)  # other pages: no reloads
    uneven = bursty.vector("/jobs", 10_000.0)
    assert uneven["gap_cv"] == 5.0


def test_robots_honeypot_head_and_api_requests() -> None:
    """Fetching robots.txt and the honeypot set their flags; HEAD and JSON requests count."""
    client = Client()
    assert client.vector("/")["robots_fetched"] == 0.0
    client.get("/robots.txt")
    client.get("/api/resumes/100001", accept="application/json")
    client.get("/jobs", method="HEAD")
    vector = client.vector("/resumes/all")
    assert vector["robots_fetched"] == 1.0
    assert vector["honeypot_hit"] == 1.0
    assert vector["api_share"] == pytest.approx(1 / 5)
    assert vector["head_share"] == pytest.approx(1 / 5)
