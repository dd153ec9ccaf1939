"""Rights travel with the file: the whole guard with the shipped onscreen policy, a SQLite ledger and an app that keeps
what it receives. What the app gets carries the licence and the receipt, and nothing of the uploader's metadata."""

from __future__ import annotations

import hashlib
import io
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.pages.conftest import accept_form
from tests.screening import avmedia, samples
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger
from ugc_guard.screening.embed import XMP_UUID
from ugc_guard.screening.xmp import NAMESPACES

ONSCREEN = Path(__file__).resolve().parents[2] / "policies" / "onscreen.yaml"
LOCATION = "+52.3702+004.8952+001.000/"


@dataclass
class Received:
    """The app behind the guard: keeps every file it was handed, with ``request.state.ugc``."""

    files: list[tuple[bytes, str, Any]] = field(default_factory=list)

    async def upload(self, request: Request) -> Response:
        form = await request.form()
        upload = form["file"]
        data = await upload.read()  # type: ignore[union-attr]
        self.files.append((data, upload.content_type or "", request.state.ugc))  # type: ignore[union-attr]
        return JSONResponse({"id": request.state.ugc.id}, status_code=201)


@dataclass
class Site:
    client: TestClient
    app: Received
    ledger: Ledger


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("UGC_GUARD_ORIGIN", "https://onscreen.example")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    ledger = Ledger(sqlite_url)
    ledger.upgrade()
    received = Received()
    guard = UGCGuard(Starlette(routes=[Route("/upload", received.upload, methods=["POST"])]), policy=ONSCREEN, ledger=sqlite_url)
    with TestClient(guard, base_url="https://localhost") as client:
        assert accept_form(client, terms_version="2026-11").status_code == 303
        yield Site(client, received, ledger)


def upload(site: Site, filename: str, kind: str, data: bytes) -> Any:
    body, form_type = samples.upload_form(filename, kind, data)
    return site.client.post("/upload", content=body, headers={"content-type": form_type})


def rights(packet: bytes) -> dict[str, str]:
    """Every property with text, as ``prefix:Name`` -> text (an ``rdf:Alt`` item under its property's name)."""
    text = packet.decode("utf-8")
    root = ET.fromstring(text[text.index("<x:xmpmeta") : text.rindex("</x:xmpmeta>") + len("</x:xmpmeta>")])
    names = {uri: prefix for prefix, uri in NAMESPACES.items()}
    parents = {child: parent for parent in root.iter() for child in parent}
    found = {}
    for element in root.iter():
        if not (element.text and element.text.strip()):
            continue
        named = element
        if element.tag == f"{{{NAMESPACES['rdf']}}}li":
            named = parents[parents[element]]  # property > rdf:Alt > rdf:li
        uri, _, name = named.tag[1:].partition("}")
        found[f"{names[uri]}:{name}"] = element.text
    return found


def without_jpeg_xmp(data: bytes) -> bytes:
    at = data.index(b"\xff\xe1\x00")
    while data[at + 4 : at + 33] != b"http://ns.adobe.com/xap/1.0/\0":
        at = data.index(b"\xff\xe1", at + 2)
    return data[:at] + data[at + 2 + struct.unpack(">H", data[at + 2 : at + 4])[0] :]


