"""How the demo's resumes are drawn: the words, the id range and the order of the draws,
shared by the demo's data (:mod:`guard.demo.data`) and the simulator that models its
visitors (:mod:`guard.learn`), which must not import the demo app.

Resume ``id`` of ``seed`` comes from ``random.Random(seed * 1_000_003 + id)``; the first draw
dates it (listings show the newest first), so the order needs only that one. Changing
anything here changes both the demo's pages and the simulated traffic trained on them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

FIRST_RESUME_ID = 100000
"""The id of the first resume; ids run from here to ``FIRST_RESUME_ID + count - 1``."""

WINDOW_SECONDS = 730 * 86400
"""Resumes were updated during the two years before the demo's fixed today."""

SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
)  # fmt: skip
GIVEN_NAMES = (
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Yang",
    "Jie", "Tao", "Ming", "Chao", "Xiu Ying", "Hui", "Ping", "Gang", "Li Na", "Hao",
    "Xin", "Yu", "Bo", "Lan", "Dan",
)  # fmt: skip
CITIES = (
    "Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan",
    "Nanjing", "Xi'an", "Tianjin", "Suzhou", "Chongqing",
)  # fmt: skip
JOB_WISHES = (
    "Delivery driver", "Sales representative", "Customer service", "Cashier",
    "Warehouse worker", "Cook", "Waiter", "Security guard", "Accountant",
    "Software developer", "Electrician", "Nanny", "Receptionist", "Teacher",
    "Graphic designer", "Real estate agent", "Nurse", "Mechanic",
)  # fmt: skip
EDUCATION = ("Junior high", "High school", "Vocational", "Associate", "Bachelor", "Master")
TRAITS = (
    "reliable", "hard-working", "punctual", "friendly", "detail-oriented",
    "team player", "fast learner", "good communicator", "well organised",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Drawn:
    """The random fields of one resume, in the order they are drawn."""

    updated_offset: int
    """Seconds before the demo's today that the resume was updated."""
    name: str
    phone: str
    age: int
    years_experience: int
    job_wish: str
    traits: tuple[str, str]
    gender: str
    city: str
    education: str


def record_rng(seed: int, record_id: int) -> random.Random:
    """The random source of one record (resume ids, and negative job ids)."""
    return random.Random(seed * 1_000_003 + record_id)


def updated_offset(rng: random.Random) -> int:
    """Seconds before the demo's today: a resume's first draw."""
    return rng.randrange(WINDOW_SECONDS)


def draw_resume(seed: int, resume_id: int) -> Drawn:
    """The random fields of resume ``resume_id`` for ``seed`` (no range check)."""
    rng = record_rng(seed, resume_id)
    offset = updated_offset(rng)
    name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)}"
    phone = "1" + rng.choice("358") + "".join(rng.choices("0123456789", k=9))
    age = rng.randint(18, 58)
    years = rng.randint(0, max(0, age - 18))
    job_wish = rng.choice(JOB_WISHES)
    first, second = rng.sample(TRAITS, 2)
    gender = rng.choice(("Male", "Female"))
    city = rng.choice(CITIES)
    return Drawn(
        offset, name, phone, age, years, job_wish, (first, second), gender, city,
        rng.choice(EDUCATION),
    )  # fmt: skip


def newest_first(seed: int, ids: Iterable[int]) -> list[int]:
    """``ids`` newest-updated first (ties by id), without drawing the rest of each resume."""
    offsets = {i: updated_offset(record_rng(seed, i)) for i in ids}
    return sorted(offsets, key=lambda i: (offsets[i], i))
