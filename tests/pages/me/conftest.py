"""Rights fixtures: the real middleware on a real ledger, with people who accept and upload real JPEGs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.pages.conftest import accept_form
from tests.screening.samples import jpeg, upload_form
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger

SECRET = "test-secret-" + "x" * 32
EVENTS: list[dict[str, Any]] = []


def record_event(event: dict[str, Any]) -> None:
    """A ``module:function`` hook that keeps what it was given."""
    EVENTS.append(event)


async def store(request: Request) -> Response:
    submission = request.state.ugc
    await request.form()
    return JSONResponse({"id": submission.id}, status_code=201)


@dataclass
class Site:
    guard: UGCGuard
    ledger: Ledger
    url: str

    def person(self) -> TestClient:
        """A new browser that accepted the terms (its own subject cookie)."""
        client = TestClient(self.guard, base_url="http://testserver")
        assert accept_form(client).status_code == 303
        return client

    def upload(self, client: TestClient, seed: int = 0) -> tuple[int, str]:
        """Upload a distinct real JPEG; return the submission id and the file's SHA-256."""
        picture = jpeg((40 + seed, 30 + seed))
        body, content_type = upload_form(f"photo-{seed}.jpg", "image/jpeg", picture)
        response = client.post("/upload", content=body, headers={"content-type": content_type})
        assert response.status_code == 201, response.text
        return int(response.json()["id"]), hashlib.sha256(picture).hexdigest()


@pytest.fixture
def make_site(policy_file: Callable[..., Path], ledger_url: str) -> Callable[..., Site]:
    """Return a factory: ``make_site({"hooks": {...}})`` -> middleware + ledger (SQLite and PostgreSQL)."""
    EVENTS.clear()

    def build(overrides: dict[str, Any] | None = None) -> Site:
        ledger = Ledger(ledger_url, secret=SECRET)
        ledger.upgrade()
        app = Starlette(routes=[Route("/upload", store, methods=["POST"])])
        guard = UGCGuard(app, policy=policy_file({"uploads": {"replay": "original"}, **(overrides or {})}), ledger=ledger_url)
        return Site(guard, ledger, ledger_url)

    return build
