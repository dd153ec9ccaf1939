"""What a file really is: libmagic's answer, reconciled with the declared type and the extension.

Names differ between libmagic versions, browsers and curl (``audio/x-wav`` vs ``audio/wav``,
``audio/x-m4a`` vs ``audio/mp4``), so every name is first mapped to one canonical spelling; and a
few containers carry audio or video alike (MP4, WebM, Ogg), where libmagic cannot tell which, so
the declared type decides within such a family.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import magic

from ..problems import Problem
from .names import extension_of

__all__ = ["TypeVerdict", "canonical", "detect", "reconcile"]

ALIASES = {
    "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
    "audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/vnd.wave": "audio/wav", "audio/x-pn-wav": "audio/wav",
    "audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4", "video/x-m4v": "video/mp4",
    "audio/mp3": "audio/mpeg", "audio/x-mp3": "audio/mpeg", "audio/x-mpeg": "audio/mpeg", "audio/mpeg3": "audio/mpeg",
    "application/ogg": "audio/ogg", "audio/x-ogg": "audio/ogg", "audio/x-flac": "audio/flac",
    "video/x-quicktime": "video/quicktime",
}  # fmt: skip
FAMILIES = {
    "video/mp4": "mp4", "audio/mp4": "mp4",
    "video/webm": "webm", "audio/webm": "webm", "video/x-matroska": "webm",
    "audio/ogg": "ogg", "video/ogg": "ogg", "audio/opus": "ogg",
}  # fmt: skip
EXTENSIONS = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "jpe": "image/jpeg", "jfif": "image/jpeg",
    "png": "image/png", "apng": "image/png", "gif": "image/gif", "webp": "image/webp",
    "heic": "image/heic", "avif": "image/avif", "svg": "image/svg+xml",
    "mp4": "video/mp4", "m4v": "video/mp4", "m4a": "audio/mp4", "mov": "video/quicktime", "qt": "video/quicktime",
    "webm": "video/webm", "mkv": "video/x-matroska", "ogv": "video/ogg",
    "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "flac": "audio/flac",
    "txt": "text/plain", "text": "text/plain",
}  # fmt: skip
# libmagic names text it recognises as markup or code we never pass on as plain text.
ACTIVE_TEXT = {"text/html", "text/xml", "application/xml", "text/x-php", "text/javascript", "application/javascript"}
GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
HEAD_BYTES = 64 * 1024


def canonical(media_type: str) -> str:
    """Return the one spelling used for ``media_type`` (lowercase, parameters dropped, aliases mapped)."""
    bare = media_type.split(";", 1)[0].strip().lower()
    if bare.startswith("text/") and bare not in ACTIVE_TEXT:
        return "text/plain"  # libmagic's guesses about prose (text/x-c, text/x-Algol68…) are noise
    return ALIASES.get(bare, bare)


def _compatible(first: str, second: str) -> bool:
    return first == second or (first in FAMILIES and FAMILIES.get(first) == FAMILIES.get(second))


_per_thread = threading.local()  # a libmagic handle is not safe to share between threads


def detect(head: bytes) -> str:
    """Return libmagic's MIME type for the first bytes of a file (blocking: run in a worker thread)."""
    checker: Any = getattr(_per_thread, "checker", None)
    if checker is None:
        checker = _per_thread.checker = magic.Magic(mime=True)
    return str(checker.from_buffer(head))


@dataclass(frozen=True, slots=True)
class TypeVerdict:
    detected: str
    """libmagic's answer, as it spelled it."""
    type: str
    """The canonical type the file is accepted as."""


def reconcile(detected: str, declared: str, filename: str, allowed: Iterable[str], allow_svg: bool) -> TypeVerdict:
    """Return the type a file is accepted as; raise 415 ``unsupported-media-type`` when it is not allowed.

    The real type must be allowed; a declared type (unless generic) and a file-name extension must
    agree with it.
    """
    real = canonical(detected)
    allowed_set = {canonical(item) for item in allowed}
    if real == "image/svg+xml" and not allow_svg:
        raise Problem("unsupported-media-type", "SVG is not accepted (it can carry script)")
    said = canonical(declared)
    if said not in GENERIC and not _compatible(said, real):
        raise Problem("unsupported-media-type", f"the file was declared as {said} but its content is {real}")
    chosen = said if said not in GENERIC and said in allowed_set else real
    if chosen not in allowed_set:
        family = [item for item in allowed_set if _compatible(item, real)]
        if not family or said not in GENERIC:
            raise Problem("unsupported-media-type", f"content of type {real} is not accepted here")
        chosen = sorted(family)[0]
    extension = extension_of(filename)
    if extension:
        by_name = EXTENSIONS.get(extension)
        if by_name is None or not _compatible(by_name, chosen):
            raise Problem("unsupported-media-type", f"the file name's extension .{extension} does not match its content ({real})")
    return TypeVerdict(detected, chosen)
