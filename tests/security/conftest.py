"""Hostile-suite fixtures: the whole middleware (every stage, screening included) in front of a spy app,
on a real SQLite ledger, with a captured guardian outbox.

Every case asserts what must happen: refused with the exact code, or served; and what reached the app
and the ledger. ``Site.spy.calls`` lists every request the app saw; ``Site.entries()`` counts ledger rows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from tests.conftest import write_policy
from tests.console.conftest import console_policy, filled  # noqa: F401  (the console's own fixtures, for test_console.py)
from tests.pages.conftest import CSRF_RE, Outbox
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger
from ugc_guard.pages import set_notifier

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

SECURITY_POLICY: dict[str, Any] = {
    "uploads": {
        "routes": [
            {"path": "/upload", "methods": ["POST"]},
            {"path": "/api/selfies/{entry}", "methods": ["PUT"], "body": "raw"},
            {"path": "/media/*", "methods": ["POST"]},
        ],
    },
}


@dataclass
class Spy:
    """The app behind the guard: remembers every request that reached it."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        ugc = getattr(request.state, "ugc", None)
        self.calls.append(
            {"method": request.method, "path": request.url.path, "raw_path": request.scope.get("raw_path"), "bytes": len(body), "ugc": ugc}
        )
        return JSONResponse({"reached_app": True, "path": request.url.path}, status_code=201 if request.method != "GET" else 200)

    async def websocket(self, websocket: WebSocket) -> None:
        self.calls.append({"method": "WEBSOCKET", "path": websocket.url.path})
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(
            routes=[
                Route("/", lambda request: PlainTextResponse("home")),
                Route("/upload", self.endpoint, methods=methods),
                Route("/api/selfies/{entry}", self.endpoint, methods=methods),
                Route("/media/{rest:path}", self.endpoint, methods=methods),
                Route("/gallery/{rest:path}", self.endpoint, methods=["GET"]),
                WebSocketRoute("/upload", self.websocket),
                WebSocketRoute("/ws", self.websocket),
            ]
        )


@dataclass
class Site:
    guard: UGCGuard
    spy: Spy
    outbox: Outbox
    ledger_url: str
    clients: list[TestClient] = field(default_factory=list)

    def client(self, host: str = "testserver", **kwargs: Any) -> TestClient:
        """A browser-like client (a browser User-Agent; pass ``headers=`` to change it)."""
        headers = {"user-agent": BROWSER_UA, **kwargs.pop("headers", {})}
        client = TestClient(self.guard, base_url=f"http://{host}", raise_server_exceptions=False, headers=headers, **kwargs)
        self.clients.append(client)
        return client

    def entries(self) -> int:
        """How many entries the ledger holds (all kinds)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.ledger_url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one())
        finally:
            engine.dispose()

    def reached(self) -> int:
        """How many requests (other than to ``/``) reached the app."""
        return len(self.spy.calls)


@pytest.fixture
def make_site(tmp_path: Path, sqlite_url: str) -> Iterator[Callable[..., Site]]:
    """Factory: ``make_site({"age": {...}})`` -> the full guard (every stage) on a fresh SQLite ledger."""
    from tests.conftest import deep_merge

    sites: list[Site] = []

    def build(overrides: dict[str, Any] | None = None, **guard_options: Any) -> Site:
        spool = tmp_path / f"spool{len(sites)}"
        spool.mkdir()
        merged = deep_merge(SECURITY_POLICY, overrides or {})
        merged["uploads"] = {"temp_dir": str(spool), **merged.get("uploads", {})}
        path = write_policy(tmp_path / f"policy{len(sites)}", merged)
        Ledger(sqlite_url).upgrade()
        spy = Spy()
        guard = UGCGuard(spy.app(), policy=path, ledger=sqlite_url, **guard_options)
        outbox = Outbox()
        set_notifier(guard, outbox)
        site = Site(guard, spy, outbox, sqlite_url)
        sites.append(site)
        return site

    yield build
    for site in sites:
        for client in site.clients:
            client.close()


def accept(client: TestClient, birth_date: str = "1990-05-17", **fields: Any) -> Any:
    """Accept the current terms through the terms form, as a person would; return the response."""
    page = client.get("/ugc-guard/terms")
    assert page.status_code == 200, page.text
    match = CSRF_RE.search(page.text)
    assert match is not None
    data = {
        "csrf_token": match.group(1), "terms_version": "1", "lang": "en", "next": "/", "birth_date": birth_date,
        "accept_terms": "yes", "accept_licence": "yes", **fields,
    }  # fmt: skip
    return client.post("/ugc-guard/accept", data=data, follow_redirects=False)


GRANTS = {"ugc_licence": "accept", "ugc_portrait_self": "accept", "ugc_portrait_others": "none"}
RAW_GRANTS = {"UGC-Licence": "accept", "UGC-Portrait-Self": "accept", "UGC-Portrait-Others": "none"}


def jpeg(size: tuple[int, int] = (64, 48), color: str = "red", **save: Any) -> bytes:
    """A real JPEG made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def png(size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, "PNG", **save)
    return buffer.getvalue()


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        """The problem ``code``; None when the answer is no problem document (or a HEAD answer without a body)."""
        if not self.body or not self.headers.get("content-type", "").startswith("application/problem+json"):
            return None
        return self.json().get("code")  # type: ignore[no-any-return]


def raw_request(
    guard: Any,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    *,
    root_path: str = "",
) -> RawReply:
    """Send one request straight into the ASGI app, as uvicorn would hand it on.

    ``target`` is the request target as it would be on the wire (``/api/selfies/%2e%2e?x=1``): the
    scope gets ``raw_path`` as sent and ``path`` decoded once, which is what Starlette routes. The
    test client cannot do this: it resolves dot segments before sending.
    """
    from urllib.parse import unquote

    import anyio

    raw_path, _, query = target.partition("?")
    sent_headers = headers if headers is not None else [("host", "testserver"), ("user-agent", BROWSER_UA)]
    if body and not any(name.lower() == "content-length" for name, _ in sent_headers):
        sent_headers = [*sent_headers, ("content-length", str(len(body)))]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": root_path + unquote(raw_path), "raw_path": (root_path + raw_path).encode("latin-1"), "root_path": root_path,
        "query_string": query.encode("latin-1"),
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in sent_headers],
        "client": ("198.51.100.7", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    messages: list[dict[str, Any]] = []
    pending = [body]

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def main() -> None:
        with anyio.fail_after(60):  # a hang fails the case instead of blocking the suite
            await guard(scope, receive, send)

    anyio.run(main)
    start = next(message for message in messages if message["type"] == "http.response.start")
    data = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
    return RawReply(start["status"], {key.decode(): value.decode("latin-1") for key, value in start["headers"]}, data)


def cookie_header(client: TestClient) -> tuple[str, str]:
    """The ``cookie`` header of a test client's jar, for :func:`raw_request`."""
    return ("cookie", "; ".join(f"{name}={value}" for name, value in client.cookies.items()))
