"""One identity of a campaign: an address, a user agent, a connection and its requests."""

from __future__ import annotations

import html
import math
import random
import re
import time

import httpx

from guard.testing import chrome_headers
from guard.testing.campaigns.solver import solve_challenge
from guard.testing.campaigns.spec import campaign_address
from guard.testing.campaigns.state import CampaignState

ACCOUNTS = 50
"""The demo's employer accounts (employer1..employer50), all with one published password."""
SESSION_COOKIE = "session"
"""The demo's login cookie, which an account campaign keeps even when it drops the rest."""
PASSWORD = "demo-pass"  # noqa: S105 - the demo's published password
AGENTS = (
    *(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
        for major in (129, 130, 131)
    ),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
)
"""Current Chrome user agents an identity wears (one each, with matching client hints)."""

_RECORD_LINK = re.compile(r'href="/resume/([0-9]+)"')
_ASSET_LINK = re.compile(r'(?:href|src)="(/static/[^"?#]+)"')
_PHONE = 'class="phone"'
_CHALLENGE_FORM = re.compile(r'<form id="guard-challenge" method="post" action="([^"]+)"')
_CHALLENGE_TOKEN = re.compile(r'<input type="hidden" name="token" value="([^"]*)"')
_CHALLENGE_BITS = re.compile(r"\bbits = ([0-9]+);")
_ASSET_KINDS = {
    ".css": ("style", "text/css,*/*;q=0.1"),
    ".js": ("script", "*/*"),
}
_IMAGE = ("image", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")


class Identity:
    """One identity: an address, a user agent, a connection and (maybe) a cookie jar."""

    def __init__(self, campaign: CampaignState, number: int) -> None:
        self.campaign, self.spec = campaign, campaign.spec
        rng = random.Random(f"{self.spec.seed}:{number}")  # noqa: S311 - not a secret
        self.number = number
        self.agent = rng.choice(AGENTS)
        self.address = campaign_address(number % self.spec.addresses)
        self.cookies: dict[str, str] = {}
        self.loaded: set[str] = set()
        self.referer: str | None = None
        self.http = httpx.Client(
            base_url=campaign.base,
            transport=httpx.HTTPTransport(local_address=self.address),
            timeout=60.0,
        )

    def run(self) -> None:
        """Sign in if asked, then read records in the campaign's order until refused."""
        with self.http:
            if self.spec.login and not self.login():
                return
            if self.spec.order == "listing":
                self.crawl()
            else:
                self.read_claimed()

    def read_claimed(self) -> None:
        """Read the ids claimed from the campaign's queue, stopping at the first refusal."""
        claimed = self.campaign.claim(self.spec.per_address)
        for index, record in enumerate(claimed):
            if not self.campaign.reserve_try(record):
                self.campaign.give_back(claimed[index:])
                return
            if not self.read(record):
                self.campaign.refused(record, None)
                self.campaign.give_back(claimed[index + 1 :])
                return

    def crawl(self) -> None:
        """Fetch listing pages and read ids they show, up to ``per_address`` in all."""
        quota = self.spec.per_address
        while quota > 0 and not self.campaign.expired():
            page = self.campaign.page_to_fetch()
            if page is None:
                return
            response = self.page(f"/resumes?page={page}")
            if response is None or response.status_code != 200:
                self.campaign.listing_refused(page)
                return
            shown = [int(i) for i in _RECORD_LINK.findall(response.text)]
            claimed = self.campaign.claim_shown(page, shown, quota)
            for record in claimed:
                if not self.campaign.reserve_try(record):
                    return
                if not self.read(record):
                    self.campaign.refused(record, page)
                    return
                quota -= 1

    def read(self, record: int) -> bool:
        """Ask for one record; True when it was served with its contact data."""
        response = self.page(f"/resume/{record}", record=True)
        if response is None or response.status_code != 200 or _PHONE not in response.text:
            return False
        with self.campaign.lock:
            self.campaign.result.harvested.add(record)
        return True

    def login(self) -> bool:
        """Sign in with a bought account (round robin over the demo's 50)."""
        account = f"employer{self.number % ACCOUNTS + 1}"
        self.wait()
        self.referer = f"{self.campaign.base}/login"  # the form is posted from there
        response = self.send(
            "POST", "/login", self.form_headers(), {"username": account, "password": PASSWORD}
        )
        return response is not None and response.status_code == 303

    def page(self, path: str, *, record: bool = False) -> httpx.Response | None:
        """GET a page as a navigation; solve its challenge if the campaign solves. Returns
        the final response, or None when it failed or a challenge was not passed."""
        self.wait()
        url = f"{self.campaign.base}{path}"
        response = self.send("GET", path, self.document_headers(), record=record)
        form = (
            _CHALLENGE_FORM.search(response.text)
            if response is not None and response.status_code == 429
            else None
        )
        if response is not None and form is not None:
            self.campaign.count(0, challenges=1)
            if not self.spec.solve or not self.solve(response.text, form.group(1), url):
                return None
            self.referer = url
            response = self.send("GET", path, self.document_headers(), record=record)
        if response is None:
            return None
        self.referer = url
        if self.spec.assets and response.status_code == 200:
            self.load_assets(response.text, url)
        return response

    def solve(self, page: str, action: str, url: str) -> bool:
        """Solve the challenge on ``page`` and post the answer; True when it was accepted."""
        token = _CHALLENGE_TOKEN.search(page)
        bits = _CHALLENGE_BITS.search(page)
        if token is None or bits is None or self.campaign.solver is None:
            return False
        value = html.unescape(token.group(1))
        counter, cpu = self.campaign.solver.submit(
            solve_challenge, value, int(bits.group(1))
        ).result()
        with self.campaign.lock:
            self.campaign.result.pow_cpu_seconds += cpu
        self.referer = url
        headers = self.form_headers()
        headers.pop("sec-fetch-user", None)  # the page's script submits, not the person
        answer = self.send("POST", action, headers, {"token": value, "counter": str(counter)})
        if answer is None or answer.status_code != 303:
            return False
        self.campaign.count(0, solves=1)
        return True

    def load_assets(self, page: str, url: str) -> None:
        """Load the page's CSS, script and images this identity has not loaded yet."""
        for path in dict.fromkeys(_ASSET_LINK.findall(page)):
            if path in self.loaded:
                continue
            self.loaded.add(path)
            dest, accept = _ASSET_KINDS.get(path[path.rfind(".") :], _IMAGE)
            if self.spec.headers == "full":
                headers = chrome_headers(self.agent, document=False, referer=url)
                headers |= {"sec-fetch-dest": dest, "accept": accept}
            else:
                headers = self.basic_headers() | {"accept": accept}
            self.send("GET", path, headers)

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        form: dict[str, str] | None = None,
        *,
        record: bool = False,
    ) -> httpx.Response | None:
        """One request with this identity's cookies, keeping what it sets when it keeps any;
        None when it failed without a response. A ``record`` request's status is counted."""
        if self.cookies:
            headers = headers | {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        self.campaign.count()
        try:
            response = self.http.request(method, path, headers=headers, data=form)
        except httpx.HTTPError:
            self.campaign.count(0, errors=1)
            return None
        finally:
            self.http.cookies.clear()  # the jar is ours, kept by hand
        if record:
            with self.campaign.lock:
                self.campaign.result.statuses[response.status_code] += 1
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value, _, attributes = rest.partition(";")
            name = name.strip()
            if not (self.spec.cookies or (self.spec.login and name == SESSION_COOKIE)):
                continue
            if value and "max-age=0" not in attributes.lower().replace(" ", ""):
                self.cookies[name] = value.strip()
            else:
                self.cookies.pop(name, None)
        return response

    def wait(self) -> None:
        """Keep the campaign's pace between this address's pages."""
        if not self.spec.pace:
            return
        with self.campaign.lock:
            last = self.campaign.last_page.get(self.address, -math.inf)
            at = max(time.monotonic(), last + self.spec.pace)
            self.campaign.last_page[self.address] = at
        time.sleep(max(0.0, at - time.monotonic()))

    def basic_headers(self) -> dict[str, str]:
        """A Chrome user agent with only the three basic headers."""
        return {
            "user-agent": self.agent,
            "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
            "image/webp,image/apng,*/*;q=0.8",
            "accept-language": "en-US,en;q=0.9",
            "accept-encoding": "gzip, deflate, br, zstd",
        }

    def document_headers(self) -> dict[str, str]:
        """Headers of a navigation: a click within the site once there was a page before."""
        if self.spec.headers == "basic":
            return self.basic_headers()
        return chrome_headers(self.agent, referer=self.referer)

    def form_headers(self) -> dict[str, str]:
        """Headers of a form posted from a page of the site."""
        origin = {"content-type": "application/x-www-form-urlencoded"}
        if self.spec.headers == "basic":
            return self.basic_headers() | origin
        headers = chrome_headers(self.agent, referer=self.referer)
        return headers | origin | {"origin": self.campaign.base}
