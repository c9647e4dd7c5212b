"""Load tests with locust: people, recruiters and scrapers against the guarded demo, and the
guard's overhead against the bare demo.

Two sets of user classes (pick them on the command line, or let ``benchmarks/loadtest.py``
do it):

* **Detection** (host: the guarded demo): :class:`Person` (home, listings, records it was
  shown, assets, cookies, reading pauses), :class:`Recruiter` (logs in as an employer and
  reads records from listings), :class:`SequentialScraper` (python-requests walking ids),
  :class:`RotatingScraper` (a browser's headers, a new address each request, random ids)
  and :class:`ApiEnumerator` (okhttp on ``/api/resumes/{id}``). Every client's address goes
  in ``X-Forwarded-For``, which the guarded demo trusts from 127.0.0.1. A refusal or a
  challenge is an expected answer, not a failure; each record served with its phone number
  is reported as a ``record`` request named after the class, so the stats table says how
  many records each class got. People and recruiters solve challenges (natively, as their
  browser's script would) and ask again.
* **Overhead**: :class:`Baseline` (host: ``BASELINE_HOST``, the bare demo) and
  :class:`Guarded` (host: ``GUARDED_HOST``) read random records at the same paced rate
  (``constant_throughput``), so both see equal load; :class:`Steps` (selected with
  ``LOADTEST_SHAPE=steps``) warms up, holds steady, then steps up.

At the end the ``quitting`` hook writes ``LOADTEST_SUMMARY`` (JSON: p50/p95/p99 per request
name, guarded minus baseline, records per class, and what each class's answers meant:
``ok``, ``challenge``, ``throttle``, ``block``, ``gate``, as
:func:`guard.testing.people.read_answer` reads them) and sets a non-zero exit code when guarded p99
exceeds baseline p99 by more than ``LOADTEST_BUDGET_MS`` or when requests failed.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from typing import Any

from gevent import subprocess
from locust import FastHttpUser, LoadTestShape, between, constant_throughput, events, task
from locust.env import Environment

from guard.testing.campaigns import solver
from guard.testing.people.answers import VERIFY_PATH, challenge_of, read_answer

FIRST_ID = 100000
RESUMES = int(os.environ.get("LOADTEST_RESUMES", "10000"))
GUARDED_HOST = os.environ.get("GUARDED_HOST", "http://127.0.0.1:8000")
BASELINE_HOST = os.environ.get("BASELINE_HOST", "http://127.0.0.1:8001")
BUDGET_MS = float(os.environ.get("LOADTEST_BUDGET_MS", "25"))
PACED_RPS = float(os.environ.get("LOADTEST_USER_RPS", "2"))
CHROME = {
    "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Windows"',
    "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "accept-encoding": "gzip, deflate, br, zstd",
    "accept-language": "en-US,en;q=0.9",
    "upgrade-insecure-requests": "1",
}
ASSETS = ("/static/css/site.css", "/static/js/site.js", "/static/img/logo.svg")
_LINK = re.compile(r'href="(/resume/[0-9]+)"')
_PHONE = re.compile(r'class="phone"|"phone":')


ADDRESSES = int(os.environ.get("LOADTEST_ADDRESSES", "0"))
"""With a positive value, people and scrapers each draw their addresses from that many of
their own (a fixed population, as the soak test wants: state that stops growing once every
address has been seen)."""


def address(rng: random.Random, pool: int = 0) -> str:
    """A client address in 198.18.0.0/15 (RFC 2544's benchmarking range); with
    ``LOADTEST_ADDRESSES``, one of that many in ``pool`` (0: people, 1: scrapers)."""
    if ADDRESSES > 0:
        n = pool * ADDRESSES + rng.randrange(ADDRESSES)
        return f"198.{18 + n // 65024 % 2}.{n // 254 % 256}.{n % 254 + 1}"
    return f"198.{rng.randrange(18, 20)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def navigation(site: str, referer: str | None, ip: str) -> dict[str, str]:
    """Chrome's headers for a page navigation from ``referer`` (typed when None)."""
    fetch = "same-origin" if referer else "none"
    headers = CHROME | {
        "sec-fetch-site": fetch,
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
        "sec-fetch-user": "?1",
        "x-forwarded-for": ip,
    }
    if referer:
        headers["referer"] = f"{site}{referer}"
    return headers


class Reader(FastHttpUser):
    """Reads pages, counting what each answer meant and the records it got; refusals and
    challenges are answers, not failures. A browser (``solves``) solves a challenge as its
    script would and asks again."""

    abstract = True
    host = GUARDED_HOST
    solves = False
    pool = 1  # scrapers' addresses; people's are pool 0

    def on_start(self) -> None:
        self.rng = random.Random()
        self.ip = address(self.rng, self.pool)

    def read(self, path: str, headers: dict[str, str], name: str, retry: bool = True) -> str:
        """GET ``path``; the body when served, '' otherwise."""
        with self.client.get(path, headers=headers, name=name, catch_response=True) as reply:
            status, body = reply.status_code, reply.text or ""
            if status < 500:
                reply.success()  # refusing is the guard's job: an expected outcome
        answer = read_answer(status, body)
        count("answer", f"{type(self).__name__} {answer}")
        if answer == "challenge" and self.solves and retry:
            token, counter = solve_apart(body)
            form = headers | {"sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate"}
            self.client.post(
                VERIFY_PATH,
                data={"token": token, "counter": str(counter)},
                headers=form,
                name=VERIFY_PATH,
                allow_redirects=False,
            )
            return self.read(path, headers, name, retry=False)
        if answer == "ok" and _PHONE.search(body):
            count("record", type(self).__name__)
        return body if answer == "ok" else ""


def solve_apart(page: str) -> tuple[str, int]:
    """A challenge page's token and solution, found in a process of its own, as a browser
    solves on its own CPU: solving here would stall every other simulated user of this
    event loop for the second it takes, and add that second to their recorded latency."""
    token, bits = challenge_of(page)
    command = [sys.executable, "-I", "-S", str(solver.__file__), token, str(bits)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return token, int(done.stdout)


def count(kind: str, name: str) -> None:
    """Report one answer or record as a zero-time request of type ``kind``, so locust's own
    stats (and its workers' reports) carry it."""
    events.request.fire(
        request_type=kind, name=name, response_time=0, response_length=0, exception=None, context={}
    )


class Person(Reader):
    """A person: the home page or a listing, a few records it was shown, the pages' assets
    (cached after the first), and a pause of seconds on each page."""

    wait_time = between(2, 8)
    weight = 6
    solves = True
    pool = 0

    def on_start(self) -> None:
        super().on_start()
        self.assets_loaded = False

    @task
    def visit(self) -> None:
        page = self.rng.randrange(1, 20)
        listing = self.read(
            f"/resumes?page={page}", navigation(self.host or "", "/", self.ip), "/resumes?page=[n]"
        )
        self.assets()
        shown = _LINK.findall(listing)
        for record in self.rng.sample(shown, min(len(shown), self.rng.randrange(0, 4))):
            self.read(record, navigation(self.host or "", "/resumes", self.ip), "/resume/[id]")

    def assets(self) -> None:
        if self.assets_loaded:
            return
        self.assets_loaded = True
        for asset in ASSETS:
            headers = CHROME | {
                "sec-fetch-site": "same-origin",
                "sec-fetch-mode": "no-cors",
                "sec-fetch-dest": "style",
                "x-forwarded-for": self.ip,
            }
            self.client.get(asset, headers=headers, name="/static/[asset]")


class Recruiter(Reader):
    """An employer: logs in, then reads records from listing pages at a careful pace."""

    wait_time = between(3, 10)
    weight = 1
    solves = True
    pool = 0

    def on_start(self) -> None:
        super().on_start()
        account = f"employer{self.rng.randrange(1, 51)}"
        headers = navigation(self.host or "", "/login", self.ip)
        self.client.post(
            "/login",
            data={"username": account, "password": "demo-pass"},
            headers=headers,
            name="/login",
            allow_redirects=False,
        )

    @task
    def read_listing(self) -> None:
        listing = self.read(
            f"/resumes?page={self.rng.randrange(1, 50)}",
            navigation(self.host or "", "/", self.ip),
            "/resumes?page=[n]",
        )
        for record in _LINK.findall(listing)[: self.rng.randrange(1, 6)]:
            self.read(record, navigation(self.host or "", "/resumes", self.ip), "/resume/[id]")


class SequentialScraper(Reader):
    """A python-requests loop over record ids, one address, as fast as it is answered."""

    wait_time = constant_throughput(5)
    weight = 1

    def on_start(self) -> None:
        super().on_start()
        self.next_id = FIRST_ID + self.rng.randrange(RESUMES)

    @task
    def next_record(self) -> None:
        headers = {
            "user-agent": "python-requests/2.32.3",
            "accept": "*/*",
            "x-forwarded-for": self.ip,
        }
        self.read(f"/resume/{self.next_id}", headers, "/resume/[id]")
        self.next_id = FIRST_ID + (self.next_id - FIRST_ID + 1) % RESUMES


class RotatingScraper(Reader):
    """A campaign: Chrome's headers, a new address for every request, random ids."""

    wait_time = constant_throughput(5)
    weight = 1

    @task
    def random_record(self) -> None:
        ip = address(self.rng, self.pool)
        record = FIRST_ID + self.rng.randrange(RESUMES)
        self.read(f"/resume/{record}", navigation(self.host or "", "/resumes", ip), "/resume/[id]")


class ApiEnumerator(Reader):
    """An API client walking ``/api/resumes/{id}``."""

    wait_time = constant_throughput(5)
    weight = 1

    @task
    def next_record(self) -> None:
        record = FIRST_ID + self.rng.randrange(RESUMES)
        headers = {
            "user-agent": "okhttp/4.12.0",
            "accept": "application/json",
            "x-forwarded-for": self.ip,
        }
        self.read(f"/api/resumes/{record}", headers, "/api/resumes/[id]")


class Paced(FastHttpUser):
    """Overhead mode: random records at ``LOADTEST_USER_RPS`` a user, Chrome's headers."""

    abstract = True
    wait_time = constant_throughput(PACED_RPS)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def record(self) -> None:
        ip = address(self.rng)
        path = f"/resume/{FIRST_ID + self.rng.randrange(RESUMES)}"
        headers = navigation(self.host or "", "/resumes", ip)
        self.client.get(path, headers=headers, name=f"{type(self).__name__} /resume/[id]")


class Baseline(Paced):
    """The bare demo."""

    host = BASELINE_HOST


class Guarded(Paced):
    """The guarded demo (its config must refuse nothing: benchmarks/bench.toml)."""

    host = GUARDED_HOST


if os.environ.get("LOADTEST_SHAPE") == "steps":

    class Steps(LoadTestShape):
        """Warm up, hold steady, then step up: (seconds from start, users, spawn rate)."""

        stages = ((10, 10, 10), (40, 20, 10), (60, 40, 20), (80, 60, 20))

        def tick(self) -> tuple[int, float] | None:
            elapsed = self.get_run_time()
            for until, users, rate in self.stages:
                if elapsed < until:
                    return users, rate
            return None


@events.quitting.add_listener
def summarise(environment: Environment, **_: Any) -> None:
    """Write the JSON summary and set the exit code from the budget."""
    runner = environment.runner
    if runner is None or type(runner).__name__ == "WorkerRunner":
        return
    stats = environment.stats
    classes: dict[str, dict[str, float]] = {}
    records: dict[str, int] = {}
    answers: dict[str, dict[str, int]] = {}
    for entry in stats.entries.values():
        if entry.method == "record":
            records[entry.name] = entry.num_requests
            continue
        if entry.method == "answer":
            user, _space, meaning = entry.name.partition(" ")
            answers.setdefault(user, {})[meaning] = entry.num_requests
            continue
        classes[f"{entry.method} {entry.name}"] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": round(entry.total_rps, 1),
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
    summary: dict[str, Any] = {"classes": classes, "records": records, "answers": answers}
    base = classes.get("GET Baseline /resume/[id]")
    guarded = classes.get("GET Guarded /resume/[id]")
    failed = stats.total.num_failures
    over = False
    if base and guarded:
        summary["guarded_minus_baseline_ms"] = {
            p: round(guarded[f"{p}_ms"] - base[f"{p}_ms"], 2) for p in ("p50", "p95", "p99")
        }
        over = summary["guarded_minus_baseline_ms"]["p99"] > BUDGET_MS
    summary["budget_ms"] = BUDGET_MS
    summary["failures"] = failed
    summary["ok"] = not failed and not over
    path = os.environ.get("LOADTEST_SUMMARY")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(summary, out, indent=2)
    if not summary["ok"]:
        environment.process_exit_code = 1
