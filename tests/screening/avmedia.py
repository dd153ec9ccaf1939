"""Real audio and video for the tests, encoded with PyAV, and the byte surgery hostile cases need."""

from __future__ import annotations

import io
import math
import random
import struct
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import av

SAMPLE_TYPES = {"flt": "f", "fltp": "f", "s16": "h", "s16p": "h", "s32": "i", "s32p": "i"}
SCALE = {"f": 1.0, "h": 32767, "i": 2147483647}


def _video_frame(index: int, width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "yuv420p")
    for number, plane in enumerate(frame.planes):
        rows = plane.buffer_size // plane.line_size
        row = bytes((x * 3 + index * 7 + number * 50) & 0xFF for x in range(plane.line_size))
        plane.update(b"".join(row[y % 7 :] + row[: y % 7] for y in range(rows)))
    return frame


def _audio_frame(stream: Any, start: int, rate: int) -> av.AudioFrame:
    """One mono frame of a 440 Hz tone in the encoder's own sample format."""
    context = stream.codec_context
    size, kind = context.frame_size or 1024, context.format.name
    code = SAMPLE_TYPES[kind]
    values = [math.sin((start + k) * 440 * 2 * math.pi / rate) * 0.3 * SCALE[code] for k in range(size)]
    frame = av.AudioFrame(format=kind, layout="mono", samples=size)
    data = struct.pack(f"<{size}{code}", *(value if code == "f" else int(value) for value in values))
    frame.planes[0].update(data.ljust(frame.planes[0].buffer_size, b"\0"))
    frame.sample_rate = rate
    frame.pts = start
    return frame


def encode(
    container_format: str,
    *,
    video: str | None = "libx264",
    audio: str | None = "aac",
    seconds: float = 0.5,
    size: tuple[int, int] = (64, 48),
    fps: int = 30,
    rate: int = 48000,
    audio_streams: int = 1,
    metadata: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    rotation: float | None = None,
    video_options: dict[str, str] | None = None,
) -> bytes:
    """Return a real clip: ``video`` and ``audio`` encoder names (None for none) in ``container_format``."""
    out = io.BytesIO()
    with av.open(out, "w", format=container_format, options=options or {}) as container:
        for key, value in (metadata or {}).items():
            container.metadata[key] = value
        picture = None
        if video:
            picture = container.add_stream(video, rate=fps, options=video_options or {})
            picture.width, picture.height = size
            picture.pix_fmt = "yuv420p"
            if rotation is not None:
                picture.set_display_rotation(rotation)
        sounds = [container.add_stream(audio, rate=rate) for _ in range(audio_streams)] if audio else []
        for sound in sounds:
            sound.layout = "mono"
        if picture is not None:
            for index in range(max(1, int(seconds * fps))):
                frame = _video_frame(index, *size)
                frame.pts = index
                container.mux(picture.encode(frame))
            container.mux(picture.encode())
        for sound in sounds:
            start, total = 0, int(seconds * rate)
            while start < total:
                frame = _audio_frame(sound, start, rate)
                container.mux(sound.encode(frame))
                start += frame.samples
            container.mux(sound.encode())
    return out.getvalue()


@lru_cache(maxsize=32)
def clip(kind: str, seconds: float = 0.5) -> bytes:
    """A cached small clip of a common kind: mp4, mov, m4a, webm, mp3, wav, ogg."""
    recipes: dict[str, tuple[str, dict[str, Any]]] = {
        "mp4": ("mp4", {}),
        "mov": ("mov", {}),
        "m4a": ("mp4", {"video": None, "options": {"brand": "M4A "}}),
        "webm": ("webm", {"video": "libvpx", "audio": "libopus"}),
        "mp3": ("mp3", {"video": None, "audio": "libmp3lame", "options": {"id3v2_version": "0"}}),
        "wav": ("wav", {"video": None, "audio": "pcm_s16le"}),
        "ogg": ("ogg", {"video": None, "audio": "libopus"}),
    }
    container_format, settings = recipes[kind]
    return encode(container_format, seconds=seconds, **settings)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, offset, size) of the ISO boxes between ``start`` and ``end``."""
    position, end = start, len(data) if end is None else end
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size == 1:
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
        yield kind, position, size or end - position
        position += size or end - position


def find_box(data: bytes, path: list[bytes]) -> tuple[int, int]:
    """Return (offset, size) of the box at ``path`` (e.g. ``[b"moov", b"mvhd"]``)."""
    start, end = 0, len(data)
    for name in path:
        _, offset, size = next(item for item in boxes(data, start, end) if item[0] == name)
        start, end = offset + 8, offset + size
    return start - 8, end - start + 8


def scramble_mdat(data: bytes, seed: int = 7, keep: int = 0) -> bytes:
    """Overwrite every byte of the ``mdat`` payload (after ``keep`` bytes) with noise; every box stays intact."""
    offset, size = find_box(data, [b"mdat"])
    rng = random.Random(seed)
    payload = bytes(data[offset + 8 : offset + 8 + keep]) + rng.randbytes(size - 8 - keep)
    return data[: offset + 8] + payload + data[offset + size :]


def set_movie_duration(data: bytes, seconds: int) -> bytes:
    """Make ``mvhd`` and every track's ``tkhd``, ``mdhd`` and first edit claim ``seconds``; the samples stay as they are."""
    out = bytearray(data)
    offset, _ = find_box(data, [b"moov", b"mvhd"])
    scale = struct.unpack(">I", out[offset + 20 : offset + 24])[0]
    struct.pack_into(">I", out, offset + 24, seconds * scale)
    for kind, trak, size in boxes(data, find_box(data, [b"moov"])[0] + 8):
        if kind != b"trak":
            continue
        media, _ = find_box(data[trak : trak + size], [b"trak", b"mdia", b"mdhd"])
        media += trak
        media_scale = struct.unpack(">I", out[media + 20 : media + 24])[0]
        struct.pack_into(">I", out, media + 24, seconds * media_scale)
        header, _ = find_box(data[trak : trak + size], [b"trak", b"tkhd"])
        struct.pack_into(">I", out, trak + header + 28, seconds * scale)
        edits, _ = find_box(data[trak : trak + size], [b"trak", b"edts", b"elst"])
        struct.pack_into(">I", out, trak + edits + 16, seconds * scale)  # the first edit's segment duration
    return bytes(out)


def packets(data: bytes) -> list[tuple[str, bytes]]:
    """Every audio and video packet's (stream type, payload), in order."""
    with av.open(io.BytesIO(data)) as container:
        kept = [stream for stream in container.streams if stream.type in ("video", "audio")]
        return [(packet.stream.type, bytes(packet)) for packet in container.demux(kept) if packet.size]
