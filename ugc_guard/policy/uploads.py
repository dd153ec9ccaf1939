"""Policy for upload routes: where uploads arrive, their limits, and how content is screened."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Section
from .media import EmbeddedRights, MediaLimits
from .types import ByteSize, ContentType, Duration

ROUTE_PATTERN = re.compile(r"^/([A-Za-z0-9._~-]+|\{[a-z_][a-z0-9_]*\})(/([A-Za-z0-9._~-]+|\{[a-z_][a-z0-9_]*\}))*(/\*)?$|^/\*?$")

DEFAULT_CONTENT_TYPES = [
    "image/jpeg", "image/png", "image/gif", "image/webp",
    "video/mp4", "video/quicktime", "video/webm",
    "audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav",
    "text/plain",
]  # fmt: skip


class UploadLimits(Section):
    max_total_bytes: ByteSize = 50 * 1024**2
    """Whole request body, counted as it arrives (Content-Length is not trusted)."""
    max_file_bytes: ByteSize = 20 * 1024**2
    max_files: int = Field(5, ge=1, le=1000)
    max_fields: int = Field(20, ge=0, le=1000)
    """Non-file form fields (the grant fields count)."""
    max_field_bytes: ByteSize = 64 * 1024
    """Size of one non-file field."""
    max_part_header_bytes: ByteSize = 8 * 1024
    deadline: Duration = "PT120S"
    """The whole upload must arrive within this time (408 otherwise)."""

    @model_validator(mode="after")
    def _order(self) -> UploadLimits:
        if self.max_file_bytes > self.max_total_bytes:
            raise ValueError("max_file_bytes cannot be larger than max_total_bytes")
        return self


class UploadRoute(Section):
    path: str
    """Path of the app's upload endpoint: ``/upload``, ``/entries/{id}/media`` or a prefix ``/media/*``."""
    methods: list[Literal["POST", "PUT", "PATCH"]] = ["POST"]
    """Methods the app accepts here; every body-carrying method on the path is gated regardless."""
    body: Literal["multipart", "raw"] = "multipart"
    """``multipart`` form posts, or one ``raw`` body with its Content-Type (grants then come in headers)."""
    file_field: str | None = None
    """Only accept files in this form field (default: any)."""
    limits: UploadLimits = UploadLimits()
    content_types: list[ContentType] | None = None
    """Allowed types on this route; default the uploads-wide list."""
    media: MediaLimits | None = None
    """Audio and video limits on this route; default ``uploads.media``."""

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not ROUTE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a route path; write /upload, /entries/{{id}}/media or /media/*")
        return value


class ImageRules(Section):
    formats: list[Literal["JPEG", "PNG", "GIF", "WEBP"]] = ["JPEG", "PNG", "GIF", "WEBP"]
    """Pillow decoders allowed; all others (EPS, PDF, FITS, JPEG 2000…) are never opened."""
    max_width: int = Field(12_000, gt=0)
    max_height: int = Field(12_000, gt=0)
    max_pixels: int = Field(40_000_000, gt=0)
    """Width × height, checked before any pixel is decoded (decompression bombs)."""
    max_frames: int = Field(300, gt=0)
    max_animation_pixels: int = Field(400_000_000, gt=0)
    """Width × height × frames, checked before decoding (an animation of many large frames is a bomb too)."""
    strip_metadata: bool = True
    """Drop EXIF (incl. GPS), XMP, IPTC and comments without re-encoding: JPEG segments, PNG and WebP
    chunks are removed and the compressed pixels kept bit for bit (JPEG keeps only its orientation;
    a rotated PNG or WebP, and GIF, are re-encoded). See docs/screening.md."""
    reencode: bool = False
    """Decode and re-encode every image instead (orientation applied): replaces the compressed data
    with the encoder's own, at ten to forty times the CPU of the lossless strip (``benchmarks/bench_strip.py``)."""


class TextRules(Section):
    max_chars: int = Field(20_000, gt=0)


class VirusScan(Section):
    clamd: str
    """clamd address: ``tcp://127.0.0.1:3310`` or ``unix:///run/clamav/clamd.ctl``."""
    timeout: Duration = "PT10S"

    @field_validator("clamd")
    @classmethod
    def _address(cls, value: str) -> str:
        if not re.match(r"^(tcp://[^/:]+:\d{1,5}|unix:///.+)$", value):
            raise ValueError(f"{value!r} is not a clamd address; use tcp://host:port or unix:///path/to/clamd.ctl")
        return value


class Uploads(Section):
    routes: list[UploadRoute] = Field(min_length=1)
    content_types: list[ContentType] = DEFAULT_CONTENT_TYPES
    """Types accepted by real content (libmagic), not by what the client declares."""
    allow_svg: bool = False
    """SVG can carry script; it is refused unless this is true."""
    replay: Literal["original", "canonical"] = "canonical"
    """What the app receives: the bytes as uploaded, or the re-encoded image when metadata was stripped."""
    images: ImageRules = ImageRules()
    media: MediaLimits = MediaLimits()
    """Audio and video limits and metadata cleaning (a route may set its own ``media``)."""
    rights: EmbeddedRights = EmbeddedRights()
    """Rights metadata (XMP, optionally C2PA) written into the files the app receives."""
    text: TextRules = TextRules()
    virus_scan: VirusScan | None = None
    spool_memory_bytes: ByteSize = 1024**2
    """File parts larger than this spool to a temporary file."""
    temp_dir: str | None = None
    """Folder for spooled uploads (default: the system's temporary folder)."""
    websocket: Literal["refuse", "pass"] = "refuse"
    """WebSocket connections to an upload path: ``refuse`` (closed before the app sees them; nothing
    there is screened or recorded) or ``pass`` when the app takes no uploads over them."""

    @model_validator(mode="after")
    def _svg(self) -> Uploads:
        listed = set(self.content_types).union(*(route.content_types or [] for route in self.routes))
        if "image/svg+xml" in listed and not self.allow_svg:
            raise ValueError("image/svg+xml is listed but allow_svg is false; SVG can carry script, so allow it explicitly or remove it")
        return self
