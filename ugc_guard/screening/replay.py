"""Handing the app exactly the screened body, streamed from the spool, never held whole in memory.

The body is a list of segments: bytes in memory, or a range of a spooled or re-encoded file. The
app's ``receive`` yields them in order, then passes through to the server's ``receive`` (so the app
still learns of a disconnect).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio
from starlette.types import Message, Receive, Scope

from .multipart import Part
from .spool import BATCH_BYTES, BodySpool

__all__ = ["FileSegment", "Segment", "multipart_segments", "replay_receive", "set_body_headers"]

READ_BYTES = BATCH_BYTES


@dataclass(frozen=True, slots=True)
class FileSegment:
    """``length`` bytes read with ``pread(size, offset)`` from ``offset`` (a spool or a file)."""

    pread: Callable[[int, int], bytes]
    offset: int
    length: int
    in_memory: bool = False


Segment = bytes | FileSegment


def file_segment(path: str, size: int) -> FileSegment:
    """A segment over a whole (small) temporary file, opened for each read."""

    def pread(length: int, offset: int) -> bytes:
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    return FileSegment(pread, 0, size)


def spool_segment(spool: BodySpool, offset: int = 0, length: int | None = None) -> FileSegment:
    return FileSegment(spool.pread, offset, spool.size - offset if length is None else length, spool.in_memory)


def replay_receive(segments: Sequence[Segment], downstream: Receive) -> Receive:
    """Return a ``receive`` that yields ``segments`` as ``http.request`` messages, then defers to ``downstream``."""
    pieces = list(_pieces(segments))
    state = {"next": 0, "sent_last": False}

    async def receive() -> Message:
        if state["sent_last"]:
            return await downstream()
        index = state["next"]
        if index >= len(pieces):
            state["sent_last"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        piece = pieces[index]
        state["next"] = index + 1
        if isinstance(piece, bytes):
            body = piece
        elif piece.in_memory:
            body = piece.pread(piece.length, piece.offset)
        else:
            body = await anyio.to_thread.run_sync(piece.pread, piece.length, piece.offset)
        more = index + 1 < len(pieces)
        state["sent_last"] = not more
        return {"type": "http.request", "body": body, "more_body": more}

    return receive


def _pieces(segments: Sequence[Segment]) -> list[Segment]:
    """Split file segments into reads of at most ``READ_BYTES``; merge nothing (bounded memory)."""
    pieces: list[Segment] = []
    for segment in segments:
        if isinstance(segment, bytes):
            if segment:
                pieces.append(segment)
            continue
        for start in range(0, segment.length, READ_BYTES):
            size = min(READ_BYTES, segment.length - start)
            pieces.append(FileSegment(segment.pread, segment.offset + start, size, segment.in_memory))
    return pieces


def multipart_segments(parts: Sequence[tuple[Part, str, Segment]]) -> tuple[list[Segment], str]:
    """Rebuild a multipart body from (part, file name to send, data); return segments and Content-Type."""
    boundary = "ugc-guard-" + secrets.token_hex(16)
    segments: list[Segment] = []
    for part, filename, data in parts:
        disposition = f'form-data; name="{_quote(part.name)}"'
        if part.is_file:
            disposition += f'; filename="{_quote(filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type:
            head += f"Content-Type: {part.content_type}\r\n"
        segments += [(head + "\r\n").encode("utf-8"), data, b"\r\n"]
    segments.append(f"--{boundary}--\r\n".encode())
    return segments, f"multipart/form-data; boundary={boundary}"


def _quote(value: str) -> str:
    # The HTML form-submission rules: escape quote and line breaks inside a quoted parameter.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def body_length(segments: Sequence[Segment]) -> int:
    return sum(len(segment) if isinstance(segment, bytes) else segment.length for segment in segments)


def set_body_headers(scope: Scope, length: int, content_type: str | None) -> None:
    """Make the scope's Content-Length (and Content-Type) describe the replayed body."""
    drop = {b"content-length", b"transfer-encoding"} | ({b"content-type"} if content_type else set())
    headers = [(name, value) for name, value in scope["headers"] if name.lower() not in drop]
    headers.append((b"content-length", str(length).encode()))
    if content_type:
        headers.append((b"content-type", content_type.encode("latin-1")))
    scope["headers"] = headers
