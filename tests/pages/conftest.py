"""Gate fixtures: a tiny upload app behind the real UGCGuard, on a real ledger (SQLite by default)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger
from ugc_guard.pages import Gate, GuardianMessage, find_gate, set_notifier

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
MINOR_POLICY = {"age": {"guardian_minimum": 16}}


async def upload(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"reached_app": True, "bytes": len(body), "acceptance": request.scope.get("state", {}).get("x")})


async def home(request: Request) -> Response:
    return PlainTextResponse("home")


def upload_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", home),
            Route("/upload", upload, methods=["POST", "PUT", "PATCH", "DELETE"]),
            Route("/raw/{name}", upload, methods=["PUT", "POST", "PATCH"]),
        ]
    )


@dataclass
class Outbox:
    messages: list[GuardianMessage] = field(default_factory=list)

    async def send_guardian_link(self, message: GuardianMessage) -> None:
        self.messages.append(message)

    def path(self, index: int = -1) -> str:
        return "/" + self.messages[index].link.split("/", 3)[3]

    def token(self, index: int = -1) -> str:
        return self.messages[index].link.split("token=", 1)[1]


@dataclass
class Harness:
    guard: UGCGuard
    outbox: Outbox
    ledger_url: str

    @property
    def gate(self) -> Gate:
        return find_gate(self.guard)

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.guard, base_url="http://testserver", **kwargs)


def no_screening(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave the screening stage out: these tests are about the gate in front of it."""
    import ugc_guard.pipeline as pipeline

    if hasattr(pipeline, "ScreeningStage"):
        monkeypatch.setattr(pipeline, "ScreeningStage", lambda *args, **kwargs: _Pass())


class _Pass:
    async def __call__(self, ctx: Any) -> None:
        return None


@pytest.fixture
def make_harness(policy_file: Callable[..., Path], sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Harness]:
    """Return a factory: ``make_harness({"age": {...}}, ledger_url=...)`` -> app + outbox on a fresh ledger
    (``upgrade=False``: the ledger as it is, e.g. a path that cannot be opened)."""
    no_screening(monkeypatch)

    def build(overrides: dict[str, Any] | None = None, *, ledger_url: str | None = None, app: Any = None, upgrade: bool = True) -> Harness:
        url = ledger_url or sqlite_url
        if upgrade:
            Ledger(url).upgrade()
        guard = UGCGuard(app or upload_app(), policy=policy_file(overrides), ledger=url)
        outbox = Outbox()
        set_notifier(guard, outbox)
        return Harness(guard, outbox, url)

    return build


def terms_form(client: TestClient, path: str = "/ugc-guard/terms") -> str:
    """Open the terms page and return its form token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF_RE.search(page.text)
    assert match is not None
    return match.group(1)


def accept_form(client: TestClient, birth_date: str = "1990-05-17", **fields: str) -> Any:
    """Open the terms page and post its form as a person would; return the (unfollowed) response."""
    data = {
        "csrf_token": terms_form(client),
        "terms_version": "1",
        "lang": "en",
        "next": "/",
        "birth_date": birth_date,
        "accept_terms": "yes",
        "accept_licence": "yes",
        **fields,
    }
    return client.post("/ugc-guard/accept", data=data, follow_redirects=False)
