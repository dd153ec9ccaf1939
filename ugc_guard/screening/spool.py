"""The received body, kept byte-exact: in memory while small, then in a temporary file.

Writes and hashing are batched (4 MiB at a time) and run in worker threads while the event loop
receives and parses the next batch, so a large upload never blocks the event loop and memory stays
bounded by two batches plus the in-memory limit.
Ranges of the spool are read with ``os.pread``: any number of readers, no shared file position.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import anyio

from .spool_threads import submit
from .tempfiles import TempFiles

__all__ = ["BATCH_BYTES", "BodySpool", "RangeReader"]

logger = logging.getLogger("ugc_guard")

_IOV_MAX = 1024
BATCH_BYTES = 4 * 1024 * 1024
SMALL_BATCH_BYTES = 1024 * 1024
"""Batches stay this small until the body passes ``BATCH_BYTES``: a small upload spills to its temporary
file as early as before, a large one gets the larger batches (fewer thread hops and GIL hand-overs)."""


class BodySpool:
    """Append-only store of the request body with hashes fed from the same batches.

    ``queue(data)`` records received bytes; ``queue_hash(hasher, data, offset)`` feeds a hash; both
    run for real in :meth:`flush_behind` (whenever :attr:`batch_full`) or :meth:`flush`.

    Received bytes are copied into one buffer per batch as they arrive (a few microseconds per
    chunk on the event loop), so a worker hashes a file's share of a batch as one view of that
    buffer and writes the batch in one call: each call releases the GIL for the whole batch,
    instead of handing it back and forth (and waiting for it behind a busy event loop) per chunk.
    """

    def __init__(self, temp: TempFiles, memory_limit: int) -> None:
        self.temp = temp
        self.memory_limit = memory_limit
        self.size = 0
        self.path: str | None = None
        self._fd: int | None = None
        self._memory = bytearray()
        self._batch = bytearray()
        self._batch_start = 0
        """Where the batch buffer starts in the body."""
        self._hashes: list[tuple[Any, int, int, bytes | memoryview | None]] = []
        """(hasher, start, end, data): a range of the body in the batch buffer, or data given as is."""
        self.pending = 0
        self._jobs: list[concurrent.futures.Future[None]] = []
        temp.on_remove(self.close)

    def queue(self, data: bytes | memoryview) -> None:
        self._batch += data
        self.size += len(data)
        self.pending += len(data)

    def queue_hash(self, hasher: Any, data: bytes | memoryview, offset: int | None = None) -> None:
        """Feed ``data`` to ``hasher``; ``offset`` says where ``data`` lies in the body when it was queued."""
        if offset is None or offset < self._batch_start or offset + len(data) > self.size:  # not (all) in the batch buffer
            self._hashes.append((hasher, -1, -1, data))
            return
        end = offset + len(data)
        hashes = self._hashes
        if hashes and hashes[-1][0] is hasher and hashes[-1][2] == offset:  # continues the last range
            hashes[-1] = (hasher, hashes[-1][1], end, None)
        else:
            hashes.append((hasher, offset, end, None))

    @property
    def _writes(self) -> list[bytes | bytearray | memoryview]:
        """What the next flush writes (some tests store it with ``_apply`` directly)."""
        return [self._batch] if self._batch else []

    @property
    def batch_full(self) -> bool:
        """Whether enough is queued for the reader to start a flush."""
        return self.pending >= (BATCH_BYTES if self.size > BATCH_BYTES else SMALL_BATCH_BYTES)

    async def flush(self) -> None:
        """Write queued bytes and feed queued hashes; on return everything queued so far is done."""
        await self.settle()
        writes, hashes = self._take()
        if writes or hashes:
            await anyio.to_thread.run_sync(self._apply, writes, hashes)

    async def flush_behind(self) -> None:
        """Hand the queued batch to the spool threads and return at once.

        The caller goes on receiving and parsing the next batch meanwhile: the threads start now,
        whether or not the caller's ``receive`` ever yields to the event loop. One batch runs at a
        time (this first waits for the previous one), so writes and hash updates keep their order
        and memory holds at most two batches. The caller must end with :meth:`flush` on success and
        :meth:`drain` in any case, before the spool's files are removed.
        """
        await self.settle()
        writes, hashes = self._take()
        work: list[tuple[Callable[..., None], tuple[Any, ...]]]
        if hashes and writes:  # hashing and copying into the page cache side by side
            work = [(_feed, (hashes,)), (self._store, (writes,))]
        elif writes or hashes:
            work = [(self._apply, (writes, hashes))]
        else:
            return
        # Only a large body's batches are handed over: a photo's few batches would gain little, and the
        # event loop, serving every other request meanwhile, would pay in latency.
        self._jobs = submit(work, hand_over=self.size > BATCH_BYTES)

    async def settle(self) -> None:
        """Wait for the batch :meth:`flush_behind` started; raise what it raised (e.g. a full disk)."""
        await self.drain()
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            job.result()

    async def drain(self) -> None:
        """Wait, without raising, until no batch is being written or hashed."""
        pending = [job for job in self._jobs if not job.done()]
        if pending:  # the reader is ahead of the threads: wait for them in a worker thread
            await anyio.to_thread.run_sync(concurrent.futures.wait, pending)

    def _take(self) -> tuple[list[bytes | bytearray | memoryview], list[tuple[Any, bytes | memoryview]]]:
        batch, start = self._batch, self._batch_start
        view = memoryview(batch)
        hashes = [(hasher, view[begin - start : end - start] if data is None else data) for hasher, begin, end, data in self._hashes]
        writes = self._writes
        self._batch, self._batch_start, self._hashes, self.pending = bytearray(), self.size, [], 0
        return writes, hashes

    def _apply(self, writes: list[bytes | bytearray | memoryview], hashes: list[tuple[Any, bytes | memoryview]]) -> None:
        _feed(hashes)
        self._store(writes)

    def _store(self, writes: list[bytes | bytearray | memoryview]) -> None:
        if self._fd is None and self.size <= self.memory_limit:
            for data in writes:
                self._memory += data
            return
        if self._fd is None:
            self._fd, self.path = self.temp.create(".body")
            _write_all(self._fd, self._memory)
            self._memory = bytearray()
        _write_batch(self._fd, writes)

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


def _write_batch(fd: int, writes: list[bytes | bytearray | memoryview]) -> None:
    """Write the pieces in order: one ``writev`` per 1,024 pieces (one GIL hand-over, not one per piece)."""
    for start in range(0, len(writes), _IOV_MAX):
        pieces = writes[start : start + _IOV_MAX]
        written = os.writev(fd, pieces)
        for data in pieces:  # after a short write (rare), finish piece by piece
            if written >= len(data):
                written -= len(data)
                continue
            _write_all(fd, memoryview(data)[written:])
            written = 0


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

    @property
    def offset(self) -> int:
        """Where the window starts in the spooled body."""
        return self._offset

    def clone(self) -> RangeReader:
        """A new reader over the same window, at its start (readers share no position)."""
        return RangeReader(self._spool, self._offset, self.length)

    def file_descriptor(self) -> int | None:
        """The spool file's descriptor (``offset`` applies), or None while the body is kept in memory."""
        return self._spool._fd

    def chunks(self, size: int = BATCH_BYTES) -> Iterator[bytes]:
        for start in range(0, self.length, size):
            yield self.pread(size, start)


def new_hasher() -> Any:
    return hashlib.sha256()

