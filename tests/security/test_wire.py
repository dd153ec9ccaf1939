"""Wire level: the real example site (policies/onscreen.yaml) under uvicorn, spoken to over a raw socket,
so no client library cleans a path, a method or a header before the server sees it.

Each case asserts the status, who answered (a problem ``code`` from ugc_guard, or the HTTP parser's own
400), and at the end that nothing was stored by the app and nothing recorded in the ledger.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import Server

from .conftest import BROWSER_UA, jpeg


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("wire")
    running = Server("onscreen.yaml", folder)
    yield running
    running.stop()


def send(server: Server, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send one raw HTTP/1.1 request (``head`` without the final blank line); return status, headers, body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    header_block, _, payload = data.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, payload


def code(headers: dict[str, str], payload: bytes) -> str | None:
    if headers.get("content-type") != "application/problem+json":
        return None
    return json.loads(payload).get("code")  # type: ignore[no-any-return]


def request(server: Server, method: str, target: str, host: str = "127.0.0.1", extra: str = "", body: bytes = b"") -> str:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {BROWSER_UA}", "Connection: close"]
    if body:
        lines += ["Content-Type: image/jpeg", f"Content-Length: {len(body)}"]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


IMAGE = jpeg()


@pytest.mark.parametrize(
    "target",
    ["/api/selfies/..", "/api/selfies/.", "/api/selfies/;x", "/api/selfies/%2e%2e", "/api/selfies/a%2fb", "/api/selfies/a%5cb",
     "/api/./selfies/1", "/api/x/../selfies/1", "/api//selfies/1", "/upload/..", "//upload", "/upload;x=1", "/api/selfies/%252e%252e"],
)  # fmt: skip
def test_tricks_on_the_wire_are_bad_path(server: Server, target: str) -> None:
    status, headers, payload = send(server, request(server, "PUT", target, body=IMAGE), IMAGE)
    assert (status, code(headers, payload)) == (400, "bad-path"), (target, payload)


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH", "DELETE", "PROPFIND"])
def test_every_method_on_the_selfie_route_is_gated_on_the_wire(server: Server, method: str) -> None:
    status, headers, payload = send(server, request(server, method, "/api/selfies/1", body=IMAGE), IMAGE)
    assert (status, code(headers, payload)) == (403, "terms-not-accepted"), method


def test_a_lowercase_method_is_refused_by_the_parser(server: Server) -> None:
    # uvicorn's parser refuses it before the app; the ASGI-level case (a server that passes it on) is in test_paths.py
    status, headers, _ = send(server, request(server, "put", "/api/selfies/1", body=IMAGE), IMAGE)
    assert status == 400 and headers.get("content-type") != "application/problem+json"


@pytest.mark.parametrize("host", ["user@127.0.0.1", "127.0.0.1:80@evil.example", "127.0.0.1:99999", "127.0.0.1:1:2"])
def test_host_tricks_on_the_wire_are_bad_host(server: Server, host: str) -> None:
    status, headers, payload = send(server, request(server, "PUT", "/api/selfies/1", host=host, body=IMAGE), IMAGE)
    assert (status, code(headers, payload)) == (400, "bad-host"), host


def test_unknown_host_on_the_wire(server: Server) -> None:
    status, headers, payload = send(server, request(server, "PUT", "/api/selfies/1", host="evil.example", body=IMAGE), IMAGE)
    assert (status, code(headers, payload)) == (421, "unknown-host")


def test_get_with_a_chunked_body_on_an_upload_route_is_refused(server: Server) -> None:
    head = request(server, "GET", "/upload", extra="Transfer-Encoding: chunked")
    status, headers, payload = send(server, head, b"5\r\nhello\r\n0\r\n\r\n")
    assert (status, code(headers, payload)) == (400, "invalid-request")


def test_request_smuggling_shapes_are_refused_by_the_parser(server: Server) -> None:
    head = request(server, "POST", "/upload", extra="Transfer-Encoding: chunked\nContent-Length: 4")
    status, headers, _ = send(server, head, b"0\r\n\r\nGET /upload HTTP/1.1\r\n\r\n")
    assert status == 400 and headers.get("content-type") != "application/problem+json"  # uvicorn's parser, before the app


def test_a_plain_page_is_served_on_the_wire(server: Server) -> None:
    status, _, payload = send(server, request(server, "GET", "/", host=f"127.0.0.1:{server.port}"))
    assert status == 200 and b'id="start"' in payload  # the home page: terms and age first, then the file


def test_nothing_was_stored_or_recorded(server: Server) -> None:
    # runs last in this module (pytest keeps file order): every case above was refused before the app
    uploads = Path(server.log_path).parent / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{Path(server.log_path).parent / 'ledger.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one() == 0
    engine.dispose()
