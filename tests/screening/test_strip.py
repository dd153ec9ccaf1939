"""Lossless metadata stripping: metadata gone, compressed pixels bit for bit, orientation kept, hostile structure refused."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from tests.screening import samples
from ugc_guard.policy.uploads import ImageRules
from ugc_guard.problems import Problem
from ugc_guard.screening.images import check_image
from ugc_guard.screening.jpeg_segments import orientation_exif, read_orientation, strip_jpeg
from ugc_guard.screening.png_chunks import strip_png, strip_webp
from ugc_guard.screening.spool import BodySpool
from ugc_guard.screening.tempfiles import TempFiles

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">GPS 52.37</rdf:RDF></x:xmpmeta>'


@pytest.fixture
def temp() -> Iterator[TempFiles]:
    files = TempFiles(None)
    yield files
    files.remove()


def screened(data: bytes, kind: str, temp: TempFiles, rules: ImageRules | None = None) -> tuple[object, bytes]:
    spool = BodySpool(temp, 10**9)
    spool.queue(data)
    spool._apply(spool._writes, [])
    report = check_image(spool.reader(), kind, rules or ImageRules(), temp)
    assert report.canonical is not None
    with open(report.canonical.path, "rb") as handle:
        return report, handle.read()


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, whole segment) up to and including SOS."""
    found, position = [], 2
    while True:
        marker = data[position + 1]
        end = position + 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
        found.append((marker, data[position:end]))
        if marker == 0xDA:
            return found
        position = end


def _scan_data(data: bytes) -> bytes:
    """Everything from the first SOS to the end: the compressed image."""
    return data[data.index(_segments(data)[-1][1]) :]


def phone_jpeg(orientation: int = 6, progressive: bool = False) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110], exif[0x013B] = "Phone maker", "Phone 15", "Jane Owner"
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    out = io.BytesIO()
    samples.picture((96, 64)).save(out, "JPEG", quality=90, exif=exif, icc_profile=ICC, xmp=XMP, comment=b"shot at home", progressive=progressive)
    data = out.getvalue()
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x50\x00\x0aJane Owner"
    return data[:2] + b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc + data[2:] + b"trailing bytes after EOI"


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_loses_every_metadata_segment_but_keeps_pixels_icc_and_orientation(temp: TempFiles, progressive: bool) -> None:
    original = phone_jpeg(progressive=progressive)
    report, clean = screened(original, "image/jpeg", temp)
    for secret in (b"Phone maker", b"Jane Owner", b"shot at home", b"GPS 52.37", b"Photoshop", b"trailing bytes"):
        assert secret in original and secret not in clean
    assert _scan_data(clean) == _scan_data(original)[: -len(b"trailing bytes after EOI")]  # entropy data bit for bit
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(clean)) as after:
        assert before.tobytes() == after.tobytes()  # the same pixels
        assert after.info.get("icc_profile") == ICC
        assert dict(after.getexif()) == {0x0112: 6}  # the orientation alone
        assert ImageOps.exif_transpose(after).size == (64, 96)  # shown upright
    canonical = report.canonical  # type: ignore[attr-defined]
    assert canonical.method == "lossless" and (report.width, report.height) == (96, 64)  # type: ignore[attr-defined]
    assert {"EXIF", "XMP", "COM (comment)", "IPTC/Photoshop (APP13)", "24 bytes after the end-of-image marker"} <= set(canonical.stripped)
    assert {"JFIF header", "ICC profile", "EXIF orientation"} <= set(canonical.kept)


def test_an_upright_jpeg_keeps_no_exif_at_all(temp: TempFiles) -> None:
    _, clean = screened(phone_jpeg(orientation=1), "image/jpeg", temp)
    assert b"Exif\0\0" not in clean
    assert [marker for marker, _ in _segments(clean)][:1] == [0xE0]


def test_a_jfif_thumbnail_is_dropped() -> None:
    data = samples.jpeg()
    thumb = b"JFIF\0\x01\x02\x00\x00\x01\x00\x01\x02\x01" + b"\xff\x00\x00" * 2
    with_thumb = data[:2] + b"\xff\xe0" + struct.pack(">H", len(thumb) + 2) + thumb + data[2 + 2 + struct.unpack(">H", data[4:6])[0] :]
    stripped = strip_jpeg(with_thumb)
    jfif = _segments(stripped.data)[0][1]
    assert jfif[4:9] == b"JFIF\0" and jfif[16:18] == b"\0\0" and len(jfif) == 18  # 2 + 2 + 14: no thumbnail
    assert "JFIF thumbnail" in stripped.stripped


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("no start-of-image", lambda: b"\x00\x00" + samples.jpeg()[2:]),
        ("segment longer than the file", lambda: samples.jpeg()[:20] + b"\xff\xe1\xff\xf0" + b"x" * 10),
        ("cut inside the compressed data", lambda: samples.jpeg((256, 256))[:-400]),
        ("bytes where a marker must be", lambda: samples.jpeg()[:2] + b"junk" + samples.jpeg()[2:]),
    ],
)
def test_broken_jpeg_structure_is_refused(case: str, make: object) -> None:
    with pytest.raises(Problem) as caught:
        strip_jpeg(make())  # type: ignore[operator]
    assert caught.value.code == "content-rejected"


