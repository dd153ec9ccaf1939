"""Over a real uvicorn socket: a trickling client runs into the deadline, a vanishing one leaves nothing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import write_policy
from tests.screening import samples
from tests.screening.conftest import MemoryLedger, build_guard
from ugc_guard.screening import metrics


@dataclass
class Served:
    port: int
    ledger: MemoryLedger
    spool_dir: Path

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    policy = write_policy(
        tmp_path / "policy",
        {"uploads": {"temp_dir": str(spool_dir), "spool_memory_bytes": 1024,
                     "routes": [{"path": "/upload", "limits": {"deadline": "PT2S"}}]}},
    )  # fmt: skip
    ledger = MemoryLedger()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_guard(policy, ledger), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield Served(port, ledger, spool_dir)
    server.should_exit = True
    thread.join()


def _head(length: int, content_type: str) -> bytes:
    return (
        f"POST /upload HTTP/1.1\r\nHost: testserver\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _read_response(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
        if b"\r\n\r\n" in data and b'"code"' in data and data.rstrip().endswith(b"}"):
            break
    return data


def test_body_trickled_at_one_byte_a_second_gets_408_after_the_deadline(served: Served) -> None:
    body, content_type = samples.upload_form("a.jpg", "image/jpeg", samples.jpeg())
    with served.connect() as conn:
        conn.sendall(_head(len(body), content_type))
        started = time.monotonic()
        for byte in body:
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
            conn.settimeout(1.0)
            try:
                answer = conn.recv(65536, socket.MSG_PEEK)
            except TimeoutError:
                continue
            if answer:
                break
        conn.settimeout(None)
        response = _read_response(conn)
    elapsed = time.monotonic() - started
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    assert b'"code":"upload-timeout"' in response.replace(b" ", b"")
    assert elapsed >= 2.0
    assert served.ledger.recorded == []
    assert list(served.spool_dir.iterdir()) == []


def test_client_disconnecting_mid_upload_leaves_no_submission_and_no_temp_file(served: Served) -> None:
    before = metrics.disconnected
    body, content_type = samples.upload_form("clip.mp4", "video/mp4", samples.mp4(payload_bytes=4 * 1024 * 1024))
    conn = served.connect()
    conn.sendall(_head(len(body), content_type))
    conn.sendall(body[: len(body) // 2])
    for _ in range(500):  # wait until the upload spooled to disk, then vanish
        if any(served.spool_dir.iterdir()):
            break
        time.sleep(0.01)
    assert any(served.spool_dir.iterdir())
    conn.close()
    for _ in range(500):
        if metrics.disconnected > before and not any(served.spool_dir.iterdir()):
            break
        time.sleep(0.01)
    assert metrics.disconnected == before + 1
    assert list(served.spool_dir.iterdir()) == []
    assert served.ledger.recorded == []


def test_a_whole_upload_over_the_socket_is_accepted(served: Served) -> None:
    body, content_type = samples.upload_form("clip.mp4", "video/mp4", samples.mp4(payload_bytes=2 * 1024 * 1024))
    with served.connect() as conn:
        conn.sendall(_head(len(body), content_type) + body)
        response = b""
        while b'"type"' not in response:
            response += conn.recv(65536)
    assert response.startswith(b"HTTP/1.1 200")
    assert len(served.ledger.recorded) == 1
    for _ in range(500):
        if not any(served.spool_dir.iterdir()):
            break
        time.sleep(0.01)
    assert list(served.spool_dir.iterdir()) == []
