"""One file, screened: real type, second signatures, then the checks of its kind.

Everything here blocks (libmagic, Pillow, reading the spool) and runs in a worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..policy.media import MediaLimits
from ..policy.uploads import Uploads
from ..problems import Problem
from .images import ImageReport, check_image
from .media import check_media, check_text
from .mediatypes import HEAD_BYTES, detect, reconcile
from .polyglot import check_image_content, check_polyglot
from .spool import RangeReader
from .svg import check_svg
from .tempfiles import TempFiles

if TYPE_CHECKING:
    from .av_probe import MediaReport
    from .models import CleanedFile

__all__ = ["Findings", "receives_original", "screen_file"]

# Decoding is CPU-bound: more decoders than cores only adds GIL and scheduler contention, which the
# event loop (serving everything else) feels as latency. Waiting threads hold neither.
_CPU_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True, slots=True)
class Findings:
    detected: str
    type: str
    image: ImageReport | None = None
    media: MediaReport | None = None

    @property
    def canonical(self) -> CleanedFile | None:
        """The file without metadata, when one was made (image or audio/video)."""
        return self.image.canonical if self.image else self.media.canonical if self.media else None


def screen_file(
    reader: RangeReader,
    declared: str,
    filename: str,
    allowed: Iterable[str],
    uploads: Uploads,
    temp: TempFiles,
    media_limits: MediaLimits | None = None,
) -> Findings:
    """Return what the file is; raise :class:`Problem` (413, 415, 422) when it must not pass.

    ``media_limits`` are the route's audio/video limits (default ``uploads.media``).
    """
    with _CPU_SLOTS:
        return _screen(reader, declared, filename, allowed, uploads, temp, media_limits or uploads.media)


def receives_original(uploads: Uploads) -> bool:
    """Whether the app receives an image's bytes as uploaded (``replay: original``, or no re-encoding)."""
    return uploads.replay == "original" or not uploads.images.strip_metadata


def _screen(
    reader: RangeReader, declared: str, filename: str, allowed: Iterable[str], uploads: Uploads, temp: TempFiles, media_limits: MediaLimits
) -> Findings:
    if reader.length == 0:
        raise Problem("content-rejected", "the file is empty")
    detected = detect(reader.pread(HEAD_BYTES, 0))
    verdict = reconcile(detected, declared, filename, allowed, uploads.allow_svg)
    kind = verdict.type
    image = media = None
    if kind == "image/svg+xml":
        check_svg(reader.pread(reader.length, 0))
    elif kind.startswith("image/"):
        check_image_content(reader, kind, original=receives_original(uploads))
        image = check_image(reader, kind, uploads.images, temp if uploads.images.strip_metadata else None)
    elif kind.startswith(("audio/", "video/")):
        check_polyglot(reader, whole=False)
        remux = media_limits.strip_metadata and uploads.replay == "canonical"
        media = check_media(reader, kind, media_limits, temp if remux else None)
    elif kind == "text/plain":
        check_text(reader, uploads.text.max_chars)
    else:
        raise Problem("unsupported-media-type", f"{kind} cannot be screened, so it is not accepted")
    return Findings(detected, kind, image, media)
