"""Images through Pillow, opened only with the allowed decoders and checked before decoding.

Order matters: the header gives size and frame count, and those are checked against the policy
before a single pixel is decoded (decompression bombs); then the image is decoded, so a truncated
or corrupt file is refused here rather than failing later in the app. Pillow's global settings
(``MAX_IMAGE_PIXELS``, ``LOAD_TRUNCATED_IMAGES``, PNG text-chunk limits) are left at their safe
defaults and never changed per request: they are process-wide and other threads rely on them.

Metadata is stripped losslessly where the format allows (JPEG, PNG, WebP: see ``jpeg_segments`` and
``png_chunks``), and it is the stripped bytes, exactly what the app will receive, that are checked.
A stripped JPEG is not decoded: the strip has walked it to its end-of-image marker (truncation) and
``jpeg_frame.check_frame`` checks its frame, scan and table headers as libjpeg does, which is all a
decode would prove (libjpeg only warns about damaged entropy-coded data, and Pillow ignores the
warning). A frame of a kind that check leaves alone (arithmetic coding, 12-bit…) is decoded at 1/8
scale. PNG, WebP and GIF are decoded in full.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, cast

from PIL import Image, ImageFile, ImageOps, ImageSequence

from ..policy.uploads import ImageRules
from ..problems import Problem
from .jpeg_frame import check_frame
from .jpeg_segments import StrippedImage, strip_jpeg
from .models import CleanedFile
from .png_chunks import strip_png, strip_webp
from .spool import RangeReader
from .tempfiles import TempFiles, storage_error

__all__ = ["CanonicalImage", "ImageReport", "check_image"]

FORMAT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "comments", "photoshop", "adobe", "adobe_transform", "mp", "dpi")
METADATA_NAMES = {"exif": "EXIF", "xmp": "XMP", "XML:com.adobe.xmp": "XMP", "comment": "comment", "comments": "comment",
                  "photoshop": "IPTC/Photoshop (APP13)", "mp": "MPF (multi-picture index)"}  # fmt: skip
STRIPPERS: dict[str, Callable[[bytes], StrippedImage]] = {"image/jpeg": strip_jpeg, "image/png": strip_png, "image/webp": strip_webp}
CanonicalImage = CleanedFile  # the name this type had before media files were cleaned too


@dataclass(frozen=True, slots=True)
class ImageReport:
    format: str
    width: int
    height: int
    frames: int
    canonical: CleanedFile | None


def check_image(reader: RangeReader, media_type: str, rules: ImageRules, temp: TempFiles | None) -> ImageReport:
    """Open, bound and decode an image; with ``temp``, also write it without metadata.

    Without metadata means losslessly stripped (JPEG, PNG, WebP) unless ``rules.reencode`` is set,
    the format is GIF, or a PNG/WebP must be turned upright: then it is decoded and re-encoded.
    Returns what was found; raises 415 when the image is not one of ``rules.formats`` (or not the
    type libmagic saw) and 422 ``content-rejected`` when it is too large, a bomb, truncated or
    corrupt. Blocking: run in a worker thread.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # pragma: no cover - someone changed a global: fail closed
        raise Problem("content-rejected", "image screening is disabled by ImageFile.LOAD_TRUNCATED_IMAGES")
    formats: list[str] = [name for name in rules.formats if FORMAT_TYPES[name] == media_type]
    if not formats:
        raise Problem("unsupported-media-type", f"{media_type} images are not accepted here")
    stripped = None
    if temp is not None and not rules.reencode and media_type in STRIPPERS:
        stripped = STRIPPERS[media_type](reader.pread(reader.length, 0))
        if stripped.orientation not in (None, 1) and media_type != "image/jpeg":
            stripped = None  # only JPEG keeps a bare orientation tag; the others are turned upright
    source = io.BytesIO(stripped.data) if stripped is not None else cast("IO[bytes]", reader)
    source.seek(0)
    try:
        with Image.open(source, formats=formats) as image:
            frames = _bounded(image, rules)
            width, height = image.size
            if stripped is not None and image.format == "JPEG":
                if not check_frame(stripped.frame):  # a kind of frame the walk leaves to libjpeg
                    image.draft(None, (max(1, width // 8), max(1, height // 8)))
                    _decode_all(image, rules, frames)
            else:
                _decode_all(image, rules, frames)
            if temp is None:
                canonical = None
            elif stripped is not None:
                canonical = _write(stripped, temp)
            else:
                canonical = _reencode(image, temp)
            return ImageReport(image.format or formats[0], width, height, frames, canonical)
    except Problem:
        raise
    except OSError as error:
        if storage_error(error) is not None:
            raise Problem("storage-unavailable", f"the cleaned image could not be stored ({error.strerror}); try again later") from None
        raise Problem("content-rejected", f"the image cannot be decoded ({type(error).__name__})") from None
    except Image.DecompressionBombError:
        raise Problem("content-rejected", "the image has too many pixels") from None
    except Exception as error:
        raise Problem("content-rejected", f"the image cannot be decoded ({type(error).__name__})") from None


def _bounded(image: Image.Image, rules: ImageRules) -> int:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise Problem("content-rejected", "the image has no pixels")
    if width > rules.max_width or height > rules.max_height:
        raise Problem("content-rejected", f"the image is {width}×{height}; at most {rules.max_width}×{rules.max_height} is accepted")
    if width * height > rules.max_pixels:
        raise Problem("content-rejected", f"the image has {width * height} pixels; at most {rules.max_pixels} are accepted")
    frames = int(getattr(image, "n_frames", 1))
    if frames > rules.max_frames:
        raise Problem("content-rejected", f"the image has {frames} frames; at most {rules.max_frames} are accepted")
    if width * height * frames > rules.max_animation_pixels:
        raise Problem("content-rejected", "the animation has too many pixels in all its frames together")
    return frames


def _decode_all(image: Image.Image, rules: ImageRules, frames: int) -> None:
    for seen, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if seen > max(frames, 1) or seen > rules.max_frames:  # the header lied about the frame count
            raise Problem("content-rejected", "the image has more frames than its header says")
        frame.load()
    image.seek(0)


def _write(stripped: StrippedImage, temp: TempFiles) -> CleanedFile:
    fd, path = temp.create(".canonical")
    with os.fdopen(fd, "wb") as handle:
        handle.write(stripped.data)
    digest = hashlib.sha256(stripped.data).hexdigest()
    return CleanedFile(path, len(stripped.data), digest, "lossless", stripped.stripped, stripped.kept)


def _reencode(image: Image.Image, temp: TempFiles) -> CleanedFile:
    format_name = image.format or "PNG"
    animated = getattr(image, "n_frames", 1) > 1
    options: dict[str, Any] = {"format": format_name}
    icc = image.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc
    found = sorted({METADATA_NAMES[key] for key in METADATA_NAMES if image.info.get(key)} | ({"EXIF"} if image.getexif() else set()))
    if animated:
        for key in METADATA_KEYS:
            image.info.pop(key, None)
        source = image
        options.update(save_all=True)
    else:
        source = ImageOps.exif_transpose(image) or image
        source.info = {key: value for key, value in source.info.items() if key in ("transparency", "duration", "loop")}
    if format_name == "JPEG":
        options.update(quality=92, exif=b"", comment=b"")
    elif format_name == "WEBP":
        options.update(quality=92, exif=b"", xmp=b"")
    elif format_name == "GIF":
        options.update(comment=b"")
    fd, path = temp.create(".canonical")
    # Saved straight to the file: given a real file descriptor, Pillow encodes with the GIL released
    # (encode_to_file). Through a Python file object it encodes holding the GIL, ~10 ms for a 2 MB
    # JPEG, and the event loop serving every other request stalls that long. Hashing the result
    # afterwards reads it back from the page cache: about a millisecond.
    with os.fdopen(fd, "wb") as handle:
        source.save(handle, **options)
    with open(path, "rb") as saved:
        digest = hashlib.file_digest(saved, "sha256")
        size = saved.tell()
    kept = (*(["ICC profile"] if icc else []), *([] if animated else ["orientation applied to the pixels"]))
    return CleanedFile(path, size, digest.hexdigest(), "re-encode", tuple(found), kept)
