"""Deterministic fake data for the demo job board: resumes and job postings.

Every record is derived from ``random.Random(seed * 1_000_003 + id)``, so the same seed always
yields the same records, and a record can be built on its own without building the others.
The phone numbers look like Chinese mobile numbers but are random digits, not real people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from guard.demo.draws import (
    CITIES,
    FIRST_RESUME_ID,
    JOB_WISHES,
    draw_resume,
    newest_first,
    record_rng,
)

_EPOCH = dt.date(2025, 6, 30)  # fixed "today" so data never depends on the clock

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


def make_resume(seed: int, resume_id: int) -> Resume:
    """Build the resume with ``resume_id`` for ``seed`` (no range check)."""
    drawn = draw_resume(seed, resume_id)
    traits = ", ".join(drawn.traits)
    years, job_wish = drawn.years_experience, drawn.job_wish
    return Resume(
        id=resume_id,
        name=drawn.name,
        phone=drawn.phone,
        age=drawn.age,
        gender=drawn.gender,
        city=drawn.city,
        job_wish=job_wish,
        years_experience=years,
        education=drawn.education,
        updated=_EPOCH - dt.timedelta(seconds=drawn.updated_offset),
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
        self._order = newest_first(seed, range(FIRST_RESUME_ID, FIRST_RESUME_ID + count))

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
        rng = record_rng(seed, -job_id)  # negative ids never collide with resume ids
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
