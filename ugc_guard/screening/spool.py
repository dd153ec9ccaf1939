"""The received body, kept byte-exact: in memory while small, then in a temporary file.

Writes and hashing are batched (about 1 MiB at a time) and run in a worker thread, so a large
upload never blocks the event loop and memory stays bounded by the batch plus the in-memory limit.
Ranges of the spool are read with ``os.pread``: any number of readers, no shared file position.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import anyio

__all__ = ["BATCH_BYTES", "BodySpool", "RangeReader", "TempFiles"]

BATCH_BYTES = 1024 * 1024
TEMP_PREFIX = "ugc-guard-"


class TempFiles:
    """Every temporary file one request made; :meth:`remove` deletes them all (idempotent)."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder
        self._paths: list[str] = []
        self._closers: list[Callable[[], None]] = []

    def on_remove(self, closer: Callable[[], None]) -> None:
        """Call ``closer`` (e.g. closing a descriptor) before the files are deleted."""
        self._closers.append(closer)

    def create(self, suffix: str) -> tuple[int, str]:
        """Create a new private temporary file; return its descriptor and path (blocking: call in a thread)."""
        fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=self.folder)
        self._paths.append(path)
        return fd, path

    def remove(self) -> None:
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()
        paths, self._paths = self._paths, []
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


class BodySpool:
    """Append-only store of the request body with hashes fed from the same batches.

    ``queue(data)`` records received bytes; ``queue_hash(hasher, data)`` feeds a hash; both run for
    real in :meth:`flush`, which the reader awaits whenever :attr:`pending` passes ``BATCH_BYTES``.
    """

    def __init__(self, temp: TempFiles, memory_limit: int) -> None:
        self.temp = temp
        self.memory_limit = memory_limit
        self.size = 0
        self.path: str | None = None
        self._fd: int | None = None
        self._memory = bytearray()
        self._writes: list[bytes | memoryview] = []
        self._hashes: list[tuple[Any, bytes | memoryview]] = []
        self.pending = 0
        temp.on_remove(self.close)

    def queue(self, data: bytes | memoryview) -> None:
        self._writes.append(data)
        self.size += len(data)
        self.pending += len(data)

    def queue_hash(self, hasher: Any, data: bytes | memoryview) -> None:
        self._hashes.append((hasher, data))

    async def flush(self) -> None:
        """Write queued bytes and feed queued hashes, in two worker threads side by side.

        Each flush completes before the next starts, so writes and hash updates keep their order.
        """
        if not self._writes and not self._hashes:
            return
        writes, hashes = self._writes, self._hashes
        self._writes, self._hashes, self.pending = [], [], 0
        if hashes and sum(len(data) for data in writes) >= BATCH_BYTES // 2:
            async with anyio.create_task_group() as group:
                group.start_soon(anyio.to_thread.run_sync, _feed, hashes)
                group.start_soon(anyio.to_thread.run_sync, self._store, writes)
        else:
            await anyio.to_thread.run_sync(self._apply, writes, hashes)

    def _apply(self, writes: list[bytes | memoryview], hashes: list[tuple[Any, bytes | memoryview]]) -> None:
        _feed(hashes)
        self._store(writes)

    def _store(self, writes: list[bytes | memoryview]) -> None:
        if self._fd is None and self.size <= self.memory_limit:
            for data in writes:
                self._memory += data
            return
        if self._fd is None:
            self._fd, self.path = self.temp.create(".body")
            _write_all(self._fd, self._memory)
            self._memory = bytearray()
        for data in writes:
            _write_all(self._fd, data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def pread(self, size: int, offset: int) -> bytes:
        """Return up to ``size`` bytes at ``offset`` (blocking for a file: call in a thread)."""
        if self._fd is None:
            return bytes(self._memory[offset : offset + size])
        return os.pread(self._fd, size, offset)

    @property
    def in_memory(self) -> bool:
        return self._fd is None

    def reader(self, offset: int = 0, length: int | None = None) -> RangeReader:
        """Return a read-only file object over ``length`` bytes from ``offset``."""
        return RangeReader(self, offset, self.size - offset if length is None else length)


def _feed(hashes: list[tuple[Any, bytes | memoryview]]) -> None:
    for hasher, data in hashes:
        hasher.update(data)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class RangeReader(io.RawIOBase):
    """A seekable, read-only window on a spool (what Pillow, libmagic and clamd read)."""

    def __init__(self, spool: BodySpool, offset: int, length: int) -> None:
        super().__init__()
        self._spool = spool
        self._offset = offset
        self.length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.length}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        remaining = self.length - self._position
        if remaining <= 0:
            return b""
        size = remaining if size is None or size < 0 else min(size, remaining)
        data = self._spool.pread(size, self._offset + self._position)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def pread(self, size: int, offset: int) -> bytes:
        """Read ``size`` bytes at ``offset`` within the window, without moving the position."""
        size = max(0, min(size, self.length - offset))
        return self._spool.pread(size, self._offset + offset) if size else b""

    def chunks(self, size: int = BATCH_BYTES) -> Iterator[bytes]:
        for start in range(0, self.length, size):
            yield self.pread(size, start)


def new_hasher() -> Any:
    return hashlib.sha256()
