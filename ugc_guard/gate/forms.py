"""Reading the small bodies the gate accepts: capped URL-encoded forms and JSON objects."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import Receive

from ..problems import Problem

__all__ = ["FORM_LIMIT", "body_kind", "parse_form", "parse_json", "read_body"]

FORM_LIMIT = 64 * 1024
MAX_FIELDS = 30


def body_kind(headers: Headers) -> str | None:
    """Return ``form`` or ``json`` from the Content-Type, or None for anything else."""
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media == "application/json":
        return "json"
    return None


async def read_body(receive: Receive, headers: Headers, limit: int = FORM_LIMIT) -> bytes:
    """Return the request body; raises Problem ``form-too-large`` (413) past ``limit`` bytes.

    A declared Content-Length over the limit is refused before reading; the bytes are counted anyway.
    """
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        if not declared.isdigit():
            raise Problem("invalid-request", "Content-Length is not a number")
        raise Problem("form-too-large", f"form posts here are limited to {limit // 1024} KiB")
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


def parse_json(body: bytes) -> dict[str, Any]:
    """Return a JSON object body; raises Problem ``invalid-request`` for anything else."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Problem("invalid-request", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Problem("invalid-request", "the JSON body must be an object")
    return data
