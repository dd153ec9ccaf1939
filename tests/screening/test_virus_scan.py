"""clamd INSTREAM: a test server of ours that speaks the protocol, and the real Debian clamd when installed."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.screening import samples
from tests.screening.conftest import Screening
from tests.screening.samples import upload_form


class InstreamServer:
    """A loopback server speaking clamd's INSTREAM; ``mode`` is clean-or-eicar, silent or error."""

    def __init__(self, mode: str = "scan") -> None:
        self.mode = mode
        self.received: list[int] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            command = await reader.readuntil(b"\0")
            assert command == b"zINSTREAM\0"
            data = bytearray()
            while size := struct.unpack(">I", await reader.readexactly(4))[0]:
                data += await reader.readexactly(size)
            self.received.append(len(data))
            if self.mode == "silent":
                await asyncio.sleep(3600)
            elif self.mode == "error":
                writer.write(b"INSTREAM size limit exceeded. ERROR\0")
            elif samples.eicar() in data:
                writer.write(b"stream: Eicar-Signature FOUND\0")
            else:
                writer.write(b"stream: OK\0")
            await writer.drain()
        finally:
            writer.close()

    async def _shutdown(self) -> None:
        self.server.close()
        handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        self.loop.stop()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
        self.thread.join()
        self.loop.close()


@pytest.fixture
def instream() -> Iterator[Callable[[str], InstreamServer]]:
    servers: list[InstreamServer] = []

    def start(mode: str = "scan") -> InstreamServer:
        servers.append(InstreamServer(mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _post(setup: Screening, filename: str, content_type: str, data: bytes) -> tuple[int, dict[str, object]]:
    body, form_type = upload_form(filename, content_type, data)
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    return response.status_code, response.json()


def _scanning(screening: Callable[..., Screening], port: int, timeout: str = "PT5S") -> Screening:
    return screening({"uploads": {"virus_scan": {"clamd": f"tcp://127.0.0.1:{port}", "timeout": timeout}}})


def test_eicar_is_refused_and_clean_files_pass(screening: Callable[..., Screening], instream: Callable[[str], InstreamServer]) -> None:
    server = instream("scan")
    setup = _scanning(screening, server.port)
    status, answer = _post(setup, "eicar.txt", "text/plain", samples.eicar())
    assert (status, answer["code"]) == (422, "content-rejected")
    big = samples.mp4(payload_bytes=1024 * 1024)
    assert _post(setup, "clip.mp4", "video/mp4", big)[0] == 200
    assert server.received == [len(samples.eicar()), len(big)]
    assert len(setup.ledger.recorded) == 1


def test_a_scanner_that_does_not_answer_means_not_clean(screening: Callable[..., Screening], instream: Callable[[str], InstreamServer]) -> None:
    setup = _scanning(screening, instream("silent").port, timeout="PT1S")
    status, answer = _post(setup, "a.jpg", "image/jpeg", samples.jpeg())
    assert (status, answer["code"]) == (503, "scanner-unavailable")
    assert setup.ledger.recorded == [] and setup.leftovers() == []


def test_a_scanner_error_means_not_clean(screening: Callable[..., Screening], instream: Callable[[str], InstreamServer]) -> None:
    setup = _scanning(screening, instream("error").port)
    status, answer = _post(setup, "a.jpg", "image/jpeg", samples.jpeg())
    assert (status, answer["code"]) == (503, "scanner-unavailable")
    assert setup.ledger.recorded == []


def test_an_unreachable_scanner_means_not_clean(screening: Callable[..., Screening]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    setup = _scanning(screening, port)
    status, answer = _post(setup, "a.jpg", "image/jpeg", samples.jpeg())
    assert (status, answer["code"]) == (503, "scanner-unavailable")


@pytest.fixture(scope="module")
def real_clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Debian's clamd with a signature database the test writes (the EICAR hash): no download needed."""
    binary = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
    if binary is None:
        pytest.skip("clamd is not installed (apt-get install clamav-daemon); the INSTREAM test server covers the protocol")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    eicar = samples.eicar()
    (folder / "db" / "eicar.hdb").write_text(f"{hashlib.md5(eicar).hexdigest()}:{len(eicar)}:Eicar-Test-Signature\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (folder / "clamd.conf").write_text(
        f"DatabaseDirectory {folder / 'db'}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nForeground yes\nLogFile {folder / 'clamd.log'}\n"
    )
    process = subprocess.Popen([binary, "-c", str(folder / "clamd.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        if process.poll() is not None:
            pytest.skip(f"clamd did not start: {(folder / 'clamd.log').read_text(errors='replace')[-500:]}")
        yield port
    finally:
        process.terminate()
        process.wait()


def test_real_clamd_finds_eicar(screening: Callable[..., Screening], real_clamd: int) -> None:
    setup = _scanning(screening, real_clamd, timeout="PT30S")
    status, answer = _post(setup, "eicar.txt", "text/plain", samples.eicar())
    assert (status, answer["code"]) == (422, "content-rejected")
    assert _post(setup, "a.jpg", "image/jpeg", samples.jpeg())[0] == 200
