"""Unique real media for uploads: every file has its own SHA-256, so the ledger can be asked about it."""

from __future__ import annotations

import io
import os
import random
import struct
import wave

from PIL import Image

from tests.screening import samples

__all__ = ["KINDS", "make", "mp4", "multipart", "not_an_image", "wav"]


def _image(size: tuple[int, int], form: str) -> bytes:
    width, height = size
    noise = Image.frombytes("RGB", (max(1, width // 8), max(1, height // 8)), os.urandom(3 * max(1, width // 8) * max(1, height // 8)))
    picture = noise.resize(size, Image.Resampling.BILINEAR)  # smooth noise: a realistic size for a photo
    out = io.BytesIO()
    if form == "JPEG":
        picture.save(out, "JPEG", quality=85)
    else:
        picture.save(out, "PNG", optimize=False)
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(payload_bytes: int) -> bytes:
    """A real H.264/AAC clip (screening decodes it) made unique and about ``payload_bytes`` large by a
    ``free`` box of random bytes (which the metadata-free remux drops before the app gets the file)."""
    return samples.mp4(0) + _box(b"free", os.urandom(max(16, payload_bytes)))


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(os.urandom(2 * int(8000 * seconds)))
    return out.getvalue()


def not_an_image() -> bytes:
    """Plain text sent as ``photo.jpg``: refused 415 (the real type disagrees with name and declared type)."""
    return ("not a photo " + os.urandom(16).hex() + "\n").encode()


KINDS = {
    "jpeg": ("photo.jpg", "image/jpeg"),
    "png": ("photo.png", "image/png"),
    "mp4": ("clip.mp4", "video/mp4"),
    "wav": ("voice.wav", "audio/wav"),
    "fake-jpeg": ("photo.jpg", "image/jpeg"),
}


def make(kind: str, rng: random.Random, *, large: bool = False) -> bytes:
    """Return a new file of ``kind`` (see :data:`KINDS`); ``large`` MP4s spool to disk (> 1 MiB)."""
    if kind == "jpeg":
        return _image((rng.choice([640, 800, 1024]), rng.choice([480, 600, 768])), "JPEG")
    if kind == "png":
        return _image((rng.choice([320, 400]), rng.choice([240, 300])), "PNG")
    if kind == "mp4":
        return mp4(rng.randint(3, 6) * 1024 * 1024 if large else rng.randint(64, 900) * 1024)
    if kind == "wav":
        return wav(rng.choice([0.5, 1.0, 2.0]))
    if kind == "fake-jpeg":
        return not_an_image()
    raise ValueError(kind)


def multipart(parts: list[tuple[str, str | None, str | None, bytes]], boundary: str | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type (the tests' builder, with a fresh boundary per body)."""
    return samples.multipart(parts, boundary or "----ugcproof" + os.urandom(8).hex())
