"""The JPEG structure proof (``jpeg_frame.check_frame``) against libjpeg itself.

For every header mutation below, the stripped image is both checked by the walk and decoded in full
by Pillow (libjpeg): the walk must refuse exactly what libjpeg refuses, and accept what it accepts.
Damage inside the entropy-coded data is only a warning to libjpeg: both accept it (that is why the
lossless path no longer decodes; docs/screening.md).
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable

import pytest
from PIL import Image

from ugc_guard.policy.uploads import ImageRules
from ugc_guard.problems import Problem
from ugc_guard.screening.images import ImageReport, check_image
from ugc_guard.screening.jpeg_frame import MAX_SCANS, check_frame
from ugc_guard.screening.jpeg_segments import strip_jpeg
from ugc_guard.screening.spool import BodySpool
from ugc_guard.screening.tempfiles import TempFiles


def photo(size: tuple[int, int] = (96, 64), mode: str = "RGB", **options: object) -> bytes:
    image = Image.new(mode, size)
    image.putdata([tuple((x * 7 + y * 3 + c * 50) % 256 for c in range(len(mode))) if len(mode) > 1 else (x * 5 + y) % 256
                   for y in range(size[1]) for x in range(size[0])])  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, **options)
    return out.getvalue()


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, offset of the marker, offset after the segment) of every segment before the first entropy data."""
    found, position = [], 2
    while position < len(data):
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        found.append((marker, position, position + 2 + length))
        if marker == 0xDA:
            break
        position += 2 + length
    return found


def patch(data: bytes, marker: int, offset: int, value: int, nth: int = 0) -> bytes:
    """``data`` with byte ``offset`` of the payload (after the length field) of the ``nth`` ``marker`` segment set to ``value``."""
    starts = [start for kind, start, _ in segments(data) if kind == marker]
    at = starts[nth] + 4 + offset
    return data[:at] + bytes([value]) + data[at + 1 :]


