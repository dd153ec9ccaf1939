"""JPEG metadata removed without decoding: the marker segments are walked and only what the image needs is kept.

Kept, bit for bit: the frame and scan headers, quantisation and Huffman tables, restart intervals and
the entropy-coded data; ``APP0`` JFIF (rebuilt without a thumbnail), ``APP2`` ICC profile chunks and
``APP14`` Adobe (it says how to read the colour channels). Everything else goes: ``APP1`` EXIF (GPS,
camera, owner, thumbnail) and XMP, ``APP13`` IPTC, ``APP2`` MPF (and the extra images after the end
marker it points to), ``APP11`` JUMBF/C2PA, every other ``APPn``, ``COM`` and whatever follows EOI.
A photo that must be turned to be upright keeps one EXIF tag, its orientation (a new, minimal EXIF).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ..problems import Problem
from .multiscan import MultiScan

__all__ = ["StrippedImage", "insert_jpeg_xmp", "next_marker", "orientation_exif", "read_orientation", "reject_jpeg", "strip_jpeg"]

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
_TABLES = set(range(0xC0, 0xD0)) | {0xDB, 0xDC, 0xDD, 0xDE, 0xDF}
"""SOFn, DHT, DAC, DQT, DNL, DRI, DHP, EXP: what decoding needs."""
_NEXT_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
"""In entropy-coded data: 0xFF followed by neither a stuffed zero, a restart marker nor fill (a fill byte
before a marker is skipped by the walks). Written without ``\xff+``: that form backtracks at every 0xFF."""
_MARKERS = MultiScan([_NEXT_MARKER.pattern], caseless=False)
_APP_NAMES = {
    (0xE1, b"Exif\0"): "EXIF",
    (0xE1, b"http://ns.adobe.com/xap/1.0/\0"): "XMP",
    (0xE1, b"http://ns.adobe.com/xmp/extension/\0"): "extended XMP",
    (0xE2, b"MPF\0"): "MPF (multi-picture index)",
    (0xED, b"Photoshop 3.0\0"): "IPTC/Photoshop (APP13)",
    (0xEB, b"JP"): "JUMBF/C2PA (APP11)",
    (0xE0, b"JFXX\0"): "JFIF thumbnail (JFXX)",
}
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
MAX_SEGMENT = 65533


@dataclass(frozen=True, slots=True)
class StrippedImage:
    """An image's bytes without metadata; ``orientation`` is the EXIF orientation the upload had (1–8, or None)."""

    data: bytes
    orientation: int | None
    stripped: tuple[str, ...]
    kept: tuple[str, ...]
    frame: tuple[tuple[int, bytes], ...] = ()
    """JPEG: the frame, scan and table segments kept (marker, payload), in file order (``jpeg_frame.check_frame``)."""


def next_marker(data: bytes, start: int) -> int | None:
    """Where the first marker at or after ``start`` begins (:data:`_NEXT_MARKER`): the end of a scan's
    entropy-coded data. One Hyperscan pass where it runs (``multiscan``), else ``re``."""
    if _MARKERS.available:
        end = _MARKERS.first_end(memoryview(data)[start:])
        return None if end is None else start + end - 2
    found = _NEXT_MARKER.search(data, start)
    return None if found is None else found.start()


def reject_jpeg(why: str) -> Problem:
    """422 ``content-rejected``: "the JPEG ``why``"."""
    return Problem("content-rejected", f"the JPEG {why}")


