"""Fixtures for the proof tests: a direct ASGI driver, the real middleware on a SQLite ledger, and
private PostgreSQL / Redis servers for fault injection (started here, never the machine's own)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from benchmarks._services import PrivatePostgres, PrivateRedis, ServiceMissing
from tests.conftest import IN_CI, write_policy
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger

REQUEST_TIMEOUT = 60.0
"""Generous bound on one request through the middleware: a hang fails the test instead of blocking it."""
CAMPAIGN = "test-campaign"


@dataclass
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        if (self.header(b"content-type") or b"").startswith(b"application/problem+json"):
            return str(self.json().get("code"))
        return None


async def call(app: Any, method: str, path: str, headers: Sequence[tuple[bytes, bytes]] = (), chunks: Sequence[bytes] = (),
               *, query: bytes = b"", client: tuple[str, int] = ("127.0.0.1", 50000)) -> Reply:
    """Send one request straight into an ASGI app, the body in ``chunks``; bounded by REQUEST_TIMEOUT."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode("utf-8", "surrogateescape"), "query_string": query, "root_path": "",
             "headers": [(k.lower(), v) for k, v in headers], "client": client, "server": ("testserver", 80)}  # fmt: skip
    pending = [{"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1} for index, chunk in enumerate(chunks)]
    pending = pending or [{"type": "http.request", "body": b"", "more_body": False}]
    done = anyio.Event()
    start: dict[str, Any] = {}
    body = bytearray()

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await done.wait()  # like a server: after the body, the next message is the disconnect
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    with anyio.fail_after(REQUEST_TIMEOUT):
        await app(scope, receive, send)
    assert start, "the app sent no response"
    return Reply(start["status"], list(start.get("headers", [])), bytes(body))


async def _stored(request: Request) -> Response:
    submission = request.state.ugc
    body = await request.body()
    return JSONResponse({"id": submission.id, "submission_ids": submission.as_dict()["submission_ids"], "bytes": len(body)},
                        status_code=201)


async def _home(request: Request) -> Response:
    return PlainTextResponse("home")


@dataclass
class FuzzSite:
    guard: UGCGuard
    ledger: Ledger
    temp_dir: Path
    portal: Any
    cookie: bytes = b""
    csrf: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def request(self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]] = (), chunks: Sequence[bytes] = (),
                **kwargs: Any) -> Reply:
        return self.portal.call(lambda: call(self.guard, method, path, headers, chunks, **kwargs))

    def kinds(self) -> dict[str, int]:
        for item in self.ledger.stats(CAMPAIGN)["campaigns"]:
            return dict(item["kinds"])
        return {}


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzSite]:
    """The real UGCGuard (every stage) on a SQLite ledger, with an accepted subject's cookie and form token."""
    root = tmp_path_factory.mktemp("fuzz")
    temp_dir = root / "spool"
    temp_dir.mkdir()
    url = f"sqlite:///{root / 'ledger.sqlite3'}"
    policy = write_policy(root / "policy", {
        "rate_limits": {"rules": []},  # hostile input is the subject here, not the limits (tests/test_ratelimit.py)
        "uploads": {"temp_dir": str(temp_dir), "spool_memory_bytes": 2048,
                    "routes": [{"path": "/upload", "methods": ["POST"], "limits": {"max_total_bytes": "2MiB", "max_file_bytes": "1MiB",
                                                                                  "max_files": 3, "max_fields": 6}},
                               {"path": "/raw/{name}", "methods": ["PUT"], "body": "raw"}]},
    })  # fmt: skip
    ledger = Ledger(url, secret="test-secret-" + "x" * 32)
    ledger.upgrade()
    app = Starlette(routes=[Route("/", _home), Route("/upload", _stored, methods=["POST"]), Route("/raw/{name}", _stored, methods=["PUT"])])
    guard = UGCGuard(app, policy=policy, ledger=url)
    with anyio.from_thread.start_blocking_portal() as portal:
        site = FuzzSite(guard, ledger, temp_dir, portal)
        accepted = site.request("POST", "/ugc-guard/accept", [(b"host", b"testserver"), (b"content-type", b"application/json")],
                                [b'{"terms_version": "1", "accept_terms": true, "accept_licence": true, "birth_date": "1990-05-17"}'])
        assert accepted.status == 201, accepted.body
        cookie = accepted.header(b"set-cookie") or b""
        site.cookie = cookie.split(b";", 1)[0]
        page = site.request("GET", "/ugc-guard/terms", [(b"host", b"testserver"), (b"cookie", site.cookie)])
        site.csrf = page.body.split(b'name="csrf_token" value="', 1)[1].split(b'"', 1)[0].decode()
        yield site
    ledger.close()


def _require(factory: Any) -> Any:
    try:
        return factory()
    except ServiceMissing as missing:
        if IN_CI:
            pytest.fail(f"{missing} (CI=true: a missing server is a failure)")
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of our own (initdb + pg_ctl on a free port), for stopping and starting."""
    server = _require(PrivatePostgres)
    with server:
        yield server


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis server of our own on a free port (not started: the test starts and stops it)."""
    server = _require(PrivateRedis)
    try:
        yield server
    finally:
        server.cleanup()