def test_orientation_reader_is_bounded_and_exact() -> None:
    for value in range(1, 9):
        assert read_orientation(orientation_exif(value)) == value
    little = b"II\x2a\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x03\0\0\0\0\0\0\0"
    assert read_orientation(little) == 3
    assert read_orientation(orientation_exif(9)) is None and read_orientation(b"MM\0\x2a\xff\xff\xff\xff") is None
    assert read_orientation(b"MM\0\x2a\0\0\0\x08\xff\xff" + b"\0" * 12) is None  # 65,535 entries claimed, one there


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def phone_png(orientation: int | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Owner")
    info.add_text("Comment", "shot at home", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    samples.picture((40, 30)).save(out, "PNG", pnginfo=info, icc_profile=ICC, exif=exif if orientation else None)
    data = out.getvalue()
    return data[:33] + _png_chunk(b"tIME", b"\x07\xea\x01\x02\x03\x04\x05") + _png_chunk(b"iDOT", b"\0" * 28) + data[33:]


def _idat(data: bytes) -> bytes:
    return b"".join(data[position + 8 : position + 8 + length] for position, length in _chunks(data) if data[position + 4 : position + 8] == b"IDAT")


def _chunks(data: bytes) -> list[tuple[int, int]]:
    found, position = [], 8
    while position < len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        found.append((position, length))
        position += 12 + length
    return found


def test_png_loses_text_xmp_time_and_private_chunks_but_keeps_idat_and_icc(temp: TempFiles) -> None:
    original = phone_png()
    report, clean = screened(original + b"after IEND", "image/png", temp)
    for secret in (b"Jane Owner", b"tEXt", b"zTXt", b"iTXt", b"tIME", b"iDOT", b"GPS", b"after IEND"):
        assert secret not in clean
    assert _idat(clean) == _idat(original)
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(clean)) as after:
        assert before.tobytes() == after.tobytes() and after.info.get("icc_profile") == ICC
    canonical = report.canonical  # type: ignore[attr-defined]
    assert canonical.method == "lossless" and "ICC profile" in canonical.kept
    assert {"PNG text (tEXt)", "PNG compressed text (zTXt)", "PNG text/XMP (iTXt)", "PNG tIME", "PNG iDOT chunk"} <= set(canonical.stripped)


def test_a_png_that_must_be_turned_is_reencoded_upright(temp: TempFiles) -> None:
    report, clean = screened(phone_png(orientation=6), "image/png", temp)
    assert report.canonical.method == "re-encode"  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(clean)) as after:
        assert after.size == (30, 40) and not after.getexif() and "Author" not in after.info


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("no IEND", lambda: samples.png()[:-12]),
        ("chunk longer than the file", lambda: samples.png()[:33] + struct.pack(">I", 10**6) + b"tEXt" + b"x" * 20),
        ("chunk type not letters", lambda: samples.png()[:33] + _png_chunk(b"t\0Xt", b"x") + samples.png()[33:]),
    ],
)
def test_broken_png_structure_is_refused(case: str, make: object) -> None:
    with pytest.raises(Problem):
        strip_png(make())  # type: ignore[operator]


def phone_webp(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = "Jane Owner"
    out = io.BytesIO()
    samples.picture((40, 30)).save(out, "WEBP", quality=80, exif=exif, xmp=XMP, icc_profile=ICC)
    return out.getvalue()


def test_webp_loses_exif_and_xmp_with_flags_and_size_fixed(temp: TempFiles) -> None:
    original = phone_webp()
    assert original[12:16] == b"VP8X" and original[20] & 0x0C == 0x0C
    report, clean = screened(original, "image/webp", temp)
    assert b"Jane Owner" not in clean and b"GPS" not in clean and b"EXIF" not in clean and b"XMP " not in clean
    assert clean[12:16] == b"VP8X" and clean[20] & 0x0C == 0 and clean[20] & 0x20  # ICC flag kept
    assert struct.unpack("<I", clean[4:8])[0] == len(clean) - 8
    start = original.index(b"VP8 ")
    assert original[start : start + 8 + struct.unpack("<I", original[start + 4 : start + 8])[0]] in clean  # the bitstream
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(clean)) as after:
        assert before.tobytes() == after.tobytes() and after.info.get("icc_profile") == ICC
    assert {"EXIF", "XMP"} <= set(report.canonical.stripped)  # type: ignore[attr-defined]


def test_broken_webp_structure_is_refused() -> None:
    data = samples.webp()
    with pytest.raises(Problem):
        strip_webp(data[:4] + struct.pack("<I", len(data) * 2) + data[8:])
    with pytest.raises(Problem):
        strip_webp(b"RIFF" + struct.pack("<I", 4) + b"WEBP")


@pytest.mark.parametrize("reencode", [False, True])
def test_hostile_images_are_refused_in_both_modes(temp: TempFiles, reencode: bool) -> None:
    rules = ImageRules(reencode=reencode)
    for kind, data in (
        ("image/png", samples.png_header(30000, 30000)),
        ("image/jpeg", samples.jpeg((256, 256))[:-400]),
        ("image/png", samples.png((256, 256))[:300]),
        ("image/webp", samples.webp(frames=400, size=(2, 2))),
    ):
        with pytest.raises(Problem) as caught:
            screened(data, kind, temp, rules)
        assert caught.value.code == "content-rejected", kind


def test_reencode_mode_replaces_the_compressed_data(temp: TempFiles) -> None:
    original = phone_jpeg()
    report, clean = screened(original, "image/jpeg", temp, ImageRules(reencode=True))
    assert report.canonical.method == "re-encode"  # type: ignore[attr-defined]
    assert _scan_data(clean) != _scan_data(original)
    with Image.open(io.BytesIO(clean)) as after:
        assert after.size == (64, 96) and not after.getexif()
