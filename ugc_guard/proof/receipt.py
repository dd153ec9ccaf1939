"""Checking a signed receipt (``ugc-guard-receipt/2``) with nothing but the receipt and the log's keys.

A receipt is a JSON object::

    {"format": "ugc-guard-receipt/2", "origin": "<log origin>", "entry_id": <the entry it is for>,
     "issued_at": "<UTC>", "entries": [<entry>, ...], "checkpoint": "<signed note>",
     "signature": "<detached compact JWS over the canonical JSON of every other member>"}

Each entry carries the ledger columns its hash covers, its stored ``body`` verbatim, its ``hash``,
a ``summary`` (members of the body repeated for people) and ``inclusion``, the base64 audit path
from its leaf (index ``position - 1``) to the checkpoint's root. See docs/evidence.md.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .entries import EntryError, check_entry, entry_leaf
from .jcs import canonical_json, parse_json
from .jws import SignatureError, verify_detached
from .keys import PublicKey
from .merkle import ProofError, verify_consistency, verify_inclusion
from .note import Checkpoint, NoteError, parse_checkpoint, verify_note

__all__ = ["FORMAT", "ReceiptError", "Verified", "signed_part", "verify_checkpoint", "verify_receipt"]

FORMAT = "ugc-guard-receipt/2"
_MEMBERS: dict[str, type] = {"format": str, "origin": str, "entry_id": int, "issued_at": str, "entries": list, "checkpoint": str, "signature": str}


class ReceiptError(ValueError):
    """A receipt does not verify; the one-line message says what failed."""


@dataclass(frozen=True, slots=True)
class Verified:
    """What a valid receipt proves: entry ``entry_id`` (of ``kind``) and ``entries`` in all are in the
    log ``origin`` at or before the signed tree ``checkpoint``; ``kid`` signed the receipt."""

    origin: str
    entry_id: int
    kind: str
    entries: int
    checkpoint: Checkpoint
    kid: str


def signed_part(receipt: dict[str, Any]) -> bytes:
    """Return the bytes the receipt's signature covers: the RFC 8785 canonical JSON of every member but ``signature``."""
    return canonical_json({key: value for key, value in receipt.items() if key != "signature"})


def verify_checkpoint(note: str, origin: str | None, keys: Sequence[PublicKey]) -> Checkpoint:
    """Check a checkpoint's signed note against ``keys`` (as note keys named by its origin); return the checkpoint.
    Raises :class:`ReceiptError` when it is malformed, from another log than ``origin`` or not signed by a key."""
    try:
        claimed = parse_checkpoint(note.partition("\n\n")[0] + "\n")
        if origin is not None and claimed.origin != origin:
            raise ReceiptError(f"checkpoint: it is for log {claimed.origin!r}, not {origin!r}")
        text, _ = verify_note(note, [key.note_key(claimed.origin) for key in keys])
        return parse_checkpoint(text)
    except NoteError as error:
        raise ReceiptError(f"checkpoint: {error}") from None


def _hashes(values: Any, where: str) -> list[bytes]:
    if not isinstance(values, list):
        raise ReceiptError(f"{where}: must be a list of base64 hashes")
    hashes = []
    for value in values:
        try:
            digest = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except binascii.Error:
            digest = b""
        if len(digest) != 32:
            raise ReceiptError(f"{where}: every hash must be 32 bytes in standard base64")
        hashes.append(digest)
    return hashes


def verify_receipt(receipt: Any, keys: Sequence[PublicKey], *, newer: str | None = None, consistency: Any = None) -> Verified:
    """Check every part of a receipt (dict or JSON text) against the log's ``keys``; return what it proves.

    With ``newer`` (a later signed checkpoint of the same log) the receipt's checkpoint must be
    consistent with it, shown by ``consistency`` (the JSON of ``GET …/proof/consistency?from=&to=``):
    a newer checkpoint alone cannot show that the log kept the receipt's entries.
    Raises :class:`ReceiptError` with a one-line reason.
    """
    if isinstance(receipt, str | bytes):
        try:
            receipt = parse_json(receipt)
        except ValueError as error:
            raise ReceiptError(f"the receipt is not JSON: {error}") from None
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise ReceiptError(f"not a signed receipt: format must be {FORMAT!r}")
    for name, kind in _MEMBERS.items():
        if not isinstance(receipt.get(name), kind) or isinstance(receipt.get(name), bool):
            raise ReceiptError(f"receipt member {name} is missing or not a {kind.__name__}")
    checkpoint = verify_checkpoint(receipt["checkpoint"], receipt["origin"], keys)
    entries = receipt["entries"]
    if not entries or not isinstance(entries[0], dict) or entries[0].get("entry_id") != receipt["entry_id"]:
        raise ReceiptError("entries: the first entry must be the one the receipt is for (entry_id)")
    by_position: dict[int, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        where = f"entries[{index}] (entry {entry.get('entry_id') if isinstance(entry, dict) else '?'})"
        try:
            check_entry(entry, where)
        except EntryError as error:
            raise ReceiptError(str(error)) from None
        if entry["position"] > checkpoint.size:
            raise ReceiptError(f"{where}: position {entry['position']} is beyond the checkpoint's {checkpoint.size} entries")
        if entry["campaign"] != entries[0]["campaign"]:
            raise ReceiptError(f"{where}: from another campaign than the receipt's entry")
        path = _hashes(entry["inclusion"], f"{where} inclusion")
        try:
            verify_inclusion(entry_leaf(entry["hash"]), entry["position"] - 1, checkpoint.size, path, checkpoint.root)
        except (ProofError, ValueError) as error:
            raise ReceiptError(f"{where}: {error}") from None
        by_position[entry["position"]] = entry
    for position, entry in by_position.items():
        before = by_position.get(position - 1)
        if before is not None and entry["previous_hash"] != before["hash"]:
            raise ReceiptError(f"entry {entry['entry_id']}: previous_hash is not the hash of entry {before['entry_id']}")
    try:
        key = verify_detached(receipt["signature"], signed_part(receipt), keys)
    except (SignatureError, TypeError, ValueError) as error:
        raise ReceiptError(str(error)) from None
    if newer is not None:
        check_newer(checkpoint, newer, consistency, keys)
    return Verified(receipt["origin"], receipt["entry_id"], entries[0]["kind"], len(entries), checkpoint, key.kid)


def check_newer(checkpoint: Checkpoint, newer: str, consistency: Any, keys: Sequence[PublicKey]) -> Checkpoint:
    """Check that signed checkpoint ``newer`` is of the same log and consistent with ``checkpoint``
    (via the ``consistency`` proof JSON unless the sizes are equal); return it. Raises :class:`ReceiptError`."""
    later = verify_checkpoint(newer, checkpoint.origin, keys)
    low, high = sorted((checkpoint, later), key=lambda item: item.size)
    proof: list[bytes] = []
    if low.size != high.size:
        if not isinstance(consistency, dict):
            raise ReceiptError(
                f"a checkpoint of another size needs a consistency proof from {low.size} to {high.size} "
                f"(GET …/proof/consistency?from={low.size}&to={high.size})"
            )
        if consistency.get("from") != low.size or consistency.get("to") != high.size:
            raise ReceiptError(f"the consistency proof is not from {low.size} to {high.size}")
        proof = _hashes(consistency.get("proof"), "consistency proof")
    try:
        verify_consistency(low.size, high.size, low.root, high.root, proof)
    except ProofError as error:
        raise ReceiptError(f"the log is not consistent with the receipt's checkpoint: {error}") from None
    return later
