"""PNG and WebP metadata removed without decoding: chunks are walked and only what the image needs is kept.

PNG keeps the critical chunks (``IHDR``, ``PLTE``, ``IDAT``, ``IEND``), the ones that change how the
pixels look (transparency, gamma, chromaticities, sRGB, ICC profile, significant bits, background,
pixel size, histogram, cICP/mDCV/cLLI) and the APNG animation chunks; it drops text (``tEXt``, ``zTXt``
— never inflated —, ``iTXt``, XMP among them), ``eXIf``, ``tIME`` and every other chunk.

WebP keeps ``VP8X``, ``ICCP``, ``ANIM``, ``ANMF``, ``ALPH``, ``VP8 ``, ``VP8L`` and drops ``EXIF``,
``XMP `` and unknown chunks, clearing their flags in ``VP8X`` and fixing the RIFF size.
"""

from __future__ import annotations

import struct
import zlib

from ..problems import Problem
from .jpeg_segments import StrippedImage, read_orientation

__all__ = ["insert_png_xmp", "insert_webp_xmp", "strip_png", "strip_webp"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs",
    b"hIST", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi",
}  # fmt: skip
PNG_NAMES = {b"tEXt": "PNG text (tEXt)", b"zTXt": "PNG compressed text (zTXt)", b"iTXt": "PNG text/XMP (iTXt)", b"eXIf": "EXIF", b"tIME": "PNG tIME"}
PNG_KEPT_NAMES = {b"iCCP": "ICC profile", b"sRGB": "sRGB intent", b"gAMA": "gamma", b"cHRM": "chromaticities", b"cICP": "colour (cICP)"}
WEBP_KEEP = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}
WEBP_FLAG_EXIF, WEBP_FLAG_XMP, WEBP_FLAG_ALPHA = 0x08, 0x04, 0x10


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def strip_png(data: bytes) -> StrippedImage:
    """Return the PNG without metadata chunks. Raises 422 when the chunk structure is broken."""
    if data[:8] != PNG_SIGNATURE:
        raise Problem("content-rejected", "the PNG does not start with the PNG signature")
    pieces: list[bytes | memoryview] = [PNG_SIGNATURE]
    stripped: list[str] = []
    kept: list[str] = []
    orientation: int | None = None
    view, position, size, ended = memoryview(data), 8, len(data), False
    while position + 12 <= size:
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > size or not kind.isalpha():
            raise Problem("content-rejected", "the PNG has a chunk longer than the file or with an invalid type")
        if kind in PNG_KEEP:
            pieces.append(view[position:end])
            name = PNG_KEPT_NAMES.get(kind)
            if name and name not in kept:
                kept.append(name)
        else:
            if kind == b"eXIf" and orientation is None:
                orientation = read_orientation(bytes(view[position + 8 : end - 4]))
            name = PNG_NAMES.get(kind, f"PNG {kind.decode('ascii')} chunk")
            if name not in stripped:
                stripped.append(name)
        position = end
        if kind == b"IEND":
            ended = True
            break
    if not ended:
        raise Problem("content-rejected", "the PNG is truncated (no IEND chunk)")
    if position < size:
        stripped.append(f"{size - position} bytes after IEND")
    return StrippedImage(b"".join(pieces), orientation, tuple(stripped), tuple(kept))


def insert_png_xmp(data: bytes, packet: bytes) -> bytes:
    """Return the PNG with an ``iTXt`` chunk ``XML:com.adobe.xmp`` right after ``IHDR``."""
    after_header = 8 + 12 + struct.unpack(">I", data[8:12])[0]
    chunk = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + packet)
    return data[:after_header] + chunk + data[after_header:]


def _webp_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """Return (fourcc, start, end) of every chunk; ``end`` includes the pad byte."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Problem("content-rejected", "the WebP does not start with RIFF/WEBP")
    riff_end = 8 + struct.unpack("<I", data[4:8])[0]
    if riff_end > len(data):
        raise Problem("content-rejected", "the WebP's RIFF size is larger than the file")
    chunks, position = [], 12
    while position + 8 <= riff_end:
        kind, length = struct.unpack("<4sI", data[position : position + 8])
        end = position + 8 + length + (length & 1)
        if end > riff_end + (length & 1):
            raise Problem("content-rejected", "the WebP has a chunk longer than the file")
        chunks.append((kind, position, min(end, riff_end)))
        position = end
    if not chunks:
        raise Problem("content-rejected", "the WebP holds no chunk")
    return chunks


def strip_webp(data: bytes) -> StrippedImage:
    """Return the WebP without ``EXIF``/``XMP `` and unknown chunks. Raises 422 when the RIFF structure is broken."""
    chunks = _webp_chunks(data)
    pieces: list[bytes] = []
    stripped: list[str] = []
    kept: list[str] = []
    orientation: int | None = None
    for kind, start, end in chunks:
        chunk = data[start:end]
        if kind == b"VP8X":
            chunk = chunk[:8] + bytes([chunk[8] & ~(WEBP_FLAG_EXIF | WEBP_FLAG_XMP) & 0xFF]) + chunk[9:]
        if kind in WEBP_KEEP:
            pieces.append(chunk)
            if kind == b"ICCP":
                kept.append("ICC profile")
            continue
        if kind == b"EXIF" and orientation is None:
            exif = chunk[8:]
            orientation = read_orientation(exif[6:] if exif.startswith(b"Exif\0\0") else exif)
        name = {b"EXIF": "EXIF", b"XMP ": "XMP"}.get(kind, f"WebP {kind.decode('latin-1')!r} chunk")
        if name not in stripped:
            stripped.append(name)
    riff_end = 8 + struct.unpack("<I", data[4:8])[0]
    if len(data) > riff_end:
        stripped.append(f"{len(data) - riff_end} bytes after the RIFF chunk")
    return StrippedImage(_riff(pieces), orientation, tuple(stripped), tuple(kept))


def _riff(pieces: list[bytes]) -> bytes:
    body = b"".join(pieces)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def insert_webp_xmp(data: bytes, packet: bytes, width: int, height: int) -> bytes:
    """Return the WebP with an ``XMP `` chunk at its end and the XMP flag set (a ``VP8X`` header is added if absent)."""
    pieces = [data[start:end] for _, start, end in _webp_chunks(data)]
    if pieces[0][:4] == b"VP8X":
        pieces[0] = pieces[0][:8] + bytes([pieces[0][8] | WEBP_FLAG_XMP]) + pieces[0][9:]
    else:
        alpha = pieces[0][:4] == b"VP8L" and len(pieces[0]) > 12 and bool(pieces[0][12] & 0x10)
        flags = WEBP_FLAG_XMP | (WEBP_FLAG_ALPHA if alpha else 0)
        header = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        pieces.insert(0, b"VP8X" + struct.pack("<I", 10) + header)
    pieces.append(b"XMP " + struct.pack("<I", len(packet)) + packet + (b"\0" if len(packet) & 1 else b""))
    return _riff(pieces)