def strip_jpeg(data: bytes, keep_orientation: bool = True) -> StrippedImage:
    """Return the JPEG without metadata (see the module docstring). Raises 422 when the marker structure is broken."""
    if data[:2] != b"\xff\xd8":
        raise reject_jpeg("does not start with a start-of-image marker")
    head: list[bytes] = []
    body: list[bytes | memoryview] = []
    stripped: list[str] = []
    kept: list[str] = []
    orientation: int | None = None
    frame: list[tuple[int, bytes]] = []
    view, position, size = memoryview(data), 2, len(data)
    while True:
        while position < size and data[position] == 0xFF and position + 1 < size and data[position + 1] == 0xFF:
            position += 1  # fill bytes before a marker
        if position + 2 > size or data[position] != 0xFF:
            raise reject_jpeg("is truncated or has bytes where a marker must be")
        marker = data[position + 1]
        if marker == EOI:
            position += 2
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            body.append(view[position : position + 2])
            position += 2
            continue
        if position + 4 > size:
            raise reject_jpeg("is truncated inside a marker segment")
        end = position + 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
        if end > size or end < position + 4:
            raise reject_jpeg("has a segment longer than the file")
        payload = view[position + 4 : end]
        if marker in _TABLES or marker == SOS:
            body.append(view[position:end])
            frame.append((marker, bytes(payload)))
            if marker == SOS:
                found = next_marker(data, end)
                if found is None:
                    raise reject_jpeg("is truncated inside its compressed data")
                body.append(view[end:found])
                end = found
        elif marker == 0xE0 and bytes(payload[:5]) == b"JFIF\0" and "JFIF header" not in kept:
            head.insert(0, _jfif_without_thumbnail(bytes(payload)))
            kept.append("JFIF header")
            if len(payload) >= 14 and payload[12] * payload[13]:
                stripped.append("JFIF thumbnail")
        elif marker == 0xE2 and bytes(payload[:12]) == b"ICC_PROFILE\0":
            body.append(view[position:end])
            if "ICC profile" not in kept:
                kept.append("ICC profile")
        elif marker == 0xEE and bytes(payload[:5]) == b"Adobe":
            body.append(view[position:end])
            kept.append("Adobe colour transform (APP14)")
        else:
            if marker == 0xE1 and bytes(payload[:6]) == b"Exif\0\0" and orientation is None:
                orientation = read_orientation(bytes(payload[6:]))
            name = "COM (comment)" if marker == 0xFE else _app_name(marker, bytes(payload[:36]))
            if name not in stripped:
                stripped.append(name)
        position = end
    if position < size:
        stripped.append(f"{size - position} bytes after the end-of-image marker")
    if keep_orientation and orientation not in (None, 1):
        head.append(_segment(0xE1, b"Exif\0\0" + orientation_exif(orientation or 1)))
        kept.append("EXIF orientation")
    pieces = [b"\xff\xd8", *head, *body, b"\xff\xd9"]
    return StrippedImage(b"".join(pieces), orientation, tuple(stripped), tuple(kept), tuple(frame))


def _app_name(marker: int, start: bytes) -> str:
    for (app, prefix), name in _APP_NAMES.items():
        if marker == app and start.startswith(prefix):
            return name
    return f"APP{marker - 0xE0}" if 0xE0 <= marker <= 0xEF else f"marker 0x{marker:02X}"


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > MAX_SEGMENT:
        raise ValueError(f"a JPEG segment holds at most {MAX_SEGMENT} bytes, not {len(payload)}")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _jfif_without_thumbnail(payload: bytes) -> bytes:
    version_units_density = (payload[5:12] + b"\x01\x02\x00\x00\x01\x00\x01")[:7]
    return _segment(0xE0, b"JFIF\0" + version_units_density + b"\0\0")


def read_orientation(tiff: bytes) -> int | None:
    """Return the orientation tag (1–8) of IFD0 in EXIF (TIFF) bytes, or None when absent or malformed."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    if struct.unpack(order + "H", tiff[2:4])[0] != 42:
        return None
    ifd = struct.unpack(order + "I", tiff[4:8])[0]
    if ifd + 2 > len(tiff):
        return None
    count = struct.unpack(order + "H", tiff[ifd : ifd + 2])[0]
    for index in range(min(count, 1024)):
        entry = ifd + 2 + 12 * index
        if entry + 12 > len(tiff):
            return None
        tag, kind, number = struct.unpack(order + "HHI", tiff[entry : entry + 8])
        if tag == 0x0112:
            value = struct.unpack(order + "H", tiff[entry + 8 : entry + 10])[0]
            return value if kind == 3 and number >= 1 and 1 <= value <= 8 else None
    return None


def orientation_exif(orientation: int) -> bytes:
    """Return EXIF (TIFF) bytes holding only IFD0 with the orientation tag."""
    return b"MM\0\x2a\0\0\0\x08" + struct.pack(">HHHIHHI", 1, 0x0112, 3, 1, orientation, 0, 0)


def insert_jpeg_xmp(data: bytes, packet: bytes) -> bytes:
    """Return the (stripped) JPEG with an XMP ``APP1`` segment after its JFIF/EXIF headers.

    Raises ValueError when the packet does not fit one segment (64 KiB).
    """
    segment = _segment(0xE1, XMP_HEADER + packet)
    position = 2
    while data[position : position + 2] in (b"\xff\xe0", b"\xff\xe1"):
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    return data[:position] + segment + data[position:]
