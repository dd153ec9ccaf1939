"""Streaming multipart/form-data: python-multipart's parser, fed chunk by chunk, under a budget.

The body itself goes to the :class:`~.spool.BodySpool` unchanged (for a byte-exact replay); this
module finds where each file part's data lies in it, hashes that data as it passes and keeps the
(small, bounded) non-file fields in memory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ..problems import Problem
from .limits import PREAMBLE_LIMIT, Budget
from .spool import BodySpool

__all__ = ["MultipartReader", "Part", "boundary_of", "filename_of"]

# RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending in a space.
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
MAX_CONTENT_TYPE = 1024


def boundary_of(content_type: str | None) -> bytes:
    """Return the boundary of a multipart/form-data Content-Type; raise :class:`Problem` otherwise."""
    if not content_type or len(content_type) > MAX_CONTENT_TYPE:
        raise Problem("malformed-upload", "send the upload as multipart/form-data with a boundary")
    media_type, options = parse_options_header(content_type)
    if media_type != b"multipart/form-data":
        raise Problem("malformed-upload", "this route takes multipart/form-data")
    boundary = options.get(b"boundary", b"")
    if not _BOUNDARY.fullmatch(boundary):
        raise Problem("malformed-upload", "the multipart boundary must be 1 to 70 characters allowed by RFC 2046")
    return boundary


@dataclass(eq=False)
class Part:
    """One form part: a file (its data located in the spool) or a field (its value in memory)."""

    index: int
    name: str = ""
    filename: str | None = None
    content_type: str = ""
    offset: int = 0
    """Where the part's data starts in the spooled body (files only); an empty part is the empty range at 0."""
    length: int = 0
    value: bytearray = field(default_factory=bytearray)
    hasher: Any = None

    @property
    def is_file(self) -> bool:
        return self.filename is not None


class MultipartReader:
    """Feed body chunks with :meth:`feed`; after :meth:`finish`, :attr:`parts` holds every part."""

    def __init__(self, boundary: bytes, budget: Budget, spool: BodySpool, file_field: str | None) -> None:
        self.budget = budget
        self.spool = spool
        self.file_field = file_field
        self.parts: list[Part] = []
        self.ended = False
        self._preamble_limit = PREAMBLE_LIMIT + len(boundary) + 4
        self._opening = b""
        """The body's first bytes, until a part begins: the first delimiter must be among them."""
        self._part: Part | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._header_bytes = 0
        self._chunk: bytes = b""
        self._base = 0
        limit = budget.limits.max_part_header_bytes
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_end": self._on_end,
            },
            max_header_count=32,
            max_header_size=limit,
        )

    def feed(self, chunk: bytes) -> None:
        """Parse one received chunk (already counted and queued to the spool by the caller)."""
        if not self.parts:  # also when the whole body, preamble and all, comes in one chunk
            delimiter = b"--" + self._parser.boundary[4:]
            wanted = PREAMBLE_LIMIT + len(delimiter)
            self._opening += chunk[: wanted - len(self._opening)]
            if len(self._opening) >= wanted and delimiter not in self._opening:
                raise Problem("malformed-upload", "the multipart body does not start with its boundary")
        self._chunk = chunk
        try:
            self._parser.write(chunk)
        except FormParserError as error:
            raise Problem("malformed-upload", f"the multipart body is malformed ({error})") from None
        finally:
            self._base += len(chunk)
        if not self.parts and self._base > self._preamble_limit:
            raise Problem("malformed-upload", "the multipart body does not start with its boundary")

    def finish(self) -> list[Part]:
        """Return the parts once the closing boundary was seen; refuse a truncated body."""
        if not self.ended:
            raise Problem("malformed-upload", "the multipart body ended before its closing boundary")
        return self.parts

    def _on_part_begin(self) -> None:
        if self.ended:
            return
        self.budget.part()
        self._part = Part(index=len(self.parts))
        self.parts.append(self._part)
        self._headers = []
        self._header_bytes = 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._grow_header(self._header_field, data, start, end)

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow_header(self._header_value, data, start, end)

    def _grow_header(self, target: bytearray, data: bytes, start: int, end: int) -> None:
        self._header_bytes += end - start
        self.budget.header_size(self._header_bytes)
        target += data[start:end]

    def _on_header_end(self) -> None:
        self._header_bytes += 4  # ": " and CRLF
        self.budget.header_size(self._header_bytes)
        self._headers.append((bytes(self._header_field).lower(), bytes(self._header_value)))
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        if part is None:  # pragma: no cover - the parser always begins a part first
            raise Problem("malformed-upload", "part data before any part")
        headers = dict(self._headers)
        if len(headers) != len(self._headers):
            raise Problem("malformed-upload", "a part repeats a header")
        disposition, options = parse_options_header(headers.get(b"content-disposition", b"").decode("latin-1"))
        if disposition != b"form-data" or b"name" not in options:
            raise Problem("malformed-upload", "every part needs Content-Disposition: form-data with a name")
        part.name = _text(options[b"name"])
        part.filename = _filename(options)
        part.content_type = parse_options_header(headers.get(b"content-type", b"").decode("latin-1"))[0].decode("latin-1")
        if part.is_file:
            self.budget.file()
            if self.file_field is not None and part.name != self.file_field:
                raise Problem("malformed-upload", f"files are only accepted in the form field {self.file_field!r}")
            part.hasher = hashlib.sha256()
        else:
            self.budget.field()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part is None or self.ended:
            return
        size = end - start
        if not part.is_file:
            self.budget.field_size(len(part.value) + size)
            part.value += data[start:end]
            return
        # Data comes from this chunk, or (when a partial boundary turned out to be data) from the
        # parser's look-behind: bytes that immediately precede this chunk in the body.
        if data is self._chunk:
            where, view = self._base + start, memoryview(data)[start:end]
        else:
            where, view = self._base - size, memoryview(bytes(data[start:end]))
        if part.length == 0:
            part.offset = where
        elif where != part.offset + part.length:  # pragma: no cover - guards the offset bookkeeping
            raise Problem("malformed-upload", "the multipart body could not be followed")
        part.length += size
        self.budget.file_size(part.length)
        self.spool.queue_hash(part.hasher, view, where)

    def _on_end(self) -> None:
        self.ended = True


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _filename(options: dict[bytes, bytes]) -> str | None:
    """Return the file name (RFC 5987 ``filename*`` first), or None for a non-file field."""
    extended = options.get(b"filename*")
    if extended is not None:
        charset, _, rest = extended.decode("latin-1").partition("'")
        _language, _, encoded = rest.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            return unquote(encoded, encoding="utf-8", errors="replace")
    plain = options.get(b"filename")
    return None if plain is None else _text(plain)


def filename_of(disposition: str) -> str | None:
    """Return the file name of a Content-Disposition header value (None when it names none)."""
    if not disposition or len(disposition) > MAX_CONTENT_TYPE:
        return None
    return _filename(parse_options_header(disposition)[1])
