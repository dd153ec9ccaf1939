"""Images through Pillow, opened only with the allowed decoders and checked before decoding.

Order matters: the header gives size and frame count, and those are checked against the policy
before a single pixel is decoded (decompression bombs); then every frame is decoded, so a truncated
or corrupt file is refused here rather than failing later in the app. Pillow's global settings
(``MAX_IMAGE_PIXELS``, ``LOAD_TRUNCATED_IMAGES``, PNG text-chunk limits) are left at their safe
defaults and never changed per request: they are process-wide and other threads rely on them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFile, ImageOps, ImageSequence

from ..policy.uploads import ImageRules
from .refusal import Refusal
from .spool import RangeReader, TempFiles, storage_error

__all__ = ["CanonicalImage", "ImageReport", "check_image"]

FORMAT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "comments", "photoshop", "adobe", "adobe_transform", "mp", "dpi")


@dataclass(frozen=True, slots=True)
class CanonicalImage:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ImageReport:
    format: str
    width: int
    height: int
    frames: int
    canonical: CanonicalImage | None


def check_image(reader: RangeReader, media_type: str, rules: ImageRules, temp: TempFiles | None) -> ImageReport:
    """Open, bound, fully decode and (when ``temp`` is given) re-encode an image without metadata.

    Returns what was found; raises 415 when the image is not one of ``rules.formats`` (or not the
    type libmagic saw) and 422 ``content-rejected`` when it is too large, a bomb, truncated or
    corrupt. Blocking: run in a worker thread.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # pragma: no cover - someone changed a global: fail closed
        raise Refusal("content-rejected", "image screening is disabled by ImageFile.LOAD_TRUNCATED_IMAGES")
    formats = [name for name in rules.formats if FORMAT_TYPES[name] == media_type]
    if not formats:
        raise Refusal("unsupported-media-type", f"{media_type} images are not accepted here")
    reader.seek(0)
    try:
        with Image.open(reader, formats=formats) as image:
            frames = _bounded(image, rules)
            _decode_all(image, rules, frames)
            canonical = _reencode(image, temp) if temp is not None else None
            return ImageReport(image.format or formats[0], image.width, image.height, frames, canonical)
    except Refusal:
        raise
    except OSError as error:
        if storage_error(error) is not None:
            raise Refusal("storage-unavailable", f"the re-encoded image could not be stored ({error.strerror}); try again later") from None
        raise Refusal("content-rejected", f"the image cannot be decoded ({type(error).__name__})") from None
    except Image.DecompressionBombError:
        raise Refusal("content-rejected", "the image has too many pixels") from None
    except Exception as error:
        raise Refusal("content-rejected", f"the image cannot be decoded ({type(error).__name__})") from None


def _bounded(image: Image.Image, rules: ImageRules) -> int:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise Refusal("content-rejected", "the image has no pixels")
    if width > rules.max_width or height > rules.max_height:
        raise Refusal("content-rejected", f"the image is {width}×{height}; at most {rules.max_width}×{rules.max_height} is accepted")
    if width * height > rules.max_pixels:
        raise Refusal("content-rejected", f"the image has {width * height} pixels; at most {rules.max_pixels} are accepted")
    frames = int(getattr(image, "n_frames", 1))
    if frames > rules.max_frames:
        raise Refusal("content-rejected", f"the image has {frames} frames; at most {rules.max_frames} are accepted")
    if width * height * frames > rules.max_animation_pixels:
        raise Refusal("content-rejected", "the animation has too many pixels in all its frames together")
    return frames


def _decode_all(image: Image.Image, rules: ImageRules, frames: int) -> None:
    for seen, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if seen > max(frames, 1) or seen > rules.max_frames:  # the header lied about the frame count
            raise Refusal("content-rejected", "the image has more frames than its header says")
        frame.load()
    image.seek(0)


def _reencode(image: Image.Image, temp: TempFiles) -> CanonicalImage:
    format_name = image.format or "PNG"
    animated = getattr(image, "n_frames", 1) > 1
    options: dict[str, Any] = {"format": format_name}
    icc = image.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc
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
    return CanonicalImage(path, size, digest.hexdigest())
