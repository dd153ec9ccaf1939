"""Active content hidden in an image's metadata or after its end, under both replay modes."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable

import pytest
from PIL import Image

from tests.screening import hostile_images as hostile
from tests.screening import samples
from tests.screening.conftest import Screening
from tests.screening.test_content import post
from ugc_guard.problems import Problem
from ugc_guard.screening.layout import image_layout
from ugc_guard.screening.polyglot import find_active_content

ORIGINAL = {"uploads": {"replay": "original"}}
CANONICAL = {"uploads": {"replay": "canonical", "rights": {"embed": False}}}  # the cleaned image exactly (rights: test_rights.py)
UNSTRIPPED = {"uploads": {"replay": "canonical", "images": {"strip_metadata": False}}}  # nothing re-encoded: originals

CLEAN = [
    ("photo.jpg", "image/jpeg", lambda: hostile.jpeg(comment=b"shot on a phone", description="Holiday <3", xp_comment="Mooi!")),
    ("progressive.jpg", "image/jpeg", lambda: hostile.jpeg(progressive=True, optimize=True)),
    ("restart-markers.jpg", "image/jpeg", lambda: hostile.jpeg(restart_marker_blocks=2)),
    ("ultra-hdr.jpg", "image/jpeg", hostile.mpo),
    ("padded.jpg", "image/jpeg", lambda: hostile.jpeg() + b"\0" * 512),
    (
        "texts.png",
        "image/png",
        lambda: hostile.png(
            ("tEXt", "Comment", "hello"), ("zTXt", "Description", "sunset " * 50), ("iTXt-z", "XML:com.adobe.xmp", hostile.XMP_PACKET.decode())
        ),
    ),
    ("xmp.gif", "image/gif", lambda: hostile.gif(xmp=hostile.XMP_PACKET)),
    ("still.webp", "image/webp", hostile.webp),
    ("anim.webp", "image/webp", lambda: hostile.webp(frames=3)),
]


@pytest.mark.parametrize("policy", [ORIGINAL, UNSTRIPPED, CANONICAL], ids=["original", "unstripped", "canonical"])
@pytest.mark.parametrize(("filename", "declared", "make"), CLEAN, ids=[row[0] for row in CLEAN])
def test_photos_with_ordinary_metadata_pass_in_every_mode(
    screening: Callable[..., Screening], policy: dict[str, object], filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    setup = screening(policy)
    data = make()
    status, answer = post(setup, filename, declared, data)
    assert status == 200, answer
    assert answer["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert len(setup.ledger.recorded) == 1


def _placements() -> list[tuple[str, str, str, Callable[[bytes], bytes]]]:
    return [
        ("JPEG COM", "x.jpg", "image/jpeg", lambda payload: hostile.jpeg(comment=payload)),
        ("EXIF ImageDescription", "x.jpg", "image/jpeg", lambda payload: hostile.jpeg(description=payload.decode())),
        ("EXIF XPComment (UTF-16)", "x.jpg", "image/jpeg", lambda payload: hostile.jpeg(xp_comment=payload.decode())),
        (
            "XMP, XML-escaped",
            "x.jpg",
            "image/jpeg",
            lambda payload: hostile.jpeg(xmp=hostile.XMP_PACKET.replace(b"Sunset on the beach", _xml_escape(payload))),
        ),
        ("APP13 (IPTC)", "x.jpg", "image/jpeg", lambda payload: hostile.jpeg_with_segments((0xED, b"Photoshop 3.0\0" + payload))),
        ("PNG tEXt", "x.png", "image/png", lambda payload: hostile.png(("tEXt", "Comment", payload.decode()))),
        ("PNG zTXt", "x.png", "image/png", lambda payload: hostile.png(("zTXt", "Comment", payload.decode()))),
        ("PNG iTXt compressed", "x.png", "image/png", lambda payload: hostile.png(("iTXt-z", "Description", payload.decode()))),
        ("PNG private chunk", "x.png", "image/png", lambda payload: hostile.png_chunk(b"prIv", payload)),
        ("GIF comment", "x.gif", "image/gif", lambda payload: hostile.gif(comment=payload)),
        ("GIF XMP extension", "x.gif", "image/gif", lambda payload: hostile.gif(xmp=payload)),
        ("WebP XMP", "x.webp", "image/webp", lambda payload: hostile.webp(xmp=payload)),
        ("WebP EXIF", "x.webp", "image/webp", lambda payload: hostile.webp(exif=b"Exif\0\0" + payload)),
    ]


def _xml_escape(payload: bytes) -> bytes:
    return payload.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;").replace(b'"', b"&quot;")


HIDDEN = [
    (f"{place}: {name}", filename, declared, make, payload)
    for place, filename, declared, make in _placements()
    for name, payload in hostile.PAYLOADS.items()
]


@pytest.mark.parametrize("policy", [ORIGINAL, CANONICAL], ids=["original", "canonical"])
@pytest.mark.parametrize(("case", "filename", "declared", "make", "payload"), HIDDEN, ids=[row[0] for row in HIDDEN])
def test_active_content_in_metadata_is_refused_in_both_modes(
    screening: Callable[..., Screening],
    policy: dict[str, object],
    case: str,
    filename: str,
    declared: str,
    make: Callable[[bytes], bytes],
    payload: bytes,
) -> None:
    setup = screening(policy)
    status, answer = post(setup, filename, declared, make(payload))
    assert (status, answer["code"]) == (422, "content-rejected"), answer
    assert setup.ledger.recorded == []
    assert setup.leftovers() == []


def test_extended_xmp_is_scanned_as_the_reader_joins_it(screening: Callable[..., Screening]) -> None:
    setup = screening(ORIGINAL)
    status, answer = post(setup, "x.jpg", "image/jpeg", hostile.extended_xmp(b'<x:xmpmeta><dc:title x="a" onerr', b'or="alert(1)"/>'))
    assert (status, answer["code"]) == (422, "content-rejected"), answer
    assert "metadata" in str(answer["detail"])


TRAILING = [
    ("JPEG + PHP", "x.jpg", "image/jpeg", lambda: samples.jpeg() + b"<?= `$_GET[0]` ?>"),
    ("JPEG + motion photo video", "x.jpg", "image/jpeg", hostile.motion_photo),
    ("JPEG + text", "x.jpg", "image/jpeg", lambda: samples.jpeg() + b"just some words"),
    ("PNG + bytes", "x.png", "image/png", lambda: samples.png() + b"\x01\x02 trailing"),
    ("GIF + bytes", "x.gif", "image/gif", lambda: samples.gif() + b"GIF tail <? system('id'); ?>"),
    ("WebP + bytes", "x.webp", "image/webp", lambda: samples.webp() + b"RIFFtail"),
    ("MPO + bytes", "x.jpg", "image/jpeg", lambda: hostile.mpo() + b"after the last image"),
]


@pytest.mark.parametrize(("case", "filename", "declared", "make"), TRAILING, ids=[row[0] for row in TRAILING])
def test_bytes_after_the_image_are_refused_when_the_app_gets_the_original(
    screening: Callable[..., Screening], case: str, filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    for policy in (ORIGINAL, UNSTRIPPED):
        setup = screening(policy)
        status, answer = post(setup, filename, declared, make())
        assert (status, answer["code"]) == (422, "content-rejected"), answer
        assert "after its end" in str(answer["detail"])
        assert setup.ledger.recorded == [] and setup.leftovers() == []


@pytest.mark.parametrize(("case", "filename", "declared", "make"), TRAILING, ids=[row[0] for row in TRAILING])
def test_bytes_after_the_image_are_cut_when_the_app_gets_the_canonical_image(
    screening: Callable[..., Screening], case: str, filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    setup = screening(CANONICAL)
    data = make()
    response = setup.client.put(f"/raw/{filename}", content=data, headers={"content-type": declared, **samples.GRANT_HEADERS})
    assert response.status_code == 200, response.text
    answer = response.json()
    recorded = setup.ledger.recorded[0].files[0]
    assert recorded.sha256 == hashlib.sha256(data).hexdigest()  # the ledger holds what was uploaded
    assert answer["sha256"] == recorded.canonical_sha256 != recorded.sha256  # the app got the re-encoded image
    assert int(answer["content_length"]) == recorded.canonical_size < len(data) + 4096


def test_irregular_containers_are_refused_in_original_mode(screening: Callable[..., Screening]) -> None:
    data = samples.jpeg()
    app0_end = 4 + int.from_bytes(data[4:6], "big")
    junk_between_segments = data[:app0_end] + b"<?= 1 ?> junk" + data[app0_end:]
    with Image.open(io.BytesIO(junk_between_segments)) as lenient:
        lenient.load()  # libjpeg skips the junk (with a warning): only the walk sees it
    setup = screening(ORIGINAL)
    status, answer = post(setup, "x.jpg", "image/jpeg", junk_between_segments)
    assert (status, answer["code"]) == (422, "content-rejected"), answer
    assert "between its segments" in str(answer["detail"])
    assert setup.ledger.recorded == []


def test_layout_finds_each_format_end() -> None:
    for data, kind in ((hostile.jpeg(), "image/jpeg"), (hostile.png(("tEXt", "a", "b")), "image/png"), (hostile.gif(), "image/gif"),
                       (hostile.webp(), "image/webp"), (hostile.mpo(), "image/jpeg")):  # fmt: skip
        layout = image_layout(data, kind)
        assert (layout.end, layout.irregular) == (len(data), None), kind
        assert image_layout(data + b"tail", kind).end == len(data)
        truncated = image_layout(data[: len(data) // 2], kind)
        assert truncated.end is None and truncated.irregular, kind
    assert image_layout(hostile.mpo(), "image/jpeg").streams == 2


def test_compressed_text_bombs_are_refused_before_inflating_them() -> None:
    with pytest.raises(Problem) as refused:
        image_layout(samples.ztxt_bomb(), "image/png")
    assert refused.value.code == "content-rejected" and "1 MiB" in refused.value.detail


def test_metadata_scan_keeps_ordinary_text_and_binary_metadata() -> None:
    assert find_active_content(hostile.XMP_PACKET) is None
    assert find_active_content(hostile.icc_profile()) is None
    assert find_active_content("Zonsondergang op het strand, 17 mei — <3 ✓".encode()) is None
    assert find_active_content(b'<?xml version="1.0"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>') is None
    noise = random.Random(11)
    for _ in range(64):  # binary metadata (thumbnails, maker notes, ICC tables) never matches by chance
        assert find_active_content(noise.randbytes(64 * 1024)) is None
    thumbnail = io.BytesIO()
    Image.effect_noise((160, 120), 64).convert("RGB").save(thumbnail, "JPEG", quality=95)
    assert find_active_content(thumbnail.getvalue()) is None


@pytest.mark.parametrize("name", sorted(hostile.PAYLOADS))
def test_metadata_scan_finds_every_payload_however_it_is_encoded(name: str) -> None:
    payload = hostile.PAYLOADS[name]
    assert find_active_content(b"Comment: " + payload)
    assert find_active_content(payload.upper())
    assert find_active_content(_xml_escape(payload))
    assert find_active_content(payload.decode().encode("utf-16-le"))
