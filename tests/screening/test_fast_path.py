"""The fast path: the app takes the screened file from ``request.state.ugc`` and never parses the body again.

The whole guard with the shipped onscreen policy and a SQLite ledger; the app saves or reads each
file it is handed. What it gets is exactly what the replayed body would have carried, and the
temporary files are gone after the response while the saved ones stay.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.pages.conftest import accept_form
from tests.screening import samples
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger
from ugc_guard.screening import ScreenedFile
from ugc_guard.screening.spool import BodySpool
from ugc_guard.screening.tempfiles import TempFiles

ONSCREEN = Path(__file__).resolve().parents[2] / "policies" / "onscreen.yaml"


@dataclass
class FastApp:
    """Saves every screened file (``save``, or ``save(link=False)``) and reads it back (``open``); never reads the body."""

    folder: Path
    link: bool = True
    saved: list[tuple[Path, bytes, ScreenedFile, bool]] = field(default_factory=list)
    """(saved path, what ``open`` read, the screened file, whether the temporary file existed during the request)."""

    async def upload(self, request: Request) -> Response:
        for number, item in enumerate(request.state.ugc.files):
            target = self.folder / f"{request.state.ugc.id}-{number}"
            saved = Path(await item.save_async(target, link=self.link))

            def read(item: ScreenedFile = item) -> bytes:
                with item.open() as handle:
                    return handle.read()

            read_back = await anyio.to_thread.run_sync(read)
            self.saved.append((saved, read_back, item, item.path is not None and os.path.exists(item.path)))
        return JSONResponse({"id": request.state.ugc.id}, status_code=201)


@dataclass
class Site:
    client: TestClient
    app: FastApp
    spool: Path


@pytest.fixture(params=[True, False], ids=["link", "copy"])
def site(request: pytest.FixtureRequest, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    Ledger(sqlite_url).upgrade()
    app = FastApp(tmp_path / "kept", link=request.param)
    app.folder.mkdir()
    guard = UGCGuard(Starlette(routes=[Route("/upload", app.upload, methods=["POST"])]), policy=ONSCREEN, ledger=sqlite_url)
    with TestClient(guard, base_url="https://localhost") as client:
        assert accept_form(client, terms_version="2026-11").status_code == 303
        yield Site(client, app, spool)


def post(site: Site, filename: str, kind: str, data: bytes) -> Any:
    body, form_type = samples.upload_form(filename, kind, data)
    return site.client.post("/upload", content=body, headers={"content-type": form_type})


def test_a_cleaned_photo_is_handed_over_as_cleaned_and_outlives_the_response(site: Site) -> None:
    original = samples.jpeg((640, 480), exif=True, comment=b"shot at home")
    assert post(site, "me.jpg", "image/jpeg", original).status_code == 201
    ((saved, read_back, item, temp_existed),) = site.app.saved
    data = saved.read_bytes()
    assert data == read_back
    assert hashlib.sha256(data).hexdigest() == item.delivered_hash == item.delivered_sha256
    assert len(data) == item.delivered_size and item.size == len(original) and item.sha256 == hashlib.sha256(original).hexdigest()
    assert item.cleaning == "lossless" and item.detected_type == "image/jpeg" and temp_existed
    with Image.open(saved) as image:
        assert image.size == (640, 480) and not image.getexif().get(0x8825) and "comment" not in image.info
    assert b"shot at home" not in data and b"LicenseRef-onscreen-ugc" in data  # cleaned, rights written
    assert sorted(os.listdir(site.spool)) == []  # every temporary file is gone; the saved file stays
    assert saved.exists() and os.stat(saved).st_nlink == 1


def test_a_file_not_cleaned_is_copied_from_its_range_of_the_spooled_body(site: Site) -> None:
    size = 100  # a small body stays in memory
    text = (b"a line of text for the fast path\n" * (size // 33 + 1))[:size]
    assert post(site, "notes.txt", "text/plain", text).status_code == 201
    ((saved, read_back, item, _),) = site.app.saved
    assert saved.read_bytes() == read_back == text
    assert item.path is None and item.delivered_size == size and item.delivered_hash == hashlib.sha256(text).hexdigest()
    assert sorted(os.listdir(site.spool)) == []


def test_saving_over_an_existing_file_is_refused(tmp_path: Path) -> None:
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"mine")
    source = tmp_path / "cleaned"
    source.write_bytes(b"cleaned bytes")
    item = ScreenedFile("file", "a.txt", "a.txt", "text/plain", "text/plain", "text/plain", 3, "00",
                        canonical_path=str(source), canonical_size=13, canonical_sha256="11")  # fmt: skip
    for link in (True, False):
        with pytest.raises(FileExistsError):
            item.save(kept, link=link)
    assert kept.read_bytes() == b"mine"
    assert Path(item.save(tmp_path / "new", link=False)).read_bytes() == b"cleaned bytes"


@pytest.mark.parametrize("link", [True, False])
def test_a_range_of_a_spool_file_is_copied_by_the_kernel(tmp_path: Path, link: bool) -> None:
    temp = TempFiles(str(tmp_path))
    spool = BodySpool(temp, memory_limit=0)
    body = b"--head--" + os.urandom(5 * 1024 * 1024 + 17) + b"--tail--"
    spool.queue(body)
    anyio.run(spool.flush)
    assert not spool.in_memory
    part = body[8:-8]
    item = ScreenedFile("file", "a.bin", "a.bin", "video/mp4", "video/mp4", "video/mp4", len(part),
                        hashlib.sha256(part).hexdigest(), source=spool.reader(8, len(part)))  # fmt: skip
    saved = Path(item.save(tmp_path / "kept.bin", link=link))
    assert saved.read_bytes() == part and item.delivered_hash == hashlib.sha256(part).hexdigest()
    with item.open() as handle:
        assert handle.read(8) == part[:8] and handle.read() == part[8:]
    temp.remove()
    assert saved.read_bytes() == part  # the app's copy stays
