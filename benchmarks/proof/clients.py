"""Virtual clients for the example site: people who accept and upload, browsers, scrapers.

Every request is timed and kept as a :class:`Result` with what was expected of it; every upload
also as an :class:`UploadRecord` (its SHA-256, what the client was told) for the ledger checks.
Each client has its own cookie jar and its own address (``X-Forwarded-For`` from the trusted
loopback proxy). Everything is bounded: the number of clients and requests, the requests in
flight (``concurrency``), each request (``request_timeout``) and the whole run (``deadline``).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import media
from .site import BROWSER_UA

__all__ = ["Load", "Result", "UploadRecord", "accept_json", "upload"]

TERMS_VERSION = "2026-11"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
GRANTS = {"ugc_licence": "accept", "ugc_portrait_self": "accept", "ugc_portrait_others": "none"}
SCRAPER_AGENTS = {
    "gptbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "curl": "curl/8.5.0",
}
# plan -> (expected status, expected problem code)
EXPECTED = {
    "ok": (201, None),
    "no-licence": (403, "licence-not-granted"),
    "fake-type": (415, "unsupported-media-type"),
    "before-accept": (403, "terms-not-accepted"),
    "over-limit": (429, "rate-limited"),
}


@dataclass
class Result:
    kind: str
    status: int | None
    latency: float
    code: str | None = None
    expected: bool = True
    started: float = 0.0
    detail: str = ""


@dataclass
class UploadRecord:
    sha256: str
    media: str
    plan: str
    size: int
    status: int | None
    code: str | None
    submission_id: str | None
    started: float
    finished: float


def _code(response: httpx.Response) -> str | None:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        try:
            return str(response.json().get("code"))
        except ValueError:
            return None
    return None


class Recorder:
    """Times requests and keeps their results; ``kind`` names the request for the latency table."""

    def __init__(self) -> None:
        self.results: list[Result] = []
        self.uploads: list[UploadRecord] = []
        self.t0 = time.perf_counter()

    async def request(self, client: httpx.AsyncClient, kind: str, method: str, url: str,
                      expect: Callable[[httpx.Response], bool] | None = None, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self.results.append(Result(kind, None, time.perf_counter() - started, None, False, started - self.t0,
                                       f"{type(error).__name__}: {error}"))
            return None
        latency = time.perf_counter() - started
        ok = expect(response) if expect else response.status_code < 400
        detail = "" if ok else response.text[:300]
        self.results.append(Result(kind, response.status_code, latency, _code(response), ok, started - self.t0, detail))
        return response


def new_client(base_url: str, address: str, agent: str = BROWSER_UA, timeout: float = 60.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, follow_redirects=False,
                             headers={"user-agent": agent, "x-forwarded-for": address, "accept-language": "en"})


async def accept_json(rec: Recorder, client: httpx.AsyncClient, birth_date: str = "1990-05-17") -> bool:
    body = {"terms_version": TERMS_VERSION, "accept_terms": True, "accept_licence": True, "birth_date": birth_date, "lang": "en"}
    response = await rec.request(client, "accept", "POST", "/ugc-guard/accept", lambda r: r.status_code == 201, json=body)
    return response is not None and response.status_code == 201


async def accept_form(rec: Recorder, client: httpx.AsyncClient, birth_date: str = "1990-05-17") -> bool:
    page = await rec.request(client, "terms-page", "GET", "/ugc-guard/terms")
    match = CSRF_RE.search(page.text) if page is not None else None
    if match is None:
        return False
    data = {"csrf_token": match.group(1), "terms_version": TERMS_VERSION, "lang": "en", "next": "/",
            "birth_date": birth_date, "accept_terms": "yes", "accept_licence": "yes"}  # fmt: skip
    response = await rec.request(client, "accept", "POST", "/ugc-guard/accept", lambda r: r.status_code == 303, data=data)
    return response is not None and response.status_code == 303


async def upload(rec: Recorder, client: httpx.AsyncClient, kind: str, plan: str, data: bytes,
                 expected: tuple[int, str | None] | None = None) -> UploadRecord:
    """POST one file to /upload as the example's form does; record what the client was told."""
    filename, content_type = media.KINDS[kind]
    grants = {k: v for k, v in GRANTS.items() if not (plan == "no-licence" and k == "ugc_licence")}
    body, form_type = media.multipart([("media", filename, content_type, data), *((k, None, None, v.encode()) for k, v in grants.items())])
    want = expected or EXPECTED[plan]
    started = time.perf_counter() - rec.t0
    response = await rec.request(
        client, "upload" if plan == "ok" else "upload-refused", "POST", "/upload",
        lambda r: r.status_code == want[0] and (want[1] is None or _code(r) == want[1]),
        content=body, headers={"content-type": form_type, "accept": "application/json"},
    )
    submission_id = None
    if response is not None and response.status_code == 201:
        submission_id = str(response.json().get("id"))
    record = UploadRecord(hashlib.sha256(data).hexdigest(), kind, plan, len(data),
                          response.status_code if response is not None else None,
                          _code(response) if response is not None else None, submission_id, started, time.perf_counter() - rec.t0)
    rec.uploads.append(record)
    return record


