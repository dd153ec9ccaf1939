"""A ledger entry as a receipt carries it, and the hash that binds it to the chain and the tree.

The entry hash is the SHA-256 of ``ugc-ledger/1\\n<header>\\n<body>`` (see
``ugc_guard.ledger.canonical``): ``header`` is the compact JSON array of the entry's columns in
:data:`HEADER_FIELDS` order (non-ASCII kept as UTF-8), ``body`` the stored canonical payload text,
verbatim. The Merkle leaf of the entry is ``SHA-256(0x00 || entry hash as 32 bytes)``, at leaf
index ``position - 1``: the leaf depends only on the hash, so destroying a subject's key (which
makes sealed fields in the body unreadable, but leaves the ciphertext) changes no proof.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .merkle import leaf_hash

__all__ = ["ENTRY_FIELDS", "HEADER_FIELDS", "EntryError", "check_entry", "entry_hash", "entry_leaf"]

PREFIX = b"ugc-ledger/1\n"
HEADER_FIELDS = (
    "entry_id",
    "campaign",
    "position",
    "previous_hash",
    "kind",
    "subject",
    "recorded_at",
    "ref",
    "content_sha256",
    "terms_version",
    "status",
)
ENTRY_FIELDS = (*HEADER_FIELDS, "body", "hash", "summary", "inclusion")
_TYPES: dict[str, tuple[type, ...]] = {
    "entry_id": (int,),
    "campaign": (str,),
    "position": (int,),
    "previous_hash": (str,),
    "kind": (str,),
    "subject": (str, type(None)),
    "recorded_at": (str,),
    "ref": (int, type(None)),
    "content_sha256": (str, type(None)),
    "terms_version": (str, type(None)),
    "status": (str, type(None)),
    "body": (str,),
    "hash": (str,),
    "summary": (dict,),
    "inclusion": (list,),
}
_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_sorted = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode  # 1 and true differ here, not under ==


class EntryError(ValueError):
    """An entry in a receipt is malformed or does not match its hash; the message says which field."""


def entry_hash(entry: Mapping[str, Any]) -> str:
    """Return the lowercase hex entry hash recomputed from the entry's header fields and body."""
    header = _compact([entry[name] for name in HEADER_FIELDS])
    return hashlib.sha256(PREFIX + header.encode() + b"\n" + entry["body"].encode()).hexdigest()


def entry_leaf(digest: str) -> bytes:
    """Return the Merkle leaf hash of an entry with hex hash ``digest``."""
    return leaf_hash(bytes.fromhex(digest))


def check_entry(entry: Any, where: str) -> dict[str, Any]:
    """Check one receipt entry's fields, its hash and that its summary repeats its payload; return
    the payload (the parsed body). Raises :class:`EntryError` naming ``where`` and the field."""
    if not isinstance(entry, dict):
        raise EntryError(f"{where}: not an object")
    for name in ENTRY_FIELDS:
        value = entry.get(name)
        if name not in entry or not isinstance(value, _TYPES[name]) or isinstance(value, bool):
            raise EntryError(f"{where}: field {name} is missing or not a {_TYPES[name][0].__name__}")
    if entry["position"] < 1:
        raise EntryError(f"{where}: position must be 1 or more")
    recomputed = entry_hash(entry)
    if recomputed != entry["hash"]:
        raise EntryError(f"{where}: the entry does not match its hash (a field or the body was changed)")
    try:
        payload = json.loads(entry["body"])
    except json.JSONDecodeError:
        raise EntryError(f"{where}: body is not JSON") from None
    if not isinstance(payload, dict):
        raise EntryError(f"{where}: body is not a JSON object")
    for key, value in entry["summary"].items():
        if key == "sealed" or key not in payload or _sorted(payload[key]) != _sorted(value):
            raise EntryError(f"{where}: summary field {key} is not what the entry's body records")
    return payload
