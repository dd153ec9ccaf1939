"""Real media for the screening tests: images made by Pillow, audio and video encoded by PyAV (``avmedia``)."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterable

from PIL import Image

from tests.screening import avmedia

GRANTS = {"ugc_licence": "accept", "ugc_portrait_self": "accept", "ugc_portrait_others": "none"}
GRANT_HEADERS = {"UGC-Licence": "accept", "UGC-Portrait-Self": "accept", "UGC-Portrait-Others": "none"}


def eicar() -> bytes:
    """The EICAR anti-virus test string, assembled at runtime so no file in the repository carries it."""
    parts = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"]
    return "".join(parts).encode("ascii")


def picture(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size)
    image.putdata([((x * 7) % 256, (y * 5) % 256, (x + y) % 256)[: len(mode)] for y in range(size[1]) for x in range(size[0])])
    return image


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    gps = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    exif[0x8825] = gps
    return exif


def jpeg(size: tuple[int, int] = (64, 48), *, exif: bool = False, comment: bytes | None = None, xmp: bytes | None = None) -> bytes:
    out = io.BytesIO()
    options: dict[str, object] = {}
    if exif:
        options["exif"] = gps_exif()
    if comment:
        options["comment"] = comment
    if xmp:
        options["xmp"] = xmp
    picture(size).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    picture(size).save(out, "PNG")
    return out.getvalue()


def gif(frames: int = 3, size: tuple[int, int] = (32, 32)) -> bytes:
    images = [Image.new("RGB", size, color=(index % 256, (index // 256) % 256, 90)) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=50, loop=0, comment=b"made by a test")
    return out.getvalue()


def webp(frames: int = 1, size: tuple[int, int] = (32, 32)) -> bytes:
    images = [Image.new("RGB", size, color=(index * 10 % 256, 0, 0)) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=frames > 1, append_images=images[1:], duration=40)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` (the pixel data is a tiny valid IDAT)."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def ztxt_bomb() -> bytes:
    """A small PNG with a zTXt chunk that inflates to 64 MiB of text."""
    import zlib

    base = png((8, 8))
    payload = b"Comment\0\0" + zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload + struct.pack(">I", zlib.crc32(b"zTXt" + payload) & 0xFFFFFFFF)
    return base[:33] + chunk + base[33:]


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(payload_bytes: int = 4096, brand: bytes = b"isom") -> bytes:
    """A real H.264/AAC clip (``brand`` M4A: AAC only), padded with a ``free`` box to at least ``payload_bytes``."""
    data = avmedia.clip("m4a" if brand == b"M4A " else "mp4")
    missing = payload_bytes - len(data)
    return data + (_box(b"free", b"\0" * (missing - 8)) if missing > 8 else b"")


def mov() -> bytes:
    """A real QuickTime clip (H.264 and AAC)."""
    return avmedia.clip("mov")


def webm(payload_bytes: int = 1024) -> bytes:
    """A real WebM clip (VP8 and Opus); ``payload_bytes`` is kept for old callers."""
    return avmedia.clip("webm")


def mp3(frames: int = 8, id3: bool = True) -> bytes:
    """Real MP3 audio (LAME), after a small ID3v2 tag unless ``id3`` is false; ``frames`` is kept for old callers."""
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\0" * 10 if id3 else b""
    return tag + avmedia.clip("mp3")


def wav(seconds: float = 0.1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\x10\x00" * int(8000 * seconds))
    return out.getvalue()


def ogg() -> bytes:
    """Real Ogg Opus audio."""
    return avmedia.clip("ogg")


def multipart(
    parts: Iterable[tuple[str, str | None, str | None, bytes]],
    boundary: str = "testboundary1234",
    *,
    preamble: bytes = b"",
) -> tuple[bytes, str]:
    """Return a multipart/form-data body and its Content-Type; parts are (name, filename, type, data)."""
    out = bytearray(preamble)
    for name, filename, content_type, data in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def upload_form(
    filename: str, content_type: str | None, data: bytes, grants: dict[str, str] | None = None, *, field: str = "file"
) -> tuple[bytes, str]:
    """A form with one file and the grant fields (after the file, as a browser may send them)."""
    fields = [(name, None, None, value.encode()) for name, value in (GRANTS if grants is None else grants).items()]
    return multipart([(field, filename, content_type, data), *fields])
