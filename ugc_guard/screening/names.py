"""Client file names: never a path, only metadata.

A name is reduced to its last path component, stripped of control characters and bidirectional
overrides, and capped at 255 bytes of UTF-8; the escaped original is kept for the record.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["SafeName", "extension_of", "sanitise_filename"]

MAX_NAME_BYTES = 255
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class SafeName:
    name: str
    """Usable as display text (never as a path): no directories, controls or bidi overrides."""
    original_escaped: str
    """The name as sent, with every non-printable or non-ASCII character as a ``\\x``/``\\u`` escape."""


def sanitise_filename(raw: str | None) -> SafeName:
    """Return the safe and the escaped form of a client-supplied file name ('' when none was sent)."""
    if not raw:
        return SafeName("", "")
    escaped = raw.encode("unicode_escape").decode("ascii")[: MAX_NAME_BYTES * 4]
    name = unicodedata.normalize("NFC", raw).translate(_BIDI)
    name = _UNSAFE.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        keep = ("." + ext) if dot and 0 < len(ext.encode()) <= 16 else ""
        room = MAX_NAME_BYTES - len(keep.encode())
        name = (stem if keep else name).encode("utf-8")[:room].decode("utf-8", "ignore") + keep
    return SafeName(name, escaped)


def extension_of(name: str) -> str:
    """Return the lowercase extension without the dot ('' when there is none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""