def test_an_accepted_jpeg_reaches_the_app_with_an_xmp_naming_the_licence_and_dmi_prohibited(site: Site) -> None:
    original = samples.jpeg((64, 48), exif=True, comment=b"shot at home", xmp=b"<x:xmpmeta>GPS 52.37</x:xmpmeta>")
    response = upload(site, "me.jpg", "image/jpeg", original)
    assert response.status_code == 201, response.text
    ((data, content_type, submission),) = site.app.files
    assert content_type == "image/jpeg"
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        packet = image.info["xmp"]
        assert dict(image.getexif()) == {0x0112: 6}  # GPS, camera, comment gone; the orientation kept
    for secret in (b"shot at home", b"GPS 52.37", b"\x88\x25"):
        assert secret not in data
    stated = rights(packet)
    receipt = submission.receipt
    assert stated["ugcguard:LicenceId"] == "LicenseRef-onscreen-ugc" and stated["ugcguard:LicenceVersion"] == "1.0"
    assert stated["plus:DataMining"] == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
    assert stated["plus:ModelReleaseStatus"] == "http://ns.useplus.org/ldf/vocab/MR-LMR"  # own consent, withdrawable
    assert stated["plus:LicensorName"] == "Streamly Media B.V. (example)" and stated["plus:LicensorEmail"] == "privacy@streamly.example"
    assert stated["xmpRights:WebStatement"] == "https://onscreen.example/ugc-guard/terms"
    assert "LicenseRef-onscreen-ugc version 1.0" in stated["xmpRights:UsageTerms"] and "mining" in stated["xmpRights:UsageTerms"]
    assert (stated["ugcguard:SubmissionId"], stated["ugcguard:ReceiptEntry"]) == (submission.id, str(receipt.entry_id))
    assert stated["ugcguard:ReceiptHash"] == receipt.hash and stated["ugcguard:ReceivedSHA256"] == hashlib.sha256(original).hexdigest()
    assert stated["ugcguard:LicenceTextSHA256"] == submission.extra["licence"]["text_sha256"]

    (delivered,) = submission.files
    assert delivered.delivered_sha256 == hashlib.sha256(data).hexdigest() and delivered.rights == ("xmp",)
    assert delivered.cleaning == "lossless" and "EXIF" in delivered.stripped and "EXIF orientation" in delivered.kept
    (record,) = site.ledger.by_content(hashlib.sha256(original).hexdigest())
    canonical = record["submission"].data["canonical_sha256"]
    assert canonical == delivered.canonical_sha256 == hashlib.sha256(without_jpeg_xmp(data)).hexdigest()  # the packet is all that was added


def test_a_quicktime_clip_with_a_location_tag_is_accepted_and_the_app_gets_it_without_the_location(site: Site) -> None:
    clip = avmedia.encode("mov", seconds=1, metadata={"location": LOCATION, "make": "Apple", "model": "iPhone 15 Pro"})
    tagged = avmedia.encode("mov", seconds=1, metadata={"com.apple.quicktime.location.ISO6709": LOCATION}, options={"movflags": "use_metadata_tags"})
    for original in (clip, tagged):
        response = upload(site, "clip.mov", "video/quicktime", original)
        assert response.status_code == 201, response.text
        data, content_type, submission = site.app.files[-1]
        assert content_type == "video/quicktime"
        assert LOCATION[:12].encode() not in data and b"\xa9xyz" not in data and b"iPhone" not in data
        with av.open(io.BytesIO(data)) as container:
            assert not {key for key in container.metadata if "location" in key or key in ("make", "model")}
        assert avmedia.packets(data) == avmedia.packets(original)  # the streams bit for bit
        kind, offset, size = list(avmedia.boxes(data))[-1]
        assert kind == b"uuid" and data[offset + 8 : offset + 24] == XMP_UUID
        stated = rights(data[offset + 24 : offset + size])
        assert stated["ugcguard:LicenceId"] == "LicenseRef-onscreen-ugc" and stated["plus:DataMining"].endswith("DMI-PROHIBITED")
        assert stated["ugcguard:SubmissionId"] == submission.id
        (delivered,) = submission.files
        assert delivered.cleaning == "remux" and delivered.delivered_sha256 == hashlib.sha256(data).hexdigest()
        assert any("location" in name for name in delivered.stripped)
        assert hashlib.sha256(data[:offset]).hexdigest() == delivered.canonical_sha256  # the remux, before the rights box


def test_a_clip_whose_boxes_are_intact_but_whose_frames_are_scrambled_gets_422(site: Site) -> None:
    scrambled = avmedia.scramble_mdat(avmedia.encode("mov", seconds=1, size=(160, 120)))
    before = len(site.ledger.submissions().items)
    response = upload(site, "clip.mov", "video/quicktime", scrambled)
    assert response.status_code == 422 and response.json()["code"] == "content-rejected", response.text
    assert site.app.files == [] and len(site.ledger.submissions().items) == before
