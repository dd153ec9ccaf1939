from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from ugc_guard.hooks import HookFailed, call_hook

RECEIVED: list[dict[str, Any]] = []


def collect(event: dict[str, Any]) -> None:
    RECEIVED.append(event)


async def collect_async(event: dict[str, Any]) -> None:
    RECEIVED.append({"async": True, **event})


def explode(event: dict[str, Any]) -> None:
    raise OSError("disk gone")


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if self.path == "/fail" else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", got
    finally:
        server.shutdown()
        server.server_close()


async def test_callable_hooks_sync_and_async() -> None:
    RECEIVED.clear()
    await call_hook("tests.test_hooks:collect", {"event": "withdrawal", "submissions": ["s1"]})
    await call_hook("tests.test_hooks:collect_async", {"event": "erasure"})
    assert RECEIVED == [{"event": "withdrawal", "submissions": ["s1"]}, {"async": True, "event": "erasure"}]


async def test_failing_or_missing_callable() -> None:
    with pytest.raises(HookFailed, match="OSError: disk gone"):
        await call_hook("tests.test_hooks:explode", {})
    with pytest.raises(HookFailed, match="cannot import it"):
        await call_hook("tests.test_hooks:absent", {})


async def test_webhook_posts_json(webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, got = webhook
    await call_hook(url + "/ok", {"event": "content-deletion", "sha256": ["ab" * 32]})
    assert got == [{"event": "content-deletion", "sha256": ["ab" * 32]}]
    with pytest.raises(HookFailed, match="answered 500"):
        await call_hook(url + "/fail", {"event": "x"})


async def test_unreachable_webhook() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HookFailed, match="webhook"):
        await call_hook(f"http://127.0.0.1:{port}/", {"event": "x"}, timeout=2)


def test_call_hook_sync_for_the_cli(webhook: tuple[str, list[dict[str, Any]]]) -> None:
    from ugc_guard.hooks import call_hook_sync

    url, got = webhook
    call_hook_sync(url + "/ok", {"event": "content-deletion", "files": []})
    assert got == [{"event": "content-deletion", "files": []}]
    with pytest.raises(HookFailed, match="OSError: disk gone"):
        call_hook_sync("tests.test_hooks:explode", {})
