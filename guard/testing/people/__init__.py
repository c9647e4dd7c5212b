"""People to test a guarded site with: real HTTP clients that browse as people do.

This is a second generator of people, written apart from the simulator the behaviour model is
trained on (:mod:`guard.learn`), with its own code and its own assumptions, taken from
published figures on how people browse, so that the model is measured on people it did not
learn. Every figure is approximate, and using it as below is a simplification. Each module
cites the figures it uses:

* :mod:`~guard.testing.people.pacing`: dwell times (Weibull, after Liu, White & Dumais),
  typing and thinking (the Keystroke-Level Model), pages per visit (the law of surfing),
  recruiters' reading, and the hour of day people come.
* :mod:`~guard.testing.people.browsers`: phones and browsers by share (StatCounter, CNNIC),
  old builds still in use.
* :mod:`~guard.testing.people.headers`: the headers each browser sends, in its order.
* :mod:`~guard.testing.people.visits`: the personas, where visits come from (search,
  direct, dark social) and carrier-grade NAT.
* :mod:`~guard.testing.people.clock`: guard time faster than the wall, site-local hours.
* :mod:`~guard.testing.people.answers` and :mod:`~guard.testing.people.pages`: what a
  response means, solving a challenge page, the links on a page.
* :mod:`~guard.testing.people.person` and :mod:`~guard.testing.people.sessions`: one
  person's visit over loopback HTTP, and a run of many counted per persona
  (:func:`run_people`).
* :mod:`~guard.testing.people.chromium`: people in Debian's chromium under Playwright
  (:func:`run_chromium_people`).

Each person has its own source address on loopback, keeps cookies, caches assets like a
browser, and solves a challenge page as the page's script would. Needs httpx (the ``dev``
extra); :func:`run_chromium_people` also needs Playwright and Debian's chromium.
"""

from __future__ import annotations

from guard.testing.people.answers import Answer, read_answer, solve_challenge
from guard.testing.people.chromium import ChromiumUnavailable, run_chromium_people
from guard.testing.people.clock import AcceleratedClock, site_time
from guard.testing.people.headers import Browser, Dest, FetchSite, chromium_brands
from guard.testing.people.pacing import (
    DIURNAL,
    DWELL,
    dwell_seconds,
    pages_per_visit,
    recruiter_records,
    visit_hour,
)
from guard.testing.people.sessions import OUTCOMES, run_people
from guard.testing.people.visits import CGNAT_ADDRESS, PERSONAS, Visit, plan_visits

__all__ = [
    "CGNAT_ADDRESS",
    "DIURNAL",
    "DWELL",
    "OUTCOMES",
    "PERSONAS",
    "AcceleratedClock",
    "Answer",
    "Browser",
    "ChromiumUnavailable",
    "Dest",
    "FetchSite",
    "Visit",
    "chromium_brands",
    "dwell_seconds",
    "pages_per_visit",
    "plan_visits",
    "read_answer",
    "recruiter_records",
    "run_chromium_people",
    "run_people",
    "site_time",
    "solve_challenge",
    "visit_hour",
]
