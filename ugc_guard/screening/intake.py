"""Receiving an upload body: counted, bounded, spooled and hashed as it arrives, within a deadline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import anyio
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from ..policy.types import duration_seconds
from ..policy.uploads import UploadLimits
from ..problems import Problem
from .limits import Budget
from .multipart import MultipartReader, Part, boundary_of, filename_of
from .spool import BodySpool, RangeReader

__all__ = ["ClientGone", "Intake", "raw_file_facts", "receive_body"]


class ClientGone(Exception):
    """The client disconnected before the body was complete."""


@dataclass(eq=False)
class Intake:
    spool: BodySpool
    parts: list[Part] = field(default_factory=list)
    """Multipart: every part; raw: empty."""
    raw_sha256: Any = None
    """Raw body: the running SHA-256 of the whole body."""


async def receive_body(
    receive: Receive,
    spool: BodySpool,
    limits: UploadLimits,
    *,
    raw: bool,
    multipart_type: str | None = None,
    file_field: str | None = None,
) -> Intake:
    """Read the whole body (multipart when ``raw`` is false) or raise Problem/ClientGone.

    Refuses with 408 ``upload-timeout`` when it has not all arrived within ``limits.deadline``.
    """
    budget = Budget(limits)
    parser = None if raw else MultipartReader(boundary_of(multipart_type), budget, spool, file_field)
    intake = Intake(spool, raw_sha256=hashlib.sha256() if raw else None)
    try:
        with anyio.fail_after(duration_seconds(limits.deadline)):
            await _read_alongside_writes(receive, spool, budget, parser, intake)
    except TimeoutError:
        raise Problem("upload-timeout", f"the upload did not arrive within {limits.deadline}") from None
    if parser is not None:
        intake.parts = parser.finish()
    return intake


async def _read_alongside_writes(
    receive: Receive, spool: BodySpool, budget: Budget, parser: MultipartReader | None, intake: Intake
) -> None:
    """Receive and parse on the event loop while the spool threads hash and write the previous batch."""
    try:
        await _read(receive, spool, budget, parser, intake)
    finally:
        with anyio.CancelScope(shield=True):  # refused, gone or timed out: no batch may outlive the request
            await spool.drain()


async def _read(receive: Receive, spool: BodySpool, budget: Budget, parser: MultipartReader | None, intake: Intake) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            budget.body(len(chunk))
            spool.queue(chunk)
            if parser is not None:
                parser.feed(chunk)
            else:
                budget.file_size(spool.size)
                spool.queue_hash(intake.raw_sha256, chunk, spool.size - len(chunk))
            if spool.batch_full:
                await spool.flush_behind()
        if not message.get("more_body", False):
            break
    await spool.flush()


def raw_file_facts(scope: Scope, headers: Headers, intake: Intake) -> tuple[str, str, str, RangeReader, Any]:
    """Return (field, file name, declared type, reader, hasher) for a raw body.

    The file name comes from a ``Content-Disposition: attachment; filename=…`` request header, or
    else the last segment of the path (``/raw/photo.jpg``).
    """
    filename = filename_of(headers.get("content-disposition", ""))  # latin-1 text; the name is decoded as UTF-8
    if filename is None:
        filename = unquote(scope["path"].rstrip("/").rsplit("/", 1)[-1])
    return "", filename, headers.get("content-type", ""), intake.spool.reader(), intake.raw_sha256