def pillow_decodes(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            image.load()
        return True
    except Exception:
        return False


def walk_accepts(data: bytes) -> bool:
    """What screening decides for the stripped JPEG ``data``: the frame check, or where it leaves the frame to libjpeg, a decode."""
    temp = TempFiles(None)
    try:
        _check(data, temp)
        return True
    except Problem as problem:
        assert problem.code == "content-rejected"
        return False
    finally:
        temp.remove()


def _flip_entropy(data: bytes, count: int) -> bytes:
    start = segments(data)[-1][2]
    mutable = bytearray(data)
    rng = random.Random(7)
    for _ in range(count):
        at = rng.randrange(start + 2, len(data) - 4)
        if mutable[at - 1] != 0xFF and mutable[at] != 0xFF:
            mutable[at] = rng.randrange(0, 0xFF)
    return bytes(mutable)


def _half_then_eoi(data: bytes) -> bytes:
    return data[: len(data) // 2].rstrip(b"\xff") + b"\xff\xd9"


def _not_prefix(data: bytes) -> bytes:
    """Two codes of the first Huffman table moved to length 1 (same number of symbols, so the lengths add up)."""
    at = next(start for kind, start, _ in segments(data) if kind == 0xC4) + 5
    counts = bytearray(data[at : at + 16])
    longest = max(index for index, count in enumerate(counts) if count >= 2)
    counts[longest] -= 2
    counts[0] += 2
    return data[:at] + bytes(counts) + data[at + 16 :]


def _unused_dc_table(data: bytes) -> bytes:
    """An extra DHT before the frame: DC table 3, one code of length 1 for symbol 0x20 (libjpeg checks a table only when a scan uses it)."""
    table = bytes([0x03, 1] + [0] * 15 + [0x20])
    at = next(start for kind, start, _ in segments(data) if kind == 0xC0)
    return data[:at] + b"\xff\xc4" + struct.pack(">H", 2 + len(table)) + table + data[at:]


def _many_blocks(data: bytes) -> bytes:
    # luma 4x4 = 16 blocks in one interleaved MCU (libjpeg allows 10)
    return patch(data, 0xC0, 7, 0x44)


MUTATIONS: list[tuple[str, Callable[[], bytes]]] = [
    ("unchanged baseline", lambda: photo()),
    ("unchanged progressive", lambda: photo(progressive=True)),
    ("unchanged optimised, restart interval", lambda: photo(optimize=True, restart_marker_blocks=4)),
    ("unchanged greyscale", lambda: photo(mode="L")),
    ("unchanged CMYK", lambda: photo(mode="CMYK")),
    ("unchanged 4:2:0 subsampling", lambda: photo(subsampling=2)),
    ("200 bytes of entropy data changed", lambda: _flip_entropy(photo((256, 192)), 200)),
    ("half of the data, then EOI", lambda: _half_then_eoi(photo((256, 192)))),
    ("Huffman table not a prefix code", lambda: _not_prefix(photo())),
    ("Huffman table counts past its segment", lambda: patch(photo(), 0xC4, 1, 3)),
    ("DC Huffman symbol above 15", lambda: patch(photo(), 0xC4, 17, 0x20)),
    ("Huffman table class 2", lambda: patch(photo(), 0xC4, 0, 0x20)),
    ("quantisation table number 5", lambda: patch(photo(), 0xDB, 0, 0x05)),
    ("frame uses an undefined quantisation table", lambda: patch(photo(), 0xC0, 8, 3)),
    ("sampling factor 0", lambda: patch(photo(), 0xC0, 7, 0x01)),
    ("sampling factor 5", lambda: patch(photo(), 0xC0, 7, 0x51)),
    ("too many blocks in one MCU", lambda: _many_blocks(photo())),
    ("scan of a component the frame lacks", lambda: patch(photo(), 0xDA, 1, 9)),
    ("scan uses Huffman table 2, never defined", lambda: patch(photo(), 0xDA, 2, 0x22)),
    ("scan header count 0", lambda: patch(photo(mode="L"), 0xDA, 0, 0)),
    ("progressive DC scan with Se 5", lambda: patch(photo(progressive=True), 0xDA, 8, 5)),
    ("progressive Al 14", lambda: patch(photo(mode="L", progressive=True), 0xDA, 5, 0x0E)),
    ("progressive first scan with Ah 1, Al 1", lambda: patch(photo(progressive=True), 0xDA, 9, 0x11)),
    ("progressive DC scan naming AC table 5, which it does not use", lambda: patch(photo(progressive=True), 0xDA, 2, 0x05)),
    ("a DC table no scan uses has a symbol above 15", lambda: _unused_dc_table(photo())),
]


@pytest.mark.parametrize(("case", "make"), MUTATIONS, ids=[case for case, _ in MUTATIONS])
def test_the_walk_refuses_exactly_what_libjpeg_refuses(case: str, make: Callable[[], bytes]) -> None:
    stripped = strip_jpeg(make()).data
    assert walk_accepts(stripped) == pillow_decodes(stripped), case


def test_the_cases_cover_both_outcomes() -> None:
    outcomes = {pillow_decodes(strip_jpeg(make()).data) for _, make in MUTATIONS}
    assert outcomes == {True, False}


@pytest.mark.parametrize(("case", "make"), [row for row in MUTATIONS if row[0].startswith("unchanged")])
def test_ordinary_jpegs_are_checked_without_a_decode(case: str, make: Callable[[], bytes]) -> None:
    assert check_frame(strip_jpeg(make()).frame) is True, case


def test_a_scan_using_an_undefined_table_is_left_to_a_decode() -> None:
    assert check_frame(strip_jpeg(patch(photo(), 0xDA, 2, 0x22)).frame) is False


def _tables() -> tuple[list[tuple[int, bytes]], list[bytes]]:
    """The header segments (tables, frame) and the scan headers of a greyscale photo."""
    frame = strip_jpeg(photo(mode="L")).frame
    return [(marker, payload) for marker, payload in frame if marker != 0xDA], [payload for marker, payload in frame if marker == 0xDA]


def test_more_than_max_scans_is_refused() -> None:
    headers, scans = _tables()
    assert check_frame([*headers, *[(0xDA, scans[0])] * MAX_SCANS]) is True
    with pytest.raises(Problem) as refused:
        check_frame([*headers, *[(0xDA, scans[0])] * (MAX_SCANS + 1)])
    assert refused.value.code == "content-rejected"
    assert refused.value.detail == f"the JPEG has more than {MAX_SCANS} scans"


@pytest.mark.parametrize("marker", [0xC3, 0xC9, 0xCA, 0xCB])
def test_frames_the_walk_does_not_know_are_left_to_a_decode(marker: int) -> None:
    headers, scans = _tables()
    renamed = [(marker if kind == 0xC0 else kind, payload) for kind, payload in headers]
    assert check_frame([*renamed, (0xDA, scans[0])]) is False


def test_a_frame_without_huffman_tables_is_left_to_a_decode() -> None:
    headers, scans = _tables()
    assert check_frame([(kind, payload) for kind, payload in headers if kind != 0xC4] + [(0xDA, scans[0])]) is False


def test_no_scan_or_two_frames_are_refused() -> None:
    headers, scans = _tables()
    for broken in (headers, [*headers, *[(kind, payload) for kind, payload in headers if kind == 0xC0], (0xDA, scans[0])]):
        with pytest.raises(Problem) as refused:
            check_frame(broken)
        assert refused.value.code == "content-rejected"


def _check(data: bytes, temp: TempFiles) -> ImageReport:
    spool = BodySpool(temp, 10**9)
    spool.queue(data)
    spool._apply(spool._writes, [])
    return check_image(spool.reader(), "image/jpeg", ImageRules(), temp)


def test_check_image_refuses_a_broken_frame_and_accepts_damaged_pixels() -> None:
    temp = TempFiles(None)
    try:
        with pytest.raises(Problem) as refused:
            _check(_not_prefix(photo()), temp)
        assert (refused.value.code, refused.value.detail) == ("content-rejected", "the JPEG has a Huffman table that is not a prefix code")
        report = _check(_flip_entropy(photo((256, 192)), 50), temp)
        assert (report.width, report.height) == (256, 192)
    finally:
        temp.remove()


def _damaged(rng: random.Random, base: bytes) -> bytes:
    """``base`` with one to three header bytes set to values near the fields' limits, and sometimes a header segment dropped or doubled."""
    headers = [row for row in segments(base) if row[0] in (0xC0, 0xC2, 0xC4, 0xDB, 0xDA, 0xDD)]
    data = bytearray(base)
    for _ in range(rng.choice([1, 1, 2, 3])):
        _, start, end = rng.choice(headers)
        data[rng.randrange(start + 4, end)] = rng.choice([0, 1, 2, 3, 4, 5, 8, 15, 16, 17, 0x11, 0x22, 0x44, 63, 64, 255, rng.randrange(256)])
    damaged = bytes(data)
    if rng.random() < 0.3:
        _, start, end = rng.choice([row for row in headers if row[0] != 0xDA])
        damaged = damaged[:start] + damaged[end:] if rng.random() < 0.5 else damaged[:start] + damaged[start:end] * 2 + damaged[end:]
    return damaged


def test_random_header_damage_is_judged_as_libjpeg_judges_it() -> None:
    bases = [photo(), photo(progressive=True), photo(mode="L"), photo(mode="CMYK"), photo(optimize=True, restart_marker_blocks=2)]
    rng = random.Random(20261203)
    judged = {True: 0, False: 0}
    for _ in range(400):
        damaged = _damaged(rng, rng.choice(bases))
        try:
            stripped = strip_jpeg(damaged).data
            with Image.open(io.BytesIO(stripped), formats=["JPEG"]) as image:
                pixels = image.width * image.height
        except Exception:
            continue  # refused before the frame check (the walk or Pillow's header parser): not what this compares
        if pixels > 10**6:
            continue  # a damaged size field: refused by the policy's size bounds, and too large to decode here
        verdict = walk_accepts(stripped)
        assert verdict == pillow_decodes(stripped), damaged.hex()
        judged[verdict] += 1
    assert judged[True] > 20 and judged[False] > 20, judged
