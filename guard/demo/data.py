"""Deterministic fake data for the demo job board: resumes and job postings.

Every record is derived from ``random.Random(seed * 1_000_003 + id)``, so the same seed always
yields the same records, and a record can be built on its own without building the others.
The phone numbers look like Chinese mobile numbers but are random digits, not real people.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass

from guard.demo.words import (
    CITIES,
    FIRST_RESUME_ID,
    GIVEN_NAMES,
    JOB_WISHES,
    SURNAMES,
    WINDOW_SECONDS,
)

_EPOCH = dt.date(2025, 6, 30)  # fixed "today" so data never depends on the clock

EDUCATION = ("Junior high", "High school", "Vocational", "Associate", "Bachelor", "Master")
_TRAITS = (
    "reliable", "hard-working", "punctual", "friendly", "detail-oriented",
    "team player", "fast learner", "good communicator", "well organised",
)  # fmt: skip
COMPANIES = (
    "Golden Dragon Logistics", "Sunrise Catering", "Harbour Trading Co.", "Jade Tech",
    "Bright Future Education", "Great Wall Security", "Lotus Home Services",
    "Pearl River Retail", "Blue Sky Property", "Silk Road Motors",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Resume:
    """One job seeker's resume; ``phone`` is the sensitive field the guard protects."""

    id: int
    name: str
    phone: str
    age: int
    gender: str
    city: str
    job_wish: str
    years_experience: int
    education: str
    updated: dt.date
    summary: str

    def to_json(self) -> dict[str, object]:
        """Return the record as JSON-ready values (the date as an ISO string)."""
        data = asdict(self)
        data["updated"] = self.updated.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class Job:
    """One job posting shown on ``/jobs``."""

    id: int
    title: str
    company: str
    city: str
    salary_min: int
    salary_max: int
    posted: dt.date
    description: str


def _rng(seed: int, record_id: int) -> random.Random:
    return random.Random(seed * 1_000_003 + record_id)


def _updated_offset(rng: random.Random) -> int:
    """Seconds before ``_EPOCH``; must be the first draw so ordering needs only this one."""
    return rng.randrange(WINDOW_SECONDS)


def make_resume(seed: int, resume_id: int) -> Resume:
    """Build the resume with ``resume_id`` for ``seed`` (no range check)."""
    rng = _rng(seed, resume_id)
    updated = _EPOCH - dt.timedelta(seconds=_updated_offset(rng))
    name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)}"
    phone = "1" + rng.choice("358") + "".join(rng.choices("0123456789", k=9))
    age = rng.randint(18, 58)
    years = rng.randint(0, max(0, age - 18))
    job_wish = rng.choice(JOB_WISHES)
    traits = ", ".join(rng.sample(_TRAITS, 2))
    return Resume(
        id=resume_id,
        name=name,
        phone=phone,
        age=age,
        gender=rng.choice(("Male", "Female")),
        city=rng.choice(CITIES),
        job_wish=job_wish,
        years_experience=years,
        education=rng.choice(EDUCATION),
        updated=updated,
        summary=f"{years} years of experience, {traits}. Looking for work as {job_wish.lower()}.",
    )


class ResumeStore:
    """The ``count`` resumes of one seed, built lazily and cached once built."""

    def __init__(self, count: int, seed: int) -> None:
        if count < 0:
            raise ValueError("count must not be negative")
        self.count = count
        self.seed = seed
        self._cache: dict[int, Resume] = {}
        ids = range(FIRST_RESUME_ID, FIRST_RESUME_ID + count)
        offsets = {i: _updated_offset(_rng(seed, i)) for i in ids}
        # Newest first: smallest offset before _EPOCH; ties broken by id for determinism.
        self._order: list[int] = sorted(ids, key=lambda i: (offsets[i], i))

    def __len__(self) -> int:
        return self.count

    def __contains__(self, resume_id: object) -> bool:
        return isinstance(resume_id, int) and 0 <= resume_id - FIRST_RESUME_ID < self.count

    def get(self, resume_id: int) -> Resume | None:
        """Return the resume with ``resume_id``, or ``None`` if there is none."""
        if resume_id not in self:
            return None
        resume = self._cache.get(resume_id)
        if resume is None:
            resume = self._cache[resume_id] = make_resume(self.seed, resume_id)
        return resume

    def newest(self, offset: int, limit: int) -> list[Resume]:
        """Return ``limit`` resumes starting at ``offset`` in newest-updated-first order."""
        return [self._load(i) for i in self._order[max(0, offset) : max(0, offset) + limit]]

    def search(self, query: str, limit: int = 20) -> list[Resume]:
        """Return up to ``limit`` resumes, newest first, whose name, job wish or city match."""
        needle = query.strip().casefold()
        if not needle:
            return []
        found: list[Resume] = []
        for resume_id in self._order:
            resume = self._load(resume_id)
            haystack = f"{resume.name}\n{resume.job_wish}\n{resume.city}".casefold()
            if needle in haystack:
                found.append(resume)
                if len(found) >= limit:
                    break
        return found

    def _load(self, resume_id: int) -> Resume:
        resume = self.get(resume_id)
        if resume is None:  # pragma: no cover - ids come from self._order
            raise KeyError(resume_id)
        return resume


def make_jobs(seed: int, count: int = 50) -> list[Job]:
    """Build ``count`` job postings for ``seed``, newest first."""
    jobs: list[Job] = []
    for job_id in range(1, count + 1):
        rng = _rng(seed, -job_id)  # negative ids never collide with resume ids
        title = rng.choice(JOB_WISHES)
        company = rng.choice(COMPANIES)
        low = rng.randrange(3000, 15000, 500)
        jobs.append(
            Job(
                id=job_id,
                title=title,
                company=company,
                city=rng.choice(CITIES),
                salary_min=low,
                salary_max=low + rng.randrange(1000, 8000, 500),
                posted=_EPOCH - dt.timedelta(days=rng.randrange(60)),
                description=f"{company} is hiring a {title.lower()}. "
                f"{rng.choice(('Full time', 'Part time', 'Shift work'))}, training provided.",
            )
        )
    jobs.sort(key=lambda job: (job.posted, -job.id), reverse=True)
    return jobs
