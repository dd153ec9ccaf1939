"""A real webhook receiver (http.server on a free port) and guarded apps with an ``observe:`` section."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger

SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"observe tests").digest()).decode()
LEDGER_SECRET = "test-secret-" + "x" * 32


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers the next ``failures`` posts with 500, then 204; keeps every post."""

    url: str
    posts: list[Received] = field(default_factory=list)
    failures: int = 0
    redirect: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.posts.append(Received({key.lower(): value for key, value in self.headers.items()}, body))
            if state.redirect:
                self.send_response(302)
                self.send_header("location", "/elsewhere")
            elif state.failures > 0:
                state.failures -= 1
                self.send_response(500)
            else:
                self.send_response(204)
            self.end_headers()
            state.arrived.set()

        def do_GET(self) -> None:  # where a followed redirect would land
            state.posts.append(Received({"method": "GET"}, b""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ugc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


async def store(request: Request) -> Response:
    submission = request.state.ugc
    await request.body()
    return JSONResponse({"id": submission.id}, status_code=201)


@dataclass
class Guarded:
    client: TestClient
    guard: UGCGuard
    ledger: Ledger


@pytest.fixture
def guarded(policy_file: Callable[..., Path], sqlite_url: str) -> Callable[..., Guarded]:
    """Return a factory: ``guarded({"metrics": True})`` -> a client of a guarded app with that ``observe:`` section."""

    def build(observe: dict[str, Any], ledger_url: str = sqlite_url, **overrides: Any) -> Guarded:
        ledger = Ledger(ledger_url, secret=LEDGER_SECRET)
        ledger.upgrade()
        app = Starlette(routes=[Route("/upload", store, methods=["POST"])])
        guard = UGCGuard(app, policy=policy_file({"observe": observe, **overrides}), ledger=ledger_url)
        return Guarded(TestClient(guard, base_url="http://testserver"), guard, ledger)

    return build
