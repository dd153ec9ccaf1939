"""Fixtures for screening: the real middleware with only the screening stage and an in-test ledger."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import write_policy
from ugc_guard import UGCGuard
from ugc_guard.context import RequestContext
from ugc_guard.screening import ScreenedUpload, ScreeningStage, Submission


@dataclass
class MemoryLedger:
    """Stands in for the ledger: keeps every screened upload and every not-stored mark."""

    fail_with: BaseException | None = None
    recorded: list[ScreenedUpload] = field(default_factory=list)
    not_stored: list[tuple[str, int | None]] = field(default_factory=list)
    sizes_on_record: list[int] = field(default_factory=list)

    async def record(self, ctx: RequestContext, screened: ScreenedUpload) -> Submission:
        if self.fail_with is not None:
            raise self.fail_with
        self.recorded.append(screened)
        first = screened.files[0]
        data = await anyio.to_thread.run_sync(lambda: first.source.pread(first.size, 0) if first.source else b"")
        self.sizes_on_record.append(len(data))
        assert hashlib.sha256(data).hexdigest() == first.sha256
        return Submission(str(uuid.uuid4()), first.sha256, first.type, first.size, screened.grants, {"entry": len(self.recorded)}, screened.files)

    async def mark_not_stored(self, ctx: RequestContext, submission: Submission, status: int | None) -> None:
        self.not_stored.append((submission.id, status))


async def echo(request: Request) -> Response:
    """The app: reports the body it received and what screening left in request.state."""
    body = await request.body()
    submission: Submission = request.state.ugc
    if request.query_params.get("fail") == "500":
        return JSONResponse({"error": "storage failed"}, status_code=500)
    if request.query_params.get("fail") == "raise":
        raise RuntimeError("the app fell over")
    return JSONResponse(
        {
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "content_type": request.headers.get("content-type"),
            "content_length": request.headers.get("content-length"),
            "submission": submission.id,
            "file_sha256": submission.sha256,
            "type": submission.type,
        }
    )


@dataclass
class Screening:
    client: TestClient
    app: UGCGuard
    ledger: MemoryLedger
    spool_dir: Path

    def leftovers(self) -> list[str]:
        return sorted(path.name for path in self.spool_dir.iterdir())


@pytest.fixture
def screening(tmp_path: Path) -> Iterator[Callable[..., Screening]]:
    """Factory: ``screening({"uploads": {...}})`` -> a client for the real middleware with only this stage."""
    clients: list[TestClient] = []

    def build(overrides: dict[str, Any] | None = None, ledger: MemoryLedger | None = None) -> Screening:
        spool_dir = tmp_path / f"spool{len(clients)}"
        spool_dir.mkdir()
        overrides = dict(overrides or {})
        overrides["uploads"] = {"temp_dir": str(spool_dir), **overrides.get("uploads", {})}
        policy_path = write_policy(tmp_path / f"policy{len(clients)}", overrides)
        guard = build_guard(policy_path, ledger := ledger or MemoryLedger())
        client = TestClient(guard, base_url="http://testserver", raise_server_exceptions=False)
        clients.append(client)
        return Screening(client, guard, ledger, spool_dir)

    yield build
    for client in clients:
        client.close()


def build_guard(policy_path: Path, ledger: MemoryLedger) -> UGCGuard:
    app = Starlette(routes=[Route("/upload", echo, methods=["POST"]), Route("/raw/{name}", echo, methods=["PUT"])])
    guard = UGCGuard(app, policy=policy_path)
    site = guard.sites[0]
    guard.stages[site] = [ScreeningStage(site.policy, record=ledger.record, mark_not_stored=ledger.mark_not_stored)]
    return guard


@dataclass
class Exchange:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks_read: int
    """How many request chunks the middleware had pulled when it answered."""


def drive(app: Any, method: str, path: str, headers: dict[str, str], chunks: Iterable[bytes]) -> Exchange:
    """Send a request as a list of body chunks straight into the ASGI app; count the chunks it read."""
    pending = list(chunks)
    state = {"read": 0, "answered_at": -1}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if state["read"] < len(pending):
            state["read"] += 1
            return {"type": "http.request", "body": pending[state["read"] - 1], "more_body": state["read"] < len(pending)}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["answered_at"] = state["read"]
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in {"host": "testserver", **headers}.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip

    async def main() -> None:
        await app(scope, receive, send)

    anyio.run(main)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return Exchange(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, state["answered_at"])
