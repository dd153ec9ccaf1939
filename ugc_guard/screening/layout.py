"""Where an image ends and where its metadata lives: JPEG segments, PNG chunks, GIF blocks, WebP chunks.

A walk over the container's own length fields, in plain Python over bytes (linear, a few
thousand steps for a large image; the entropy-coded JPEG data is skipped with one C-level search).
The walk never decodes pixels; Pillow does that afterwards. It reports, and the caller decides:

* ``end``: the offset just past the image's end marker (JPEG EOI, PNG IEND, GIF trailer, the
  WebP RIFF length), None when the walk could not find it;
* ``metadata``: the bytes of every segment that carries text or other data beside the pixels
  (JPEG APPn and COM, PNG text and unknown ancillary chunks, GIF comment, application and
  plain-text extensions, WebP EXIF/XMP and unknown chunks), compressed PNG text inflated;
* ``irregular``: why the walk stopped early (bytes where the format allows none, a length
  past the end), None when the container is regular.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from ..problems import Problem
from .jpeg_segments import next_marker

__all__ = ["MAX_INFLATED_BYTES", "ImageLayout", "image_layout"]

MAX_INFLATED_BYTES = 1024 * 1024
"""Largest compressed PNG text or ICC chunk inflated (Pillow's ``MAX_TEXT_CHUNK``: it refuses more too)."""
_MAX_INFLATED_TOTAL = 8 * MAX_INFLATED_BYTES
_MAX_STEPS = 200_000
"""Segments, chunks or blocks walked at most (a 20 MB GIF has about 80 000 sub-blocks)."""
MAX_JPEG_STREAMS = 8
"""Further JPEG images after the first (MPF: gain maps, depth maps, previews) accepted in the trailing bytes."""

_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
_ICC = b"ICC_PROFILE\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IMAGE_CHUNKS = frozenset(
    b"IHDR PLTE IDAT IEND tRNS cHRM gAMA sBIT sRGB bKGD hIST pHYs sPLT tIME acTL fcTL fdAT cICP mDCV cLLI mDCv cLLi oFFs sCAL".split()
)
_WEBP_IMAGE_CHUNKS = frozenset((b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"))


@dataclass(slots=True)
class ImageLayout:
    end: int | None = None
    metadata: list[bytes] = field(default_factory=list)
    irregular: str | None = None
    streams: int = 1
    """JPEG images in the file (more than one with MPF)."""


def image_layout(data: bytes, media_type: str) -> ImageLayout:
    """Return the layout of an image of ``media_type`` (``image/jpeg``, ``png``, ``gif`` or ``webp``).

    Raises 422 ``content-rejected`` only for compressed text past :data:`MAX_INFLATED_BYTES`
    (a decompression bomb); everything else irregular is reported, not raised.
    """
    layout = ImageLayout()
    walk = {"image/jpeg": _jpeg_file, "image/png": _png, "image/gif": _gif, "image/webp": _webp}.get(media_type)
    if walk is None:
        layout.irregular = f"{media_type} has no container walk"
        return layout
    try:
        walk(data, layout)
    except (IndexError, struct.error):
        layout.irregular = "the image ends inside a segment"
    return layout


def _jpeg_file(data: bytes, layout: ImageLayout) -> None:
    end = _jpeg(data, 0, layout)
    layout.end = end
    # Further complete JPEG images (MPF's gain or depth maps) are images too: walk them the same way.
    while end is not None and data.startswith(b"\xff\xd8\xff", end) and layout.streams <= MAX_JPEG_STREAMS:
        following = _jpeg(data, end, layout)
        if following is None:
            return
        layout.streams += 1
        layout.end = end = following


def _jpeg(data: bytes, start: int, layout: ImageLayout) -> int | None:
    """Walk one JPEG stream from ``start``; return the offset after its EOI (None: irregular)."""
    size = len(data)
    if not data.startswith(b"\xff\xd8", start):
        layout.irregular = "the JPEG does not start with SOI"
        return None
    position = start + 2
    extended_xmp: list[bytes] = []
    icc: list[bytes] = []
    for _ in range(_MAX_STEPS):
        if position >= size:
            layout.irregular = "the JPEG ends before its EOI marker"
            return None
        if data[position] != 0xFF:
            layout.irregular = "the JPEG has bytes between its segments"
            return None
        while data[position] == 0xFF:  # fill bytes before a marker
            position += 1
        marker = data[position]
        position += 1
        if marker == 0xD9:
            _joined(layout, extended_xmp, icc)
            return position
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            continue
        if marker in (0x00, 0xD8):
            layout.irregular = "the JPEG has an invalid marker"
            return None
        length = (data[position] << 8) | data[position + 1]
        if length < 2 or position + length > size:
            layout.irregular = "a JPEG segment claims more bytes than the file has"
            return None
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            payload = data[position + 2 : position + length]
            layout.metadata.append(payload)
            if marker == 0xE1 and payload.startswith(_XMP_EXTENSION):
                extended_xmp.append(payload[len(_XMP_EXTENSION) + 40 :])
            elif marker == 0xE2 and payload.startswith(_ICC):
                icc.append(payload[len(_ICC) + 2 :])
        position += length
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a restart
            found = next_marker(data, position)
            if found is None:
                layout.irregular = "the JPEG ends inside its image data"
                return None
            position = found
    layout.irregular = "the JPEG has too many segments"
    return None


def _joined(layout: ImageLayout, *pieces: list[bytes]) -> None:
    # Extended XMP and ICC profiles are split over segments: a reader joins them, so the scan does too.
    layout.metadata.extend(b"".join(parts) for parts in pieces if len(parts) > 1)


def _png(data: bytes, layout: ImageLayout) -> None:
    if not data.startswith(_PNG_SIGNATURE):
        layout.irregular = "the PNG does not start with its signature"
        return
    position, size, inflated = 8, len(data), 0
    for _ in range(_MAX_STEPS):
        if position + 12 > size:
            layout.irregular = "the PNG ends before its IEND chunk"
            return
        length, kind = struct.unpack_from(">I4s", data, position)
        body = position + 8
        if body + length + 4 > size:
            layout.irregular = "a PNG chunk claims more bytes than the file has"
            return
        position = body + length + 4
        if kind == b"IEND":
            layout.end = position
            return
        if kind in _PNG_IMAGE_CHUNKS:
            continue
        payload = data[body : body + length]
        layout.metadata.append(payload)
        text = _png_compressed(kind, payload)
        if text is not None:
            inflated += len(text)
            if inflated > _MAX_INFLATED_TOTAL:
                raise Problem("content-rejected", "the PNG's compressed text chunks inflate to more than 8 MiB")
            layout.metadata.append(text)
    layout.irregular = "the PNG has too many chunks"


def _png_compressed(kind: bytes, payload: bytes) -> bytes | None:
    """Inflate a zTXt, compressed iTXt or iCCP chunk's data (None when it holds none)."""
    keyword_end = payload.find(b"\0")
    if keyword_end < 0:
        return None
    if kind in (b"zTXt", b"iCCP"):
        compressed = payload[keyword_end + 2 :]
    elif kind == b"iTXt" and payload[keyword_end + 1 : keyword_end + 2] == b"\x01":
        language_end = payload.find(b"\0", keyword_end + 3)
        translated_end = payload.find(b"\0", language_end + 1) if language_end >= 0 else -1
        if translated_end < 0:
            return None
        compressed = payload[translated_end + 1 :]
    else:
        return None
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, MAX_INFLATED_BYTES + 1)
    except zlib.error:
        raise Problem("content-rejected", "a compressed PNG text chunk is corrupt") from None
    if len(text) > MAX_INFLATED_BYTES:
        raise Problem("content-rejected", "a compressed PNG text chunk inflates to more than 1 MiB")
    return text


def _gif(data: bytes, layout: ImageLayout) -> None:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        layout.irregular = "the GIF does not start with its header"
        return
    packed = data[10]
    position = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    for _ in range(_MAX_STEPS):
        introducer = data[position]
        if introducer == 0x3B:
            layout.end = position + 1
            return
        if introducer == 0x21:
            label = data[position + 1]
            start = position
            position, payload = _sub_blocks(data, position + 2, keep=label in (0xFE, 0xFF, 0x01))
            if label in (0xFE, 0xFF, 0x01):  # comment, application (XMP lives here), plain text
                layout.metadata += [data[start:position], payload]
        elif introducer == 0x2C:
            packed = data[position + 9]
            position += 10 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0) + 1  # + LZW minimum code size
            position, _ = _sub_blocks(data, position, keep=False)
        else:
            layout.irregular = "the GIF has bytes between its blocks"
            return
    layout.irregular = "the GIF has too many blocks"


