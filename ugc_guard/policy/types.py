"""Small value types used by the policy models: durations, content types, byte sizes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import mimetypes
import re
from pathlib import Path
from typing import Annotated, Any

import isodate
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, WithJsonSchema

__all__ = ["ByteSize", "ContentType", "Duration", "LoadedText", "TextFile", "add_duration", "duration_seconds"]


def duration_seconds(duration: str) -> float:
    """Seconds in an ISO 8601 duration; months and years count from 2000-01-01 (for short periods only)."""
    start = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
    end: _dt.datetime = start + isodate.parse_duration(duration)
    return (end - start).total_seconds()


def add_duration(anchor: _dt.datetime, duration: str) -> _dt.datetime:
    """Return ``anchor`` plus an ISO 8601 duration, calendar-aware for months and years."""
    moved: _dt.datetime = anchor + isodate.parse_duration(duration)
    return moved


_DURATION_RE = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


def _check_duration(value: Any) -> str:
    if not isinstance(value, str) or not _DURATION_RE.match(value):
        raise ValueError(
            f"{value!r} is not an ISO 8601 duration; write it like P3M (3 months), P90D (90 days) or PT30S (30 seconds)"
        )
    parsed = isodate.parse_duration(value)
    zero = _dt.datetime(2000, 1, 1)
    if zero + parsed <= zero:
        raise ValueError(f"{value!r} must be longer than zero")
    return value


Duration = Annotated[
    str,
    BeforeValidator(_check_duration),
    WithJsonSchema({"type": "string", "pattern": _DURATION_RE.pattern, "examples": ["P3M", "P90D", "PT60S"]}),
]

_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")

# Top-level types an upload gate can meaningfully screen; anything else is almost always a typo.
_KNOWN_TOP_LEVEL = {"image", "video", "audio", "text", "application"}
_BUILTIN_TYPES = mimetypes.MimeTypes()  # Python's own table only, the same on every machine
# Types libmagic reports that Python's own table lacks.
_EXTRA_KNOWN = {
    "audio/mp4", "audio/wav", "audio/x-wav", "audio/wave", "audio/x-m4a", "audio/ogg", "audio/flac",
    "video/webm", "video/ogg", "video/x-matroska", "image/webp", "image/heic", "image/avif",
}  # fmt: skip


def _check_content_type(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a content type must be a string like image/jpeg")
    lowered = value.strip().lower()
    if (
        not _CONTENT_TYPE_RE.match(lowered)
        or lowered.split("/")[0] not in _KNOWN_TOP_LEVEL
        or (_BUILTIN_TYPES.guess_extension(lowered) is None and lowered not in _EXTRA_KNOWN)
    ):
        raise ValueError(
            f"{value!r} is not a known content type; use a media type such as image/jpeg, image/png, video/mp4 or audio/mpeg"
        )
    return lowered


ContentType = Annotated[
    str,
    BeforeValidator(_check_content_type),
    WithJsonSchema({"type": "string", "examples": ["image/jpeg", "image/png", "video/mp4"]}),
]

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def _check_size(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or a string like 20MiB")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _SIZE_RE.match(value)):
        number = int(match.group(1)) * _UNITS[(match.group(2) or "b").lower()]
    else:
        raise ValueError(f"{value!r} is not a size; write a number of bytes or a string like 500KiB, 20MiB, 1GB")
    if number <= 0:
        raise ValueError(f"{value!r} must be greater than 0")
    return number


ByteSize = Annotated[
    int,
    BeforeValidator(_check_size),
    WithJsonSchema({"oneOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "string", "pattern": _SIZE_RE.pattern}]}),
]


class LoadedText(BaseModel):
    """A text shown to people (terms, licence), read once at load time with its SHA-256."""

    model_config = ConfigDict(frozen=True)
    path: Path
    text: str
    sha256: str


def _load_text(value: Any, info: ValidationInfo) -> LoadedText:
    if isinstance(value, LoadedText):
        return value
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError("expected the path of a text file, relative to the policy file")
    base = Path((info.context or {}).get("base_dir", "."))
    path = (base / value).resolve()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"text file {path} does not exist; create it or fix the path (relative to the policy file)") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder; name the text file itself") from None
    except OSError as error:
        raise ValueError(f"text file {path} cannot be read ({error.strerror}); check its permissions") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"text file {path} is not UTF-8; save it as UTF-8") from None
    if not text.strip():
        raise ValueError(f"text file {path} is empty; people must be shown a text")
    return LoadedText(path=path, text=text, sha256=hashlib.sha256(data).hexdigest())


TextFile = Annotated[
    LoadedText,
    BeforeValidator(_load_text),
    WithJsonSchema({"type": "string", "description": "Path of a UTF-8 text file, relative to the policy file."}),
]
