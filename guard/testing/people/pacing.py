"""How long people take: dwell times, pages per visit, typing, and the hour they come.

* Dwell time on a page is Weibull distributed, with shape k < 1 ("negative ageing": the
  longer someone has stayed, the less likely they are to leave next) for nearly all pages:
  Liu, White & Dumais, "Understanding web browsing behaviors through Weibull analysis of
  dwell time", SIGIR 2010 (k < 1 for about 99% of the pages fitted, most k between about 0.5
  and 1). Here k is 0.65-0.9 and the scale 6-45 s by kind of page (:data:`DWELL`); no
  sample is under 1 s or over 15 minutes.
* Nobody clicks sooner than about a second after a page appears, and typing costs about a
  quarter second a key: the Keystroke-Level Model (Card, Moran & Newell, The Psychology of
  Human-Computer Interaction, 1983: mental preparation 1.35 s, pointing 1.1 s, 0.28 s a key
  for an average typist), so a search or a login takes seconds.
* Pages per visit follow the "law of surfing", an inverse Gaussian (Huberman, Pirolli,
  Pitkow & Lukose, Science 280, 1998). Here mean 3 and shape 1.5, rounded up: about a third
  of visits see one page and the mean is about 3.5, within what web analytics benchmarks
  report (bounce rates of roughly 35-55% and 3-6 pages a session, e.g. Contentsquare's
  Digital Experience Benchmark reports, 2021-2024).
* Recruiters skim a resume in about 6-7 s (The Ladders' eye-tracking studies: 6 s in 2012,
  7.4 s in 2018); here a fifth of the resumes they open are read closely. How many records a
  recruiter opens in one sitting is not published that we know of: assumed log-normal,
  median 30, capped at 150.
* Traffic follows the day: lowest around 4-5 a.m. local time, at about a fifth of the evening
  peak (Quan, Heidemann & Pradkin, "When the Internet sleeps", IMC 2014, for the diurnal
  activity of addresses; web analytics show the same shape): :data:`DIURNAL`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

DWELL: Mapping[str, tuple[float, float]] = {
    "home": (0.75, 14.0),
    "listing": (0.8, 22.0),
    "record": (0.7, 38.0),
    "search": (0.8, 16.0),
    "jobs": (0.7, 45.0),
    "login": (0.9, 6.0),
    "skim": (0.9, 7.0),
    "close": (0.75, 45.0),
    "other": (0.75, 10.0),
}
"""Weibull (shape, scale in seconds) of the time spent on each kind of page; ``skim`` and
``close`` are a recruiter's quick and careful reads of a resume."""

DIURNAL = (
    0.45, 0.30, 0.22, 0.17, 0.15, 0.17, 0.25, 0.42, 0.62, 0.78, 0.88, 0.92,
    0.88, 0.86, 0.90, 0.92, 0.92, 0.90, 0.86, 0.90, 0.98, 1.00, 0.92, 0.70,
)  # fmt: skip
"""Relative traffic in each site-local hour 0-23 (see the module docstring)."""

MIN_DWELL, MAX_DWELL = 1.0, 900.0
KEYSTROKE, THINK = 0.28, 1.35
QUERIES = (
    "driver", "cook", "nurse", "accountant", "Shanghai", "Beijing cashier", "warehouse",
    "teacher Chengdu", "electrician", "sales Shenzhen", "software developer", "nanny",
    "security guard", "receptionist Hangzhou", "mechanic", "customer service Wuhan",
)  # fmt: skip
"""What people type into the search box."""


def visit_hour(rng: random.Random) -> float:
    """A site-local hour (0-24) drawn from :data:`DIURNAL`: when a visit starts."""
    return rng.choices(range(24), weights=DIURNAL)[0] + rng.random()


def dwell_seconds(rng: random.Random, kind: str = "record") -> float:
    """Seconds a person stays on a page of ``kind`` (a :data:`DWELL` key): Weibull, 1 s to
    15 minutes."""
    shape, scale = DWELL.get(kind, DWELL["other"])
    return min(max(rng.weibullvariate(scale, shape), MIN_DWELL), MAX_DWELL)


def pages_per_visit(rng: random.Random, mean: float = 3.0, shape: float = 1.5) -> int:
    """Pages a visitor means to see: an inverse Gaussian draw rounded up, 1 to 60.

    Drawn as Michael, Schucany & Haas (1976) do, from one normal and one uniform variate.
    """
    y = rng.gauss(0.0, 1.0) ** 2
    x = mean + mean * mean * y / (2 * shape)
    x -= mean / (2 * shape) * math.sqrt(4 * mean * shape * y + (mean * y) ** 2)
    value = x if rng.random() <= mean / (mean + x) else mean * mean / x
    return min(max(math.ceil(value), 1), 60)


def recruiter_records(rng: random.Random) -> int:
    """Records a recruiter opens in one sitting: log-normal, median 30, 8 to 150."""
    return min(max(round(rng.lognormvariate(math.log(30), 0.7)), 8), 150)
