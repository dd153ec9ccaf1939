"""Type screening through the real middleware: what each kind of file gets."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageOps

from tests.screening import samples
from tests.screening.conftest import Screening
from tests.screening.samples import upload_form


def post(setup: Screening, filename: str, content_type: str | None, data: bytes) -> tuple[int, dict[str, object]]:
    body, form_type = upload_form(filename, content_type, data)
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    return response.status_code, response.json()


ACCEPTED = [
    ("photo.jpg", "image/jpeg", samples.jpeg, "image/jpeg"),
    ("photo.JPEG", "image/jpg", samples.jpeg, "image/jpeg"),
    ("image.png", "image/png", samples.png, "image/png"),
    ("anim.gif", "image/gif", samples.gif, "image/gif"),
    ("still.webp", "image/webp", samples.webp, "image/webp"),
    ("clip.mp4", "video/mp4", samples.mp4, "video/mp4"),
    ("voice.m4a", "audio/mp4", lambda: samples.mp4(brand=b"M4A "), "audio/mp4"),
    ("clip.mov", "video/quicktime", samples.mov, "video/quicktime"),
    ("clip.webm", "video/webm", samples.webm, "video/webm"),
    ("song.mp3", "audio/mpeg", samples.mp3, "audio/mpeg"),
    ("raw.mp3", "audio/mp3", lambda: samples.mp3(id3=False), "audio/mpeg"),
    ("sound.wav", "audio/x-wav", samples.wav, "audio/wav"),
    ("sound.wav", "audio/wav", samples.wav, "audio/wav"),
    ("talk.ogg", "audio/ogg", samples.ogg, "audio/ogg"),
    ("story.txt", "text/plain", lambda: "Er was eens… ✓\n".encode(), "text/plain"),
    ("blob", "application/octet-stream", samples.png, "image/png"),
    ("noname", None, samples.jpeg, "image/jpeg"),
]


@pytest.mark.parametrize(("filename", "declared", "make", "accepted_as"), ACCEPTED, ids=[row[0] + ":" + str(row[1]) for row in ACCEPTED])
def test_allowed_files_are_accepted_and_recorded_with_their_hash(
    screening: Callable[..., Screening], filename: str, declared: str | None, make: Callable[[], bytes], accepted_as: str
) -> None:
    setup = screening({"uploads": {"images": {"strip_metadata": False}}})
    data = make()
    status, answer = post(setup, filename, declared, data)
    assert status == 200, answer
    assert answer["type"] == accepted_as
    assert answer["file_sha256"] == hashlib.sha256(data).hexdigest()
    recorded = setup.ledger.recorded[0].files[0]
    assert (recorded.sha256, recorded.size, recorded.type) == (hashlib.sha256(data).hexdigest(), len(data), accepted_as)


REFUSED_TYPE = [
    ("declared jpeg, bytes are HTML", "x.jpg", "image/jpeg", b"<!DOCTYPE html><html><body>hi</body></html>"),
    ("declared jpeg, bytes are PHP", "x.jpg", "image/jpeg", b"<?php system($_GET['c']); ?>"),
    ("declared jpeg, bytes are ELF", "x.jpg", "image/jpeg", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 200),
    ("declared png, bytes are jpeg", "x.png", "image/png", samples.jpeg()),
    ("jpeg named .png", "x.png", "image/jpeg", samples.jpeg()),
    ("jpeg named .exe", "x.exe", "image/jpeg", samples.jpeg()),
    ("PDF", "doc.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"),
    ("EPS (Ghostscript)", "x.eps", "application/postscript", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n"),
    ("JPEG 2000", "x.jp2", "image/jp2", b"\0\0\0\x0cjP  \r\n\x87\n" + b"\0" * 64),
    ("FITS", "x.fits", "image/fits", b"SIMPLE  =                    T" + b" " * 2850),
    ("SVG not allowed", "x.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'),
    ("ZIP", "x.zip", "application/zip", b"PK\x03\x04" + b"\0" * 26 + b"PK\x05\x06" + b"\0" * 18),
]


@pytest.mark.parametrize(("case", "filename", "declared", "data"), REFUSED_TYPE, ids=[row[0] for row in REFUSED_TYPE])
def test_wrong_or_unaccepted_types_get_415(screening: Callable[..., Screening], case: str, filename: str, declared: str, data: bytes) -> None:
    setup = screening()
    status, answer = post(setup, filename, declared, data)
    assert (status, answer["code"]) == (415, "unsupported-media-type"), answer
    assert setup.ledger.recorded == []
    assert setup.leftovers() == []


def _png_with_html() -> bytes:
    return samples.png() + b"<html><script>alert(document.cookie)</script></html>"


def _jpeg_with_zip() -> bytes:
    return samples.jpeg() + b"PK\x03\x04" + b"\0" * 26 + b"PK\x05\x06" + b"\0" * 18


def _pdf_in_first_kib() -> bytes:
    data = samples.jpeg(comment=b"%PDF-1.4 obj")
    assert data.index(b"%PDF-") < 1024
    return data


REJECTED = [
    ("PNG + appended HTML", "x.png", "image/png", _png_with_html),
    ("JPEG + appended ZIP", "x.jpg", "image/jpeg", _jpeg_with_zip),
    ("%PDF- in the first KiB", "x.jpg", "image/jpeg", _pdf_in_first_kib),
    ("script in a JPEG comment", "x.jpg", "image/jpeg", lambda: samples.jpeg(comment=b"<script>alert(1)</script>")),
    ("MP4 + appended ZIP", "x.mp4", "video/mp4", lambda: samples.mp4() + b"PK\x05\x06" + b"\0" * 18),
    ("MP4 with HTML at the tail", "x.mp4", "video/mp4", lambda: samples.mp4()[:-64] + b"<html><body>x</body></html>".ljust(64)),
    ("30000x30000 PNG", "x.png", "image/png", lambda: samples.png_header(30000, 30000)),
    ("12001 wide PNG", "x.png", "image/png", lambda: samples.png_header(12001, 10)),
    ("zTXt bomb", "x.png", "image/png", samples.ztxt_bomb),
    ("thousands of GIF frames", "x.gif", "image/gif", lambda: samples.gif(frames=2000, size=(2, 2))),
    ("thousands of WebP frames", "x.webp", "image/webp", lambda: samples.webp(frames=400, size=(2, 2))),
    ("truncated JPEG", "x.jpg", "image/jpeg", lambda: samples.jpeg((256, 256))[:-400]),
    ("truncated PNG", "x.png", "image/png", lambda: samples.png((256, 256))[:300]),
    ("corrupt GIF", "x.gif", "image/gif", lambda: samples.gif()[:40] + b"\xff" * 40),
    ("MP4 box longer than the file", "x.mp4", "video/mp4", lambda: samples.mp4()[:-100]),
    ("MP4 trailing garbage", "x.mp4", "video/mp4", lambda: samples.mp4() + b"garbage!"),
    ("WebM segment size mismatch", "x.webm", "video/webm", lambda: samples.webm() + b"\0" * 10),
    ("MP3 second frame missing", "x.mp3", "audio/mpeg", lambda: samples.mp3()[:417] + b"\0" * 2000),
    ("WAV data longer than RIFF", "x.wav", "audio/wav", lambda: samples.wav()[:-200]),
    ("Ogg first page truncated", "x.ogg", "audio/ogg", lambda: samples.ogg()[:40]),
    ("text that is not UTF-8", "x.txt", "text/plain", lambda: "caf\xe9 au lait, tr\xe8s bien\n".encode("latin-1")),
    ("text over max_chars", "x.txt", "text/plain", lambda: b"word " * 5000),
    ("empty file", "x.jpg", "image/jpeg", lambda: b""),
]


@pytest.mark.parametrize(("case", "filename", "declared", "make"), REJECTED, ids=[row[0] for row in REJECTED])
def test_hostile_content_gets_422_never_500(
    screening: Callable[..., Screening], case: str, filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    setup = screening({"uploads": {"text": {"max_chars": 20000}}})
    status, answer = post(setup, filename, declared, make())
    assert (status, answer["code"]) == (422, "content-rejected"), answer
    assert setup.ledger.recorded == []
    assert setup.leftovers() == []


def test_metadata_is_stripped_and_both_hashes_recorded(screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"replay": "canonical"}})
    original = samples.jpeg((64, 48), exif=True, comment=b"shot on a secret phone", xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(0x8825) and source.info.get("comment") and source.info.get("xmp")
    status, answer = post(setup, "photo.jpg", "image/jpeg", original)
    assert status == 200, answer
    recorded = setup.ledger.recorded[0].files[0]
    assert recorded.sha256 == hashlib.sha256(original).hexdigest()
    assert recorded.canonical_sha256 and recorded.canonical_sha256 != recorded.sha256
    assert (recorded.width, recorded.height) == (64, 48)
    assert answer["content_type"].startswith("multipart/form-data; boundary=ugc-guard-")
    assert int(answer["content_length"]) == answer["length"]


def test_canonical_replay_gives_the_app_the_clean_image(tmp_path: object, screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"replay": "canonical", "rights": {"embed": False}}})  # with rights: tests/screening/test_rights.py
    original = samples.jpeg((64, 48), exif=True, comment=b"COM marker text", xmp=b"<x:xmpmeta>gps</x:xmpmeta>")
    response = setup.client.put(
        "/raw/photo.jpg", content=original, headers={"content-type": "image/jpeg", **samples.GRANT_HEADERS}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    recorded = setup.ledger.recorded[0].files[0]
    assert answer["sha256"] == recorded.canonical_sha256
    assert answer["content_type"] == "image/jpeg"
    assert int(answer["content_length"]) == recorded.canonical_size == answer["length"]


def test_canonical_image_has_no_gps_exif_xmp_or_comment_and_is_upright(screening: Callable[..., Screening]) -> None:
    from ugc_guard.policy.uploads import ImageRules
    from ugc_guard.screening.images import check_image
    from ugc_guard.screening.spool import BodySpool
    from ugc_guard.screening.tempfiles import TempFiles

    temp = TempFiles(None)
    spool = BodySpool(temp, 10**8)
    data = samples.jpeg((64, 48), exif=True, comment=b"COM text", xmp=b"<x:xmpmeta>gps</x:xmpmeta>")
    spool.queue(data)
    spool._apply(spool._writes, [])
    try:
        report = check_image(spool.reader(), "image/jpeg", ImageRules(), temp)
        assert report.canonical is not None
        with Image.open(report.canonical.path) as clean:
            # stripped losslessly: the pixels stay as stored and only the orientation tag (6) is kept
            assert dict(clean.getexif()) == {0x0112: 6} and ImageOps.exif_transpose(clean).size == (48, 64)
            assert "comment" not in clean.info and "xmp" not in clean.info
        with open(report.canonical.path, "rb") as handle:
            raw = handle.read()
        assert b"COM text" not in raw and b"xmpmeta" not in raw and hashlib.sha256(raw).hexdigest() == report.canonical.sha256
    finally:
        temp.remove()


def test_animated_gif_comment_is_stripped(screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"replay": "canonical"}})
    status, answer = post(setup, "anim.gif", "image/gif", samples.gif(frames=4))
    assert status == 200, answer
    recorded = setup.ledger.recorded[0].files[0]
    assert recorded.frames == 4 and recorded.canonical_sha256


def test_original_replay_is_byte_exact(screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"replay": "original"}})
    body, form_type = upload_form("photo.jpg", "image/jpeg", samples.jpeg(exif=True))
    body = b"\r\n" + body + b"epilogue that the parser ignores"
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert response.json()["content_type"] == form_type


def test_svg_allowed_only_when_inert(screening: Callable[..., Screening]) -> None:
    types = ["image/svg+xml", "image/png"]
    setup = screening({"uploads": {"allow_svg": True, "content_types": types}})
    inert = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="#f00"/></svg>'
    assert post(setup, "ok.svg", "image/svg+xml", inert)[0] == 200
    hostile = {
        "script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "handler": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "xxe": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        "external image": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="https://evil.example/x.png"/></svg>',
        "css import": b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/a.css);</style></svg>',
        "foreignObject": b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    }
    for case, data in hostile.items():
        status, answer = post(setup, "x.svg", "image/svg+xml", data)
        assert (status, answer["code"]) == (422, "content-rejected"), case


def test_exotic_decoders_are_never_opened_even_if_the_type_is_allowed() -> None:
    from ugc_guard.policy.uploads import ImageRules
    from ugc_guard.problems import Problem
    from ugc_guard.screening.images import check_image
    from ugc_guard.screening.spool import BodySpool
    from ugc_guard.screening.tempfiles import TempFiles

    temp = TempFiles(None)
    spool = BodySpool(temp, 10**8)
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n%%EndComments\nshowpage\n"
    spool.queue(eps)
    spool._apply(spool._writes, [])
    for claimed in ("image/jpeg", "image/png", "application/postscript"):
        with pytest.raises(Problem):
            check_image(spool.reader(), claimed, ImageRules(), None)
    temp.remove()
