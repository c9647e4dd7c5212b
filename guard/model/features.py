"""The feature spec: one list of behaviour features, computed by one function.

The middleware calls :func:`features` on every scored request, and the training pipeline
calls the same function on simulated or logged traffic replayed through the same fact
extraction and profile updates, so a model sees in service exactly what it learned from.
The set follows the session features of the bot-detection literature (Stevanovic et al.'s
SMART set): volume, rate and timing, what kinds of pages are read and in what order,
whether assets and cookies are fetched and kept, errors, robots.txt and honeypot, night
activity, referrers, HEAD requests, the user-agent class and header anomalies.
"""

from __future__ import annotations

import math

from guard.facts import Facts
from guard.signals.base import Report
from guard.signals.behaviour import referrer_kind
from guard.signals.profile import REFERRER_SITE, ClientProfile

FEATURES: tuple[str, ...] = (
    "requests_log",  # log(1 + requests)
    "pages_log",  # log(1 + page requests), pages being everything but static assets
    "age_log",  # log(1 + seconds since the client's first request)
    "rate_10s",  # pages in about the last 10 s (exponentially decaying count)
    "rate_5m",  # pages in about the last 5 minutes
    "gap_mean_log",  # log(1 + mean seconds between pages); -1 before the second page
    "gap_cv",  # coefficient of variation of those gaps (capped at 5); -1 before the third
    "gap_min_log",  # log(1 + smallest gap); -1 before the second page
    "distinct_path_share",  # distinct paths / pages
    "record_share",  # sensitive records / pages
    "sequential_share",  # record-to-record steps of 1-3 ids / (records - 1)
    "statics_per_page",  # static assets / pages (browsers cache, so it falls over a visit)
    "cookie_share",  # requests that returned the guard cookie / (requests - 1)
    "error_share",  # 4xx responses / requests
    "robots_fetched",  # 1 if it fetched /robots.txt
    "honeypot_hit",  # 1 if it followed an invisible link
    "night_share",  # pages between 00:00 and 06:00 on the site's clock / pages
    "empty_referrer_share",  # pages without a Referer / pages
    "site_referrer_share",  # pages referred by this site / pages
    "head_share",  # HEAD requests / requests
    "api_share",  # JSON requests / requests
    "ua_browser",  # the UA names a browser
    "ua_declared_bot",  # the UA declares a crawler
    "ua_automation",  # the UA names an HTTP library or automation tool
    "ua_other",  # missing, malformed or unknown UA
    "header_anomaly",  # the strongest header finding's weight (0 when none)
    "is_record",  # this request is for a sensitive record
    "referred_now",  # this request's Referer is this site
    "cookie_now",  # this request returned a valid guard cookie
)
"""Feature names in vector order. A model names the ones it uses; append, never reorder."""

INDEX = {name: i for i, name in enumerate(FEATURES)}

_GAP_CV_CAP = 5.0
_HEADER_REASONS = (
    "browser_headers_missing",
    "no_fetch_metadata",
    "ua_hints_mismatch",
    "navigation_without_referer",
)


def features(
    facts: Facts, profile: ClientProfile, report: Report, cookies_tracked: bool = True
) -> list[float]:
    """The feature vector (in :data:`FEATURES` order) of a request that ``profile`` has just
    observed, with the findings that rule signals put in ``report``.

    When the guard does not set its cookie (shadow mode), the cookie features say the
    client kept it: an unset cookie is no evidence against anyone.
    """
    p = profile
    pages = max(p.documents, 1)
    requests = max(p.requests, 1)
    gaps = p.doc_gap_count
    if gaps >= 2 and p.doc_gap_mean > 0:
        gap_cv = min(math.sqrt(p.doc_gap_m2 / (gaps - 1)) / p.doc_gap_mean, _GAP_CV_CAP)
    else:
        gap_cv = -1.0 if gaps < 2 else 0.0
    if cookies_tracked:
        cookie_share = p.cookie_returns / max(p.requests - 1, 1)
        cookie_now = float(facts.tracked)
    else:
        cookie_share, cookie_now = 1.0, float(p.requests > 1)
    kind = facts.agent.kind
    anomaly = 0.0
    for finding in report.findings:
        if finding.reason.startswith(_HEADER_REASONS) and finding.weight > anomaly:
            anomaly = finding.weight
    return [
        math.log1p(p.requests),
        math.log1p(p.documents),
        math.log1p(max(p.last_seen - p.first_seen, 0.0)),
        p.rate_fast,
        p.rate_slow,
        math.log1p(p.doc_gap_mean) if gaps else -1.0,
        gap_cv,
        math.log1p(p.doc_gap_min) if gaps else -1.0,
        min(p.distinct_paths / pages, 1.0),
        p.records / pages,
        p.sequential_steps / (p.records - 1) if p.records > 1 else 0.0,
        p.statics / pages,
        cookie_share,
        p.client_errors / requests,
        float(p.robots_fetches > 0),
        float(p.honeypot_hits > 0),
        p.night_documents / pages,
        p.empty_referrers / pages,
        p.site_referrers / pages,
        p.heads / requests,
        p.api_requests / requests,
        float(kind == "browser"),
        float(kind == "declared_bot"),
        float(kind == "automation"),
        float(kind not in {"browser", "declared_bot", "automation"}),
        anomaly,
        float(facts.route.route_class.sensitive),
        float(referrer_kind(facts.headers) == REFERRER_SITE),
        cookie_now,
    ]