def _sub_blocks(data: bytes, position: int, *, keep: bool) -> tuple[int, bytes]:
    """Skip a chain of GIF sub-blocks; return the position after its terminator (and the joined data)."""
    pieces: list[bytes] = []
    length = data[position]
    while length:
        if keep:
            pieces.append(data[position + 1 : position + 1 + length])
        position += length + 1
        length = data[position]
    return position + 1, b"".join(pieces)


def _webp(data: bytes, layout: ImageLayout) -> None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        layout.irregular = "the WebP does not start with RIFF/WEBP"
        return
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data) or riff_end < 12:
        layout.irregular = "the WebP's RIFF size does not match the file"
        return
    position = 12
    for _ in range(_MAX_STEPS):
        if position >= riff_end:
            if position > riff_end:
                layout.irregular = "a WebP chunk claims more bytes than the RIFF holds"
            else:
                layout.end = riff_end
            return
        kind, length = struct.unpack_from("<4sI", data, position)
        body = position + 8
        if body + length > riff_end:
            layout.irregular = "a WebP chunk claims more bytes than the RIFF holds"
            return
        if kind not in _WEBP_IMAGE_CHUNKS:  # EXIF, XMP, ICCP and anything unknown
            layout.metadata.append(data[body : body + length])
        position = body + length + (length & 1)
    layout.irregular = "the WebP has too many chunks"
