"""Asking clamd about a file over its INSTREAM protocol, with a time limit.

``zINSTREAM\\0``, then chunks each prefixed by its length (4 bytes, big-endian), then a zero
length; clamd answers ``stream: OK`` or ``stream: <name> FOUND``. No answer, an error answer or a
timeout all mean the file is not known to be clean (503 ``scanner-unavailable``).
"""

from __future__ import annotations

import struct
from typing import Any

import anyio

from ..problems import Problem
from .spool import RangeReader

__all__ = ["CHUNK_BYTES", "scan"]

CHUNK_BYTES = 256 * 1024
MAX_REPLY = 4096


async def _connect(address: str) -> Any:
    if address.startswith("unix://"):
        return await anyio.connect_unix(address[len("unix://") :])
    host, _, port = address[len("tcp://") :].rpartition(":")
    return await anyio.connect_tcp(host, int(port))


async def scan(address: str, timeout: float, reader: RangeReader) -> None:
    """Stream the file to clamd; return if clean, raise 422 when a signature matched, 503 otherwise."""
    try:
        with anyio.fail_after(timeout):
            reply = await _instream(address, reader)
    except TimeoutError:
        raise Problem("scanner-unavailable", "the virus scanner did not answer in time") from None
    except (OSError, anyio.BrokenResourceError, anyio.EndOfStream, anyio.ClosedResourceError):
        raise Problem("scanner-unavailable", "the virus scanner cannot be reached") from None
    if reply == "stream: OK":
        return
    if reply.endswith(" FOUND"):
        raise Problem("content-rejected", "the virus scanner found a threat in the file")
    raise Problem("scanner-unavailable", "the virus scanner could not scan the file")


async def _instream(address: str, reader: RangeReader) -> str:
    stream = await _connect(address)
    async with stream:
        await stream.send(b"zINSTREAM\0")
        for offset in range(0, reader.length, CHUNK_BYTES):
            data = await anyio.to_thread.run_sync(reader.pread, CHUNK_BYTES, offset)
            await stream.send(struct.pack(">I", len(data)))
            await stream.send(data)
        await stream.send(struct.pack(">I", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            try:
                reply += await stream.receive(MAX_REPLY)
            except anyio.EndOfStream:
                break
            if len(reply) > MAX_REPLY:
                break
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()
