"""Reading the small bodies the gate accepts: capped URL-encoded forms and JSON objects.

Every way a body can be wrong is a 4xx problem, never an exception that becomes a 500: a body over
the limit (declared or counted, chunked or not) is 413 ``form-too-large``; a Content-Length that is
not a plain decimal or that the bytes do not match, invalid UTF-8, a malformed form, and JSON that
is not one flat-enough object of ordinary values (deep nesting, huge or non-finite numbers, lone
surrogates, a key given twice, a top-level array or string) are 400 ``invalid-request``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import Receive

from ..problems import Problem

__all__ = ["FORM_LIMIT", "MAX_JSON_DEPTH", "birth_date_field", "body_kind", "parse_form", "parse_json", "read_body"]

FORM_LIMIT = 64 * 1024
MAX_FIELDS = 30
MAX_JSON_DEPTH = 8
"""The gate's JSON bodies are one object of scalars and short lists: depth 2. Deeper is refused unread."""
MAX_NUMBER_LENGTH = 32
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")
_JSON_MARKS = re.compile(rb'[\[\]{}"\\]')


def body_kind(headers: Headers) -> str | None:
    """Return ``form`` or ``json`` from the Content-Type, or None for anything else."""
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media == "application/json":
        return "json"
    return None


def _declared_length(headers: Headers, limit: int) -> int | None:
    values = {value.strip() for value in headers.getlist("content-length")}
    if not values:
        return None
    if len(values) > 1:
        raise Problem("invalid-request", "the request has conflicting Content-Length headers")
    value = values.pop()
    if not _CONTENT_LENGTH.fullmatch(value):
        raise Problem("invalid-request", "Content-Length is not a decimal number")
    if int(value) > limit:
        raise Problem("form-too-large", f"form posts here are limited to {limit // 1024} KiB")
    return int(value)


async def read_body(receive: Receive, headers: Headers, limit: int = FORM_LIMIT) -> bytes:
    """Return the request body.

    Raises Problem ``form-too-large`` (413) when the declared length or the bytes counted so far
    (chunked bodies included) pass ``limit``; ``invalid-request`` (400) for a Content-Length that is
    not a plain decimal, conflicting Content-Length headers, a body that does not match its declared
    length, or a client that went away before the end.
    """
    declared = _declared_length(headers, limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem("invalid-request", "the client went away before the body arrived")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Problem("form-too-large", f"form posts here are limited to {limit // 1024} KiB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if declared is not None and size != declared:
        raise Problem("invalid-request", f"the body has {size} bytes but Content-Length says {declared}")
    return b"".join(chunks)


def parse_form(body: bytes) -> dict[str, str]:
    """Return the fields of a URL-encoded body; raises Problem ``invalid-request`` if malformed.

    Malformed: not UTF-8, more than 30 fields, a field without ``=`` or a field given twice.
    """
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Problem("invalid-request", "the form body is not valid URL-encoded UTF-8 (or has too many fields)") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise Problem("invalid-request", f"the form field {name!r} is given twice")
        fields[name] = value
    return fields


class _Refused(ValueError):
    """A JSON value the gate does not take (the message is the problem detail)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"the JSON member {key[:40]!r} is given twice")
        result[key] = value
    return result


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_LENGTH:
        raise _Refused(f"JSON numbers here have at most {MAX_NUMBER_LENGTH} digits")
    return int(text)


def _number(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_LENGTH else math.inf
    if not math.isfinite(value):
        raise _Refused("JSON numbers here must be finite and at most 32 characters long")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def _depth_within(body: bytes, limit: int) -> bool:
    """Return whether arrays and objects nest at most ``limit`` deep (one linear pass; strings skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return True
    depth, in_string, skip = 0, False, -1
    for mark in _JSON_MARKS.finditer(body):
        position = mark.start()
        if position == skip:
            continue
        char = body[position]
        if in_string:
            if char == 0x5C:  # a backslash escapes the next byte, a quote included
                skip = position + 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in b"[{":
            depth += 1
            if depth > limit:
                return False
        elif char in b"]}":
            depth -= 1
    return True


def _check_text(value: Any) -> None:
    """Raise :class:`_Refused` for a string anywhere in ``value`` that is not encodable text (a lone surrogate)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused("JSON strings must be valid Unicode text (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def parse_json(body: bytes) -> dict[str, Any]:
    """Return a JSON object body (UTF-8, RFC 8259); raises Problem ``invalid-request`` for anything else.

    Refused besides malformed JSON: invalid UTF-8 or a byte-order mark, nesting deeper than
    :data:`MAX_JSON_DEPTH` (checked before parsing), numbers over 32 characters, ``NaN`` and
    ``Infinity``, overflowing floats such as ``1e999999``, lone surrogates, a member given twice, and
    a top-level value that is not an object.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem("invalid-request", "the JSON body is not valid UTF-8") from None
    if not _depth_within(body, MAX_JSON_DEPTH):
        raise Problem("invalid-request", f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_integer, parse_float=_number, parse_constant=_constant)
        _check_text(data)
    except _Refused as refused:
        raise Problem("invalid-request", str(refused)) from None
    except (ValueError, RecursionError):
        raise Problem("invalid-request", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Problem("invalid-request", "the JSON body must be an object")
    return data


def birth_date_field(form: dict[str, str]) -> str | None:
    """Return the birth date of a form as ``YYYY-MM-DD`` text for :func:`ugc_guard.rules.age.parse_birth_date`.

    The terms page asks for day, month and year in three number fields (``birth_day``, ``birth_month``,
    ``birth_year``), which look and behave the same in every browser, unlike ``<input type=date>``;
    a form with ``birth_date`` (``YYYY-MM-DD``) is taken as it is. Anything that is not three numbers
    comes back as given, so the age rules refuse it with ``birth-date-format``; all empty is ``""``.
    """
    parts = [form.get(name, "").strip() for name in ("birth_day", "birth_month", "birth_year")]
    if not any(parts):
        return form.get("birth_date")
    day, month, year = parts
    numbers = (day + month + year).isascii() and day.isdecimal() and month.isdecimal() and year.isdecimal()
    if not (numbers and len(day) <= 2 and len(month) <= 2 and len(year) == 4):
        return f"{year}-{month}-{day}?"
    return f"{year}-{int(month):02d}-{int(day):02d}"
