"""Audio, video and text: container signatures and sizes, read with plain Python, then the streams through PyAV.

The plain-Python walk is the fast first gate: the container must start as its format says and its
own length fields must agree with the file (a box, chunk or element claiming more bytes than the
file has, or unexplained bytes after the container, is refused with 422 ``content-rejected``). Only
then is the file opened with FFmpeg's libraries (``av_probe``): limits, sample decoding, remux.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from ..policy.media import MediaLimits
from ..problems import Problem
from .spool import RangeReader
from .tempfiles import TempFiles

if TYPE_CHECKING:
    from .av_probe import MediaReport

__all__ = ["check_container", "check_media", "check_text"]

MAX_BOXES = 100_000
MAX_ID3_TAGS = 4


def _reject(why: str) -> Problem:
    return Problem("content-rejected", why)


def check_media(reader: RangeReader, media_type: str, limits: MediaLimits, temp: TempFiles | None) -> MediaReport:
    """Check an audio or video file: its container walk, then its streams against ``limits``.

    With ``temp`` the file is also remuxed without metadata (``report.canonical``). Returns the
    measured report; raises :class:`Problem` (415, 413, 422, 503). Blocking: run in a worker thread.
    """
    check_container(reader, media_type)
    from .av_probe import probe_media  # PyAV loads only when a clip arrives (it costs ~70 ms at import)

    return probe_media(reader, media_type, limits, temp)


def check_container(reader: RangeReader, media_type: str) -> None:
    """Walk the container of an audio or video file in plain Python (blocking: run in a worker thread)."""
    if media_type in ("video/mp4", "audio/mp4", "video/quicktime"):
        _iso_boxes(reader)
    elif media_type in ("video/webm", "audio/webm", "video/x-matroska"):
        _ebml(reader)
    elif media_type == "audio/mpeg":
        _mpeg_audio(reader)
    elif media_type == "audio/wav":
        _riff_wave(reader)
    elif media_type in ("audio/ogg", "video/ogg", "audio/opus"):
        _ogg(reader)
    else:
        raise Problem("unsupported-media-type", f"{media_type} has no container check, so it is not accepted")


def _iso_boxes(reader: RangeReader) -> None:
    """ISO base media (MP4, MOV): top-level boxes must tile the file exactly, ftyp first."""
    size, position, count = reader.length, 0, 0
    while position < size:
        header = reader.pread(16, position)
        if len(header) < 8:
            raise _reject("the MP4/MOV file ends inside a box header")
        length, kind = struct.unpack(">I4s", header[:8])
        if count == 0 and kind != b"ftyp":
            raise _reject("the MP4/MOV file does not start with an ftyp box")
        if not all(32 <= byte < 127 for byte in kind):
            raise _reject("the MP4/MOV file has a box with an invalid type")
        if length == 1:
            if len(header) < 16:
                raise _reject("the MP4/MOV file ends inside a box header")
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            length = size - position  # "to the end of the file"
        if length < 8 or position + length > size:
            raise _reject("an MP4/MOV box claims more bytes than the file has")
        position += length
        count += 1
        if count > MAX_BOXES:
            raise _reject("the MP4/MOV file has too many top-level boxes")


def _vint(data: bytes, at: int, keep_marker: bool = False) -> tuple[int, int]:
    """Return an EBML variable-length integer at ``at`` and its width."""
    if at >= len(data):
        raise _reject("the WebM/Matroska header is truncated")
    first = data[at]
    width = 1
    while width <= 8 and not first & (0x80 >> (width - 1)):
        width += 1
    if width > 8 or at + width > len(data):
        raise _reject("the WebM/Matroska header has an invalid length field")
    value = first if keep_marker else first & (0xFF >> width)
    for byte in data[at + 1 : at + width]:
        value = (value << 8) | byte
    return value, width


def _ebml(reader: RangeReader) -> None:
    head = reader.pread(4096, 0)
    if head[:4] != b"\x1a\x45\xdf\xa3":
        raise _reject("the file does not start with an EBML header")
    header_size, width = _vint(head, 4)
    body_start = 4 + width
    body = head[body_start : body_start + header_size]
    if len(body) < header_size:
        raise _reject("the EBML header is truncated")
    doc_type = b""
    at = 0
    while at < len(body):
        element, id_width = _vint(body, at, keep_marker=True)
        length, length_width = _vint(body, at + id_width)
        value = body[at + id_width + length_width : at + id_width + length_width + length]
        if element == 0x4282:
            doc_type = value
        at += id_width + length_width + length
    if doc_type not in (b"webm", b"matroska"):
        raise _reject("the EBML file is neither WebM nor Matroska")
    segment_at = body_start + header_size
    segment = reader.pread(12, segment_at)
    if segment[:4] != b"\x18\x53\x80\x67":
        raise _reject("the WebM/Matroska file has no segment after its header")
    length, width = _vint(segment, 4)
    unknown = length == (1 << (7 * width)) - 1
    end = segment_at + 4 + width + length
    if not unknown and end != reader.length:
        raise _reject("the WebM/Matroska segment size does not match the file size")


_BITRATES = {
    (1, 1): [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    (1, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    (1, 3): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    (2, 1): [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    (2, 2): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def _mpeg_frame_length(header: bytes) -> int:
    """Return the length of the MPEG audio frame starting with ``header``; 0 when it is not one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return 0
    version_bits, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version_bits == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return 0
    layer = 4 - layer_bits
    mpeg1 = version_bits == 3
    table = _BITRATES[(1, layer)] if mpeg1 else _BITRATES[(2, 1 if layer == 1 else 2)]
    bitrate, rate = table[bitrate_index] * 1000, _RATES[version_bits][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    return (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + padding


def _mpeg_audio(reader: RangeReader) -> None:
    """MP3: optional ID3v2 tags (a few, one after another), then two consecutive valid frame headers (or one frame filling the file)."""
    position = 0
    head = reader.pread(10, 0)
    for _ in range(MAX_ID3_TAGS):
        if head[:3] != b"ID3":
            break
        if len(head) < 10 or any(byte & 0x80 for byte in head[6:10]):
            raise _reject("the MP3 file has a malformed ID3 tag")
        tag = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        position += 10 + tag + (10 if head[5] & 0x10 else 0)
        head = reader.pread(10, position)
    first = _mpeg_frame_length(reader.pread(4, position))
    if not first:
        raise _reject("the MP3 file has no valid MPEG audio frame where one must start")
    following = position + first
    if following >= reader.length - 128:  # a single frame, perhaps followed by an ID3v1 tag
        if following > reader.length:
            raise _reject("the MP3 file ends inside its first frame")
        return
    if not _mpeg_frame_length(reader.pread(4, following)):
        raise _reject("the MP3 file's second frame is not where the first frame says")


def _riff_wave(reader: RangeReader) -> None:
    head = reader.pread(12, 0)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise _reject("the WAV file does not start with RIFF/WAVE")
    riff_end = 8 + struct.unpack("<I", head[4:8])[0]
    if riff_end > reader.length or reader.length - riff_end > 1:
        raise _reject("the WAV file's RIFF size does not match the file size")
    position, seen_format, seen_data, count = 12, False, False, 0
    while position + 8 <= riff_end:
        kind, length = struct.unpack("<4sI", reader.pread(8, position))
        if kind == b"fmt ":
            seen_format = length >= 16
        elif kind == b"data":
            seen_data = True
        position += 8 + length + (length & 1)
        count += 1
        if position > riff_end + 1 or count > MAX_BOXES:
            raise _reject("a WAV chunk claims more bytes than the file has")
    if not (seen_format and seen_data):
        raise _reject("the WAV file lacks a fmt or data chunk")


def _ogg(reader: RangeReader) -> None:
    head = reader.pread(27, 0)
    if len(head) < 27 or head[:4] != b"OggS" or head[4] != 0 or not head[5] & 0x02:
        raise _reject("the Ogg file does not start with a first page")
    segments = head[26]
    table = reader.pread(segments, 27)
    if len(table) < segments or 27 + segments + sum(table) > reader.length:
        raise _reject("the Ogg file's first page claims more bytes than the file has")
    tail_start = max(0, reader.length - 65_307)  # the largest possible Ogg page
    if b"OggS" not in reader.pread(reader.length - tail_start, tail_start):
        raise _reject("the Ogg file does not end with an Ogg page")


def check_text(reader: RangeReader, max_chars: int) -> None:
    """Plain text must be UTF-8 without NUL and at most ``max_chars`` characters (blocking)."""
    if reader.length > max_chars * 4:
        raise _reject(f"the text is longer than {max_chars} characters")
    data = reader.pread(reader.length, 0)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _reject("the text is not valid UTF-8") from None
    if "\x00" in text:
        raise _reject("the text contains NUL characters")
    if len(text) > max_chars:
        raise _reject(f"the text is longer than {max_chars} characters")
