"""Strict CBOR decoding for untrusted presentations, with :mod:`cbor2` doing the decoding.

The limits are set on cbor2 itself: nesting depth, no indefinite-length items, no duplicate map keys,
no trailing bytes. Only the tags an mdoc uses survive: 24 (embedded CBOR, kept as its bytes so
digests and signatures are checked over exactly what was signed), 0 (date-time text) and 1004 (full
date text). Every other tag, including cbor2's own semantic ones (shared references, sets, big
numbers, string references), is refused. Anything wrong is :class:`AgeProofError` ``malformed``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

import cbor2

from .errors import AgeProofError, Reason

__all__ = [
    "DateText", "Embedded", "FullDateText", "as_bytes", "as_embedded", "as_int", "as_list", "as_map", "as_text", "decode", "get",
]  # fmt: skip

MAX_DEPTH = 12
"""An mdoc DeviceResponse nests 8 deep at most (documents, issuerSigned, issuerAuth, headers, x5chain)."""

T = TypeVar("T")


class Embedded(bytes):
    """The bytes inside a tag 24 (``#6.24(bstr .cbor X)``); decode them with :func:`decode`."""

    def tagged(self) -> bytes:
        """Return the encoding of the tag 24 item itself (what the issuer's value digests cover)."""
        return cbor2.dumps(cbor2.CBORTag(24, bytes(self)))


class DateText(str):
    """The text of a tag 0 date-time (RFC 3339)."""


class FullDateText(str):
    """The text of a tag 1004 full date (YYYY-MM-DD)."""


class _Refused(Exception):
    pass


def _keep(kind: Callable[[Any], T], base: type) -> Callable[[Any, bool], T]:
    def hook(value: Any, immutable: bool) -> T:
        if not isinstance(value, base):
            raise _Refused(f"a tag holds a {type(value).__name__}, not a {base.__name__}")
        return kind(value)

    return hook


def _refuse_tag(value: Any, immutable: bool) -> Any:
    raise _Refused("a CBOR tag this format does not use")


def _refuse_unknown(tag: cbor2.CBORTag, immutable: bool) -> Any:
    raise _Refused(f"CBOR tag {tag.tag}, which this format does not use")


# cbor2's built-in semantic tags (found by probing 0..70000); each is refused unless the mdoc uses it.
_BUILTIN_TAGS = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004, 43000, 55799)
_SEMANTIC: dict[int, Any] = {tag: _refuse_tag for tag in _BUILTIN_TAGS}
_SEMANTIC |= {24: _keep(Embedded, bytes), 0: _keep(DateText, str), 1004: _keep(FullDateText, str)}


def decode(data: bytes, what: str) -> Any:
    """Return the one CBOR item in ``data``; ``what`` names it in the error.

    Raises :class:`AgeProofError` ``malformed`` for anything but exactly one well-formed item within
    the limits above.
    """
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream, tag_hook=_refuse_unknown, semantic_decoders=_SEMANTIC, max_depth=MAX_DEPTH,
        allow_indefinite=False, allow_duplicate_keys=False,
    )  # fmt: skip
    try:
        item = decoder.decode()
    except (cbor2.CBORError, _Refused, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as error:
        cause = error.__cause__ if isinstance(error.__cause__, _Refused) else error
        raise AgeProofError(Reason.malformed, f"{what} is not valid CBOR ({_short(cause)})") from None
    if stream.tell() != len(data):
        raise AgeProofError(Reason.malformed, f"{what} has {len(data) - stream.tell()} bytes after its CBOR item")
    return item


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:120]


def get(mapping: dict[Any, Any], key: Any, kind: Callable[[Any, str], T], where: str) -> T:
    """Return ``mapping[key]`` checked by ``kind`` (one of the ``as_*`` functions); raises ``malformed`` when absent."""
    if key not in mapping:
        raise AgeProofError(Reason.malformed, f"{where} has no {key!r}")
    return kind(mapping[key], f"{where}.{key}")


def as_map(value: Any, where: str) -> dict[Any, Any]:
    """Return ``value`` if it is a CBOR map; raises ``malformed`` naming ``where`` otherwise."""
    return _typed(value, dict, "a map", where)


def as_list(value: Any, where: str) -> list[Any]:
    """Return ``value`` if it is a CBOR array; raises ``malformed`` otherwise."""
    return _typed(value, list, "an array", where)


def as_bytes(value: Any, where: str) -> bytes:
    """Return ``value`` if it is a byte string (not an embedded tag 24); raises ``malformed`` otherwise."""
    if isinstance(value, Embedded):
        raise AgeProofError(Reason.malformed, f"{where} must be a byte string, not a tag 24 item")
    return _typed(value, bytes, "a byte string", where)


def as_text(value: Any, where: str) -> str:
    """Return ``value`` if it is a plain text string; raises ``malformed`` otherwise."""
    if isinstance(value, DateText | FullDateText):
        raise AgeProofError(Reason.malformed, f"{where} must be plain text, not a tagged date")
    return _typed(value, str, "a text string", where)


def as_int(value: Any, where: str) -> int:
    """Return ``value`` if it is an integer (not a boolean); raises ``malformed`` otherwise."""
    if isinstance(value, bool):
        raise AgeProofError(Reason.malformed, f"{where} must be an integer, not a boolean")
    return _typed(value, int, "an integer", where)


def as_embedded(value: Any, where: str) -> Embedded:
    """Return ``value`` if it is a tag 24 item; raises ``malformed`` otherwise."""
    return _typed(value, Embedded, "a tag 24 embedded CBOR item", where)


def _typed(value: Any, kind: type[T], name: str, where: str) -> T:
    if not isinstance(value, kind):
        raise AgeProofError(Reason.malformed, f"{where} must be {name}, not {_kind_of(value)}")
    return value


def _kind_of(value: Any) -> str:
    return {dict: "a map", list: "an array", bytes: "a byte string", str: "a text string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)  # fmt: skip
