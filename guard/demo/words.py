"""The demo's words and numbers that its resumes are drawn from, shared by the demo's data
(:mod:`guard.demo.data`) and the simulator that models its visitors (:mod:`guard.learn`).

Changing one changes both the demo's pages and the simulated traffic trained on them.
"""

from __future__ import annotations

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
