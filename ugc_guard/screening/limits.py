"""Counting an upload against its route's limits as the bytes arrive.

Sizes of the body and of files give 413 ``upload-too-large``; counts, field sizes, part headers and
structure give 400 ``malformed-upload`` (the hostile-upload table in the domain notes, section 6,
asks for a fast 400 for a huge non-file field and for oversized part headers).
"""

from __future__ import annotations

from ..policy.uploads import UploadLimits
from ..problems import Problem

__all__ = ["PREAMBLE_LIMIT", "Budget", "check_declared_length"]

PREAMBLE_LIMIT = 1024
"""Bytes tolerated before the first boundary (browsers and curl send none)."""


def check_declared_length(content_length: str | None, limits: UploadLimits) -> int | None:
    """Return the declared length, refusing at once when it is above the limit or not a number.

    The declared length is only ever used to refuse early: the bytes are counted as they arrive.
    """
    if content_length is None:
        return None
    value = content_length.strip()
    if not value.isdigit() or len(value) > 19:
        raise Problem("malformed-upload", "the Content-Length header is not a number")
    declared = int(value)
    if declared > limits.max_total_bytes:
        raise Problem("upload-too-large", f"the body is {declared} bytes; this route accepts at most {limits.max_total_bytes}")
    return declared


class Budget:
    """Running totals for one upload; every method raises :class:`Problem` once a limit is passed."""

    __slots__ = ("body_bytes", "fields", "files", "limits", "parts")

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.body_bytes = 0
        self.parts = 0
        self.files = 0
        self.fields = 0

    def body(self, size: int) -> None:
        self.body_bytes += size
        if self.body_bytes > self.limits.max_total_bytes:
            raise Problem("upload-too-large", f"the body is larger than {self.limits.max_total_bytes} bytes")

    def part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_files + self.limits.max_fields:
            raise Problem("malformed-upload", f"more than {self.limits.max_files + self.limits.max_fields} parts")

    def file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise Problem("malformed-upload", f"more than {self.limits.max_files} files")

    def field(self) -> None:
        self.fields += 1
        if self.fields > self.limits.max_fields:
            raise Problem("malformed-upload", f"more than {self.limits.max_fields} form fields")

    def file_size(self, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise Problem("upload-too-large", f"a file is larger than {self.limits.max_file_bytes} bytes")

    def field_size(self, size: int) -> None:
        if size > self.limits.max_field_bytes:
            raise Problem("malformed-upload", f"a form field is larger than {self.limits.max_field_bytes} bytes")

    def header_size(self, size: int) -> None:
        if size > self.limits.max_part_header_bytes:
            raise Problem("malformed-upload", f"a part's headers are larger than {self.limits.max_part_header_bytes} bytes")
