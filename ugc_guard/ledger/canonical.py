"""The canonical encoding that every entry's hash covers.

An entry is hashed as the UTF-8 bytes of::

    ugc-ledger/1\\n<header>\\n<body>

``header`` is a compact JSON array (``separators=(",", ":")``, non-ASCII kept as UTF-8) of the
entry's columns in this fixed order::

    [id, campaign, position, previous_hash, kind, subject, recorded_at, ref, content_sha256,
     terms_version, status]

``recorded_at`` is ISO 8601 UTC with microseconds and ``Z`` (``2026-03-01T12:00:00.000000Z``);
absent values are ``null``; ``previous_hash`` is the previous entry's hash in hex (``""`` for the
first entry of a campaign). ``body`` is the entry's payload as canonical JSON: keys sorted, compact
separators, UTF-8, no floats (the payload is built from strings, integers, booleans, lists and
objects only). The body is stored verbatim, so verification never re-serialises it; personal
fields appear in it only as the AES-GCM ciphertext under ``"sealed"``, so destroying a subject's key
changes nothing the hash covers. The entry hash is the lowercase hex SHA-256 of those bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

__all__ = ["PREFIX", "body_json", "entry_hash", "header_json", "header_pieces", "utc_text"]

PREFIX = b"ugc-ledger/1\n"
_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_sorted = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def utc_text(moment: dt.datetime) -> str:
    """Return ``moment`` as canonical UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``); naive means UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def body_json(payload: dict[str, Any]) -> str:
    """Return the canonical JSON text of an entry payload. Raises :class:`TypeError` for floats or
    other values without one exact text form."""
    _reject_floats(payload)
    return _sorted(payload)


def header_json(
    entry_id: int,
    campaign: str,
    position: int,
    previous_hash: str,
    kind: str,
    subject: str | None,
    recorded_at: str,
    ref: int | None,
    content_sha256: str | None,
    terms_version: str | None,
    status: str | None,
) -> str:
    """Return the header line of the canonical encoding (see the module docstring)."""
    return _compact([entry_id, campaign, position, previous_hash, kind, subject, recorded_at, ref, content_sha256, terms_version, status])


def header_pieces(
    entry_id: int, campaign: str, kind: str, subject: str | None, recorded_at: str, ref: int | None,
    content_sha256: str | None, terms_version: str | None, status: str | None,
) -> tuple[str, str]:
    """Return the header's text before and after ``,position,"previous_hash"``, for a writer that
    learns those two only under the chain lock: ``prefix + f',{position},"{previous}"' + suffix``
    equals :func:`header_json`."""
    prefix = f"[{entry_id}," + _compact(campaign)
    suffix = "," + _compact([kind, subject, recorded_at, ref, content_sha256, terms_version, status])[1:]
    return prefix, suffix


def entry_hash(header: str, body: str) -> str:
    """Return the hex SHA-256 of ``PREFIX + header + "\\n" + body``."""
    digest = hashlib.sha256(PREFIX)
    digest.update(header.encode())
    digest.update(b"\n")
    digest.update(body.encode())
    return digest.hexdigest()


_LEAVES = frozenset({str, int, bool, type(None)})


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("ledger payloads hold no floats (their text form is not canonical); use integers or strings")
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return
    for item in items:
        if type(item) not in _LEAVES:  # exact types: a str, int… subclass is looked at as before
            _reject_floats(item)