@dataclass
class Load:
    """The mixed load: ``people`` accept terms and upload, ``browsers`` read pages, ``scrapers`` knock."""

    base_url: str
    people: int = 40
    uploads_per_person: int = 3
    browsers: int = 8
    pages_per_browser: int = 40
    scrapers: int = 6
    concurrency: int = 24
    large_every: int = 6
    """Every n-th person's MP4 is 3–6 MiB, so it spools to a temporary file."""
    greedy_every: int = 20
    """Every n-th person uploads past the per-subject limit (6/hour): the extra uploads get 429."""
    seed: int = 8
    request_timeout: float = 60.0
    rec: Recorder = field(default_factory=Recorder)
    elapsed: float = 0.0

    async def run(self, deadline: float = 600.0) -> Load:
        slots = asyncio.Semaphore(self.concurrency)
        rng = random.Random(self.seed)
        tasks: list[Awaitable[None]] = []
        for index in range(self.people):
            tasks.append(self._person(index, random.Random(rng.random()), slots))
        for index in range(self.browsers):
            tasks.append(self._browser(index, slots))
        for index in range(self.scrapers):
            tasks.append(self._scraper(index, slots))
        started = time.perf_counter()
        self.rec.t0 = started
        await asyncio.wait_for(asyncio.gather(*tasks), deadline)
        self.elapsed = time.perf_counter() - started
        return self

    def _client(self, address: str, agent: str = BROWSER_UA) -> httpx.AsyncClient:
        return new_client(self.base_url, address, agent, self.request_timeout)

    async def _person(self, index: int, rng: random.Random, slots: asyncio.Semaphore) -> None:
        async with slots, self._client(f"10.{1 + index // 250}.{index % 250}.{1 + index % 7}") as client:
            rec = self.rec
            await rec.request(client, "browse", "GET", "/")
            if index % 10 == 3:
                await upload(rec, client, "jpeg", "before-accept", media.make("jpeg", rng))
            accepted = await (accept_json if index % 2 else accept_form)(rec, client)
            if not accepted:
                return
            greedy = self.greedy_every and index % self.greedy_every == self.greedy_every - 1
            plans = ["ok"] * (8 if greedy else self.uploads_per_person)
            if not greedy and index % 4 == 1:
                plans.append(rng.choice(["no-licence", "fake-type"]))
            for number, plan in enumerate(plans):
                kind = "fake-jpeg" if plan == "fake-type" else rng.choice(["jpeg", "jpeg", "png", "mp4", "wav"])
                large = kind == "mp4" and index % self.large_every == 0
                if greedy and number >= 6:
                    plan = "over-limit"
                await upload(rec, client, kind, plan, media.make(kind, rng, large=large))
            await rec.request(client, "browse", "GET", "/gallery/")

    async def _browser(self, index: int, slots: asyncio.Semaphore) -> None:
        async with slots, self._client(f"10.200.{index // 250}.{index % 250}") as client:
            paths = ["/", "/gallery/", "/ugc-guard/terms", "/robots.txt"]
            for number in range(self.pages_per_browser):
                await self.rec.request(client, "browse", "GET", paths[number % len(paths)])

    async def _scraper(self, index: int, slots: asyncio.Semaphore) -> None:
        style = ["gptbot", "curl", "trap"][index % 3]
        agent = SCRAPER_AGENTS.get(style, BROWSER_UA)
        async with slots, self._client(f"10.250.{index // 250}.{index % 250}", agent) as client:
            rec = self.rec
            if style == "trap":
                await rec.request(client, "scraper", "GET", "/ugc-guard/trap", lambda r: r.status_code == 404)
                for _ in range(6):  # flagged: at most flagged_limit (2/minute) more pages, then 429
                    await rec.request(client, "scraper", "GET", "/gallery/", lambda r: r.status_code in (200, 429))
                return
            await rec.request(client, "scraper", "GET", "/robots.txt", lambda r: r.status_code == 200)  # never blocked
            for path in ["/", "/gallery/", "/media/1.jpg", "/gallery/?page=2", "/"]:
                await rec.request(client, "scraper", "GET", path,
                                  lambda r: r.status_code == 403 and _code(r) == "automated-access-forbidden")
