"""RFC 8785 JSON Canonicalization Scheme (JCS) for the values a receipt holds.

Receipts hold objects, arrays, strings, integers, booleans and null — never floats — so this is
the part of JCS that applies: object members sorted by the UTF-16 code units of their names,
no whitespace, strings escaped as ECMAScript's ``JSON.stringify`` does (only ``"``, ``\\`` and
control characters; ``\\b \\t \\n \\f \\r`` short, the rest ``\\u00xx`` lowercase), integers in
plain decimal, UTF-8 output. Integers beyond ±(2^53 − 1) and lone surrogates are refused: I-JSON
(RFC 7493), which JCS builds on, does not carry them exactly.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["canonical_json"]

MAX_SAFE_INTEGER = 2**53 - 1
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_ESCAPES = {chr(code): _SHORT.get(chr(code), f"\\u{code:04x}") for code in range(0x20)} | {'"': '\\"', "\\": "\\\\"}
_TABLE = {ord(character): escaped for character, escaped in _ESCAPES.items()}
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\]')


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``.

    Raises :class:`TypeError` for floats and values JSON has no form for, and :class:`ValueError`
    for integers outside ±(2^53 − 1), lone surrogates and non-string object keys.
    """
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate, which canonical JSON cannot carry") from None


def _write(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside the exactly representable range ±(2^53 - 1)")
        parts.append(str(int(value)))
    elif isinstance(value, float):
        raise TypeError("receipts hold no floats (use integers or strings)")
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("object member names must be strings")
        parts.append("{")
        for index, key in enumerate(sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))):
            if index:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _write(value[key], parts)
        parts.append("}")
    else:
        raise TypeError(f"{type(value).__name__} has no JSON form")


def _string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:  # the usual case (ids, hashes, base64): one C-level scan
        return '"' + text + '"'
    return '"' + text.translate(_TABLE) + '"'
