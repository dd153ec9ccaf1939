"""Audio and video remuxed without metadata: every audio and video packet copied bit for bit into a new container.

Nothing is re-encoded. The new container gets no metadata from the upload: no container tags
(QuickTime ``©xyz`` and ``com.apple.quicktime.location.ISO6709``, make, model, owner, software,
creation time, iTunes/ID3/Vorbis tags…), no stream tags (handler names, vendor, encoder), no chapters,
and only the audio and video streams (timed-metadata, subtitle, data, attachment and cover-art streams
are dropped). Kept: the codec parameters the decoder needs, which include the display matrix (a
portrait phone video stays upright), colour description and channel layout, the HEVC/AVC sample-entry
tag (``hvc1`` stays ``hvc1`` for Apple players) and each stream's language code. The muxers write in
bit-exact mode (no "Lavf" encoder tag), MP4/MOV with the index at the front (``faststart``), MP3
without any ID3 tag.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from typing import Any

import av

from .models import CleanedFile
from .tempfiles import TempFiles

__all__ = ["Remuxer", "dropped_metadata"]

MUXERS = {
    "video/mp4": "mp4", "audio/mp4": "mp4", "video/quicktime": "mov",
    "video/webm": "webm", "audio/webm": "webm", "video/x-matroska": "matroska",
    "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg", "video/ogg": "ogg", "audio/opus": "ogg",
}  # fmt: skip
WEBM_CODECS = {"vp8", "vp9", "av1", "opus", "vorbis"}
OPTIONS = {
    "mp4": {"movflags": "+faststart"},
    "mov": {"movflags": "+faststart"},
    "mp3": {"id3v2_version": "0", "write_id3v1": "0"},
}
KEPT_TAGS = {"hvc1", "hev1", "avc1", "avc3", "dvh1", "dvhe", "vp09", "av01"}
CONTAINER_KEYS = {"major_brand", "minor_version", "compatible_brands"}
"""Keys FFmpeg reports from the ``ftyp`` box: the container's type, rewritten by the muxer, not metadata."""
MAX_NAMES = 40


def _printable(name: str) -> str:
    cleaned = "".join(char if char.isprintable() and char.isascii() else "?" for char in name)
    return cleaned if len(cleaned) <= 64 else cleaned[:63] + "…"


def dropped_metadata(container: Any, kept_indexes: set[int]) -> list[str]:
    """Return names (never values) of what the remux leaves out: tags, chapters, streams."""
    names = [f"metadata: {_printable(key)}" for key in container.metadata if key not in CONTAINER_KEYS]
    for stream in container.streams:
        if stream.index not in kept_indexes:
            names.append(f"stream {stream.index} ({stream.type})")
            continue
        names += [f"stream {stream.index} metadata: {_printable(key)}" for key in stream.metadata if key != "language"]
    chapters = len(container.chapters()) if hasattr(container, "chapters") else 0
    if chapters:
        names.append(f"{chapters} chapters")
    return names[:MAX_NAMES] + ([f"{len(names) - MAX_NAMES} more"] if len(names) > MAX_NAMES else [])


class Remuxer:
    """Writes the kept streams' packets into a new file without metadata (blocking: a worker thread)."""

    def __init__(self, kind: str, container: Any, streams: list[Any], temp: TempFiles) -> None:
        muxer = MUXERS[kind]
        if muxer == "webm" and any(stream.codec.canonical_name not in WEBM_CODECS for stream in streams):
            muxer = "matroska"  # a Matroska file accepted in the WebM family keeps its own container
        fd, self.path = temp.create(".clean")
        os.close(fd)
        self.stripped = dropped_metadata(container, {stream.index for stream in streams})
        self.kept = ["audio/video packets bit for bit", "codec parameters (display matrix, colour, channel layout)"]
        self.output: Any = av.open(self.path, "w", format=muxer, options={"fflags": "+bitexact", **OPTIONS.get(muxer, {})})
        self.streams: dict[int, Any] = {}
        for stream in streams:
            copy = self.output.add_stream_from_template(stream, opaque=True)  # the decoder's codec: AV1 has no encoder named libdav1d
            tag = stream.codec_context.codec_tag
            if muxer in ("mp4", "mov") and tag in KEPT_TAGS:
                copy.codec_context.codec_tag = tag
            if stream.language:
                copy.metadata["language"] = stream.language
            self.streams[stream.index] = copy
        self.packets = 0
        self.closed = False

    def write(self, packet: Any) -> None:
        """Mux one packet of a kept stream (its timestamps are rebased to the new stream)."""
        packet.stream = self.streams[packet.stream.index]
        self.output.mux(packet)
        self.packets += 1

    def finish(self) -> CleanedFile:
        """Close the new file and return it with its hash and what was stripped and kept."""
        self.closed = True
        self.output.close()
        with open(self.path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            size = handle.tell()
        return CleanedFile(self.path, size, digest, "remux", tuple(self.stripped), tuple(self.kept))

    def abandon(self) -> None:
        """Close the new file after a failure (the stage deletes it with the other temporary files)."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):  # a half-written container may not close cleanly; it is deleted anyway
            self.output.close()
